package io.tagcache.metrics;

import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.tagcache.TaggedCache;

import org.springframework.boot.cache.metrics.CacheMeterBinderProvider;
import org.springframework.boot.cache.metrics.CacheMetricsRegistrar;

/**
 * Lets Spring Boot's {@link CacheMetricsRegistrar} bind the meters of tagged caches: a
 * {@link CacheMeterBinderProvider} is how Boot learns to instrument a cache type it does not
 * know, for caches present at start-up and (through the registrar) for caches created later.
 *
 * <p>Needs nothing: register it as a bean and Boot's cache metrics auto-configuration collects
 * it with the other providers. The registrar chooses a provider by the cache's type, so this one
 * answers for every {@link TaggedCache}, including a {@code RedisTaggedCache} unwrapped from a
 * transaction-aware decorator.
 *
 * @see TaggedCacheMetrics
 */
public class TaggedCacheMeterBinderProvider implements CacheMeterBinderProvider<TaggedCache> {

	@Override
	public MeterBinder getMeterBinder(TaggedCache cache, Iterable<Tag> tags) {
		return new TaggedCacheMetrics(cache, tags);
	}

}
