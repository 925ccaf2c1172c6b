package io.tagcache.autoconfigure;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.ToLongFunction;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.tagcache.UncachedCause;
import io.tagcache.interceptor.TagCacheInterceptor;
import io.tagcache.metrics.TagCacheRedisMetrics;
import io.tagcache.metrics.TagCacheUncachedMetrics;
import io.tagcache.metrics.TaggedCacheManagerMetrics;
import io.tagcache.http.TagPurges;
import io.tagcache.http.UncacheableResponses;
import io.tagcache.metrics.TagCacheHttpMetrics;
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

	@Bean
	@ConditionalOnMissingBean
	TaggedCacheMeterBinderProvider taggedCacheMeterBinderProvider() {
		return new TaggedCacheMeterBinderProvider();
	}

	/**
	 * Binds the meters of every {@link RedisTaggedCacheManager} bean (the auto-configured one or the
	 * application's own), each tagged {@code cache.manager} with its bean name as Boot's cache meters
	 * are: the {@code tagcache.*} meters, a timer of its Redis operations, and Boot's standard meters of
	 * caches it creates after start-up (Boot binds only those that exist when its registrar starts).
	 */
	@Bean
	static TaggedCacheManagersMeterBinder taggedCacheManagersMeterBinder(
			ObjectProvider<Map<String, RedisTaggedCacheManager>> managers, ObjectProvider<TagCacheInterceptor> interceptor,
			ObjectProvider<CacheMetricsRegistrar> registrar) {
		return new TaggedCacheManagersMeterBinder(managers, interceptor, registrar);
	}

	/** The meters of the HTTP edge: purges and responses marked uncacheable, when either is configured. */
	@Bean
	static MeterBinder tagCacheHttpMetrics(ObjectProvider<TagPurges> purges,
			ObjectProvider<UncacheableResponses> headers) {
		return new TagCacheHttpMetrics(purges.getIfAvailable(), headers.getIfAvailable());
	}

	/**
	 * The {@code cache.manager} tag of a manager's meters, derived from its bean name as Boot derives
	 * that of its own cache meters: without a trailing {@code CacheManager} ({@code tagcacheCacheManager}
	 * is {@code tagcache}; {@code cacheManager} stays as it is).
	 */
	static String cacheManagerName(String beanName) {
		String suffix = "CacheManager";
		return (beanName.length() > suffix.length() && beanName.regionMatches(true,
				beanName.length() - suffix.length(), suffix, 0, suffix.length()))
						? beanName.substring(0, beanName.length() - suffix.length()) : beanName;
	}

	/** Binds the meters of each manager when the meter registry binds this binder. */
	static final class TaggedCacheManagersMeterBinder implements MeterBinder {

		private final ObjectProvider<Map<String, RedisTaggedCacheManager>> managers;

		private final ObjectProvider<TagCacheInterceptor> interceptor;

		private final ObjectProvider<CacheMetricsRegistrar> registrar;

		TaggedCacheManagersMeterBinder(ObjectProvider<Map<String, RedisTaggedCacheManager>> managers,
				ObjectProvider<TagCacheInterceptor> interceptor, ObjectProvider<CacheMetricsRegistrar> registrar) {
			this.managers = managers;
			this.interceptor = interceptor;
			this.registrar = registrar;
		}

		@Override
		public void bindTo(MeterRegistry registry) {
			Map<String, RedisTaggedCacheManager> managers = this.managers.getIfAvailable(Map::of);
			managers.forEach((beanName, manager) -> {
				String name = cacheManagerName(beanName);
				List<Tag> tags = List.of(Tag.of("cache.manager", name));
				new TaggedCacheManagerMetrics(manager, tags).bindTo(registry);
				List<ToLongFunction<UncachedCause>> sources = new ArrayList<>();
				sources.add(manager::getUncachedResults);
				if (managers.size() == 1) {
					// the annotations use the one tagged manager
					this.interceptor.ifAvailable((annotations) -> sources.add(annotations::getUncachedResults));
				}
				new TagCacheUncachedMetrics(sources, tags).bindTo(registry);
				manager.addOperationListener(new TagCacheRedisMetrics(registry, tags));
				manager.addCacheCreationListener(cache -> this.registrar
					.ifAvailable(metrics -> metrics.bindCacheToRegistry(cache, Tag.of("cache.manager", name))));
			});
		}

	}

}
