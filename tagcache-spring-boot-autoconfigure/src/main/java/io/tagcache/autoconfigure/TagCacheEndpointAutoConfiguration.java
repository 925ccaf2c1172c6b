package io.tagcache.autoconfigure;

import io.tagcache.actuate.TagCacheEndpoint;
import io.tagcache.actuate.TagCacheHealthIndicator;
import io.tagcache.http.TagPurges;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * The {@code tagcache} actuator endpoint and health indicator, when the actuator is present.
 */
@AutoConfiguration(after = TagCacheAutoConfiguration.class)
@ConditionalOnClass(ConditionalOnAvailableEndpoint.class)
@ConditionalOnBean(RedisTaggedCacheManager.class)
@Import({ TagCacheEndpointAutoConfiguration.EndpointConfiguration.class,
		TagCacheEndpointAutoConfiguration.HealthConfiguration.class })
public final class TagCacheEndpointAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnAvailableEndpoint(TagCacheEndpoint.class)
	static class EndpointConfiguration {

		@Bean
		@ConditionalOnMissingBean
		TagCacheEndpoint tagCacheEndpoint(RedisTaggedCacheManager cacheManager, ObjectProvider<TagPurges> purges) {
			return new TagCacheEndpoint(cacheManager, purges.getIfAvailable());
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(HealthIndicator.class)
	@ConditionalOnEnabledHealthIndicator("tagcache")
	static class HealthConfiguration {

		@Bean
		@ConditionalOnMissingBean(name = "tagcacheHealthIndicator")
		TagCacheHealthIndicator tagcacheHealthIndicator(RedisTaggedCacheManager cacheManager) {
			return new TagCacheHealthIndicator(cacheManager);
		}

	}

}
