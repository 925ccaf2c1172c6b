package io.tagcache.autoconfigure;

import io.tagcache.TagCacheConfigurationException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Turns a {@link TagCacheConfigurationException} into Spring Boot's "APPLICATION FAILED TO START"
 * report: the mistake and its fix, rather than the chain of exceptions it arrives in (an annotation
 * found invalid while a proxy is created surfaces as "Unexpected AOP exception", with the reason
 * several "Caused by" lines later). Registered in {@code META-INF/spring.factories}.
 */
final class TagCacheConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<TagCacheConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, TagCacheConfigurationException cause) {
		return new FailureAnalysis(cause.getMessage(), cause.getAction(), cause);
	}

}
