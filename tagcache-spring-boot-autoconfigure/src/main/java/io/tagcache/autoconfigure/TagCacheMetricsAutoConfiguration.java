package io.tagcache.autoconfigure;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.tagcache.UncachedCause;
import io.tagcache.interceptor.TagCacheInterceptor;
import io.tagcache.metrics.TagCacheRedisMetrics;
import io.tagcache.metrics.TagCacheUncachedMetrics;
import io.tagcache.metrics.TaggedCacheManagerMetrics;
import io.tagcache.metrics.TaggedCacheMeterBinderProvider;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.cache.metrics.CacheMeterBinderProvider;
import org.springframework.boot.cache.metrics.CacheMetricsRegistrar;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer metrics of tagcache: Boot's standard cache meters for our caches (through a
 * {@link CacheMeterBinderProvider}), including caches created after start-up, the
 * {@code tagcache.*} meters, and a timer of Redis operations.
 *
 * <p>Runs before Boot's cache metrics auto-configuration, whose registrar only exists when a
 * binder provider does.
 */
@AutoConfiguration(after = TagCacheAutoConfiguration.class,
		beforeName = "org.springframework.boot.cache.autoconfigure.metrics.CacheMetricsAutoConfiguration")
@ConditionalOnClass({ MeterRegistry.class, CacheMeterBinderProvider.class, RedisTaggedCacheManager.class })
@ConditionalOnBean(RedisTaggedCacheManager.class)
public final class TagCacheMetricsAutoConfiguration {

	/**
	 * The value of the {@code cache.manager} meter tag, as Boot derives it from the bean name of
	 * the auto-configured manager ({@code cacheManager}).
	 */
	static final String CACHE_MANAGER_NAME = "cacheManager";

	@Bean
	@ConditionalOnMissingBean
	TaggedCacheMeterBinderProvider taggedCacheMeterBinderProvider() {
		return new TaggedCacheMeterBinderProvider();
	}

	@Bean
	TaggedCacheManagerMetrics taggedCacheManagerMetrics(RedisTaggedCacheManager cacheManager) {
		return new TaggedCacheManagerMetrics(cacheManager, cacheManagerTags());
	}

	@Bean
	TagCacheUncachedMetrics tagCacheUncachedMetrics(RedisTaggedCacheManager cacheManager,
			ObjectProvider<TagCacheInterceptor> interceptor) {
		List<ToLongFunction<UncachedCause>> sources = new ArrayList<>();
		sources.add(cacheManager::getUncachedResults);
		interceptor.ifAvailable((annotations) -> sources.add(annotations::getUncachedResults));
		return new TagCacheUncachedMetrics(sources, cacheManagerTags());
	}

	/**
	 * Times Redis operations, and binds the meters of caches created on demand after start-up
	 * (Boot binds only the caches that exist when its registrar starts).
	 */
	@Bean
	TaggedCacheManagerCustomizer tagCacheMetricsCustomizer(ObjectProvider<MeterRegistry> registry,
			ObjectProvider<CacheMetricsRegistrar> registrar) {
		return builder -> {
			registry.ifAvailable(meters -> builder.operationListener(new TagCacheRedisMetrics(meters, cacheManagerTags())));
			builder.cacheCreationListener(cache -> registrar
				.ifAvailable(metrics -> metrics.bindCacheToRegistry(cache, Tag.of("cache.manager", CACHE_MANAGER_NAME))));
		};
	}

	private static List<Tag> cacheManagerTags() {
		return List.of(Tag.of("cache.manager", CACHE_MANAGER_NAME));
	}

}
