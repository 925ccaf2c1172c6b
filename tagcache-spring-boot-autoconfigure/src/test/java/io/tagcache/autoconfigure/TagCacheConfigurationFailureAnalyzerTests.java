package io.tagcache.autoconfigure;

import io.lettuce.core.RedisURI;
import io.tagcache.TagCacheConfigurationException;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.io.support.SpringFactoriesLoader;
import org.springframework.core.io.support.SpringFactoriesLoader.FailureHandler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * A tagcache configuration mistake makes Spring Boot print its "APPLICATION FAILED TO START" report
 * with the mistake and the fix, not an "Unexpected AOP exception" with the reason buried in a
 * later "Caused by".
 */
@ExtendWith(OutputCaptureExtension.class)
class TagCacheConfigurationFailureAnalyzerTests {

	@Test
	void isRegisteredWithSpringBoot() {
		// Boot's own analyzers need constructor arguments: skip those this plain loader cannot create
		assertThat(SpringFactoriesLoader.forDefaultResourceLocation()
			.load(FailureAnalyzer.class, null, FailureHandler.handleMessage((message, failure) -> {
			})))
			.hasAtLeastOneElementOfType(TagCacheConfigurationFailureAnalyzer.class);
	}

	@Test
	void anApplicationWithAMisspeltVariableFailsToStartWithTheMistakeAndTheFix(CapturedOutput output) {
		RedisURI redis = RedisTopology.STANDALONE.nodes().get(0);
		Throwable failure = catchThrowable(() -> new SpringApplicationBuilder(Application.class)
			.web(WebApplicationType.NONE)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties("spring.data.redis.host=" + redis.getHost(), "spring.data.redis.port=" + redis.getPort())
			.run());

		assertThat(failure).isNotNull().isNotInstanceOf(TagCacheConfigurationException.class)
			.hasRootCauseInstanceOf(TagCacheConfigurationException.class);
		FailureAnalysis analysis = new TagCacheConfigurationFailureAnalyzer().analyze(failure);
		assertThat(analysis).isNotNull();
		assertThat(analysis.getDescription())
			.contains("The tag expression ''book-' + #bookID' on " + BookService.class.getName() + ".find(long)")
			.contains("#bookID")
			.contains("its parameters are #bookId");
		assertThat(analysis.getAction()).contains("exact name").contains("#bookId");
		assertThat(output).contains("APPLICATION FAILED TO START")
			.contains("names the variable #bookID")
			.contains("Action:");
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ DataRedisAutoConfiguration.class, TagCacheAutoConfiguration.class })
	@Import(BookService.class)
	static class Application {

	}

	static class BookService {

		@CacheableTagged(cacheNames = "books", tags = "'book-' + #bookID")
		public String find(long bookId) {
			return "book " + bookId;
		}

	}

}
