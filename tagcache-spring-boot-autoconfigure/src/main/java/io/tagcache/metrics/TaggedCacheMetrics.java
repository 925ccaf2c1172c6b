package io.tagcache.metrics;

import java.util.List;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.binder.cache.CacheMeterBinder;
import io.tagcache.TaggedCache;
import io.tagcache.TaggedCacheStatistics;
import org.jspecify.annotations.Nullable;

/**
 * The meters of one {@link TaggedCache}, read from its in-memory
 * {@link TaggedCache#getStatistics() statistics} whenever the registry is scraped: reading them
 * costs the cache nothing, and nothing here ever talks to Redis.
 *
 * <p>The standard cache meters come from {@link CacheMeterBinder}, so dashboards built for any
 * cache work unchanged: {@code cache.gets} ({@code result=hit|miss}), {@code cache.puts} and
 * {@code cache.evictions} (entries removed by key or by {@code clear}). There is no
 * {@code cache.size}: counting a Redis cache means walking its keyspace, which a gauge scraped
 * every few seconds must not do. On top come the meters of tags and Redis failures:
 * <ul>
 * <li>{@code tagcache.invalidations}: tag invalidations that reached the cache;</li>
 * <li>{@code tagcache.invalidated.entries}: entries they removed;</li>
 * <li>{@code tagcache.puts.rejected}: fenced writes refused because a tag, the key or the cache
 * was invalidated while the value was being loaded (stale writes prevented);</li>
 * <li>{@code tagcache.errors}, one counter per {@code operation} of
 * {@link TaggedCacheStatistics#OPERATIONS}: Redis failures absorbed instead of reaching the
 * caller.</li>
 * </ul>
 * Every meter carries the tags given to the constructor (Boot's registrar passes {@code name}
 * and {@code cache.manager}) plus {@code cache}; none carries a key or a tag value.
 *
 * <p>The cache is held weakly, as {@link CacheMeterBinder} does, so a binder never keeps a
 * discarded cache alive.
 */
public class TaggedCacheMetrics extends CacheMeterBinder<TaggedCache> {

	/**
	 * Create the meters of a cache.
	 * @param cache the cache
	 * @param tags the tags of every meter, such as {@code cache.manager}
	 */
	public TaggedCacheMetrics(TaggedCache cache, Iterable<Tag> tags) {
		super(cache, cache.getName(), tags);
	}

	/** Unknown: counting entries would walk the Redis keyspace on every scrape. */
	@Override
	protected @Nullable Long size() {
		return null;
	}

	@Override
	protected long hitCount() {
		TaggedCache cache = getCache();
		return (cache != null) ? cache.getStatistics().getHits() : 0;
	}

	@Override
	protected Long missCount() {
		TaggedCache cache = getCache();
		return (cache != null) ? cache.getStatistics().getMisses() : 0L;
	}

	@Override
	protected Long evictionCount() {
		TaggedCache cache = getCache();
		return (cache != null) ? cache.getStatistics().getEvictions() : 0L;
	}

	@Override
	protected long putCount() {
		TaggedCache cache = getCache();
		return (cache != null) ? cache.getStatistics().getPuts() : 0;
	}

	@Override
	protected void bindImplementationSpecificMetrics(MeterRegistry registry) {
		TaggedCache cache = getCache();
		if (cache == null) {
			return;
		}
		FunctionCounter.builder("tagcache.invalidations", cache, c -> c.getStatistics().getInvalidations())
			.tags(getTagsWithCacheName())
			.description("The number of tag invalidations that reached the cache")
			.register(registry);
		FunctionCounter.builder("tagcache.invalidated.entries", cache, c -> c.getStatistics().getInvalidatedEntries())
			.tags(getTagsWithCacheName())
			.description("The number of entries removed from the cache by tag invalidations")
			.register(registry);
		FunctionCounter.builder("tagcache.puts.rejected", cache, c -> c.getStatistics().getRejectedPuts())
			.tags(getTagsWithCacheName())
			.description("The number of fenced writes refused because the value was loaded before an invalidation "
					+ "of one of its tags, its key or the cache")
			.register(registry);
		for (String operation : TaggedCacheStatistics.OPERATIONS) {
			FunctionCounter.builder("tagcache.errors", cache, c -> c.getStatistics().getErrors(operation))
				.tags(getTagsWithCacheName())
				.tag("operation", operation)
				.description("The number of Redis failures absorbed instead of reaching the caller, including calls "
						+ "that skipped Redis while it was unreachable")
				.register(registry);
		}
		for (String reason : List.of("early", "stale")) {
			FunctionCounter.builder("tagcache.refreshes", cache, c -> c.getStatistics().getRefreshes(reason))
				.tags(getTagsWithCacheName())
				.tag("reason", reason)
				.description("The number of entries reloaded while still served: near expiry (early) or after a "
						+ "soft invalidation (stale)")
				.register(registry);
		}
		for (String reason : List.of("revalidate", "error")) {
			FunctionCounter.builder("tagcache.stale.served", cache, c -> c.getStatistics().getStaleServed(reason))
				.tags(getTagsWithCacheName())
				.tag("reason", reason)
				.description("The number of stale values returned: while another caller reloads a soft-invalidated "
						+ "entry (revalidate), or because the reload threw (error)")
				.register(registry);
		}
		FunctionCounter.builder("tagcache.sync.waits", cache, c -> c.getStatistics().getSyncWaits())
			.tags(getTagsWithCacheName())
			.description("The number of synchronized loads that received the value another caller loaded, in this "
					+ "instance or another")
			.register(registry);
		if (cache.getStatistics().hasNearCache()) {
			bindNearCache(registry, cache);
		}
	}

	private void bindNearCache(MeterRegistry registry, TaggedCache cache) {
		for (String result : List.of("hit", "miss")) {
			FunctionCounter.builder("tagcache.near.gets", cache, c -> c.getStatistics().getNearCacheGets(result))
				.tags(getTagsWithCacheName())
				.tag("result", result)
				.description("The number of lookups the near cache answered (hit) or left to Redis (miss)")
				.register(registry);
		}
		Gauge.builder("tagcache.near.size", cache, c -> c.getStatistics().getNearCacheSize())
			.tags(getTagsWithCacheName())
			.description("The number of entries the near cache holds")
			.register(registry);
		FunctionCounter.builder("tagcache.near.clears", cache, c -> c.getStatistics().getNearCacheClears())
			.tags(getTagsWithCacheName())
			.description("The number of times the near cache was cleared because its invalidation channel was lost")
			.register(registry);
	}

}
