package io.tagcache.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.util.Assert;

/**
 * The meters of a {@link RedisTaggedCacheManager} as a whole, which no single cache owns: how it
 * copes with a Redis outage.
 * <ul>
 * <li>{@code tagcache.invalidations.pending} (gauge): invalidations, evictions and clears waiting
 * for Redis to be replayed. Above zero, this instance skips Redis until they are replayed.</li>
 * <li>{@code tagcache.invalidations.overflows} (counter): how many times more invalidations
 * waited than the queue holds, so that the caches they concerned are cleared when Redis
 * returns.</li>
 * </ul>
 * Both read the manager's in-memory state on each scrape and carry the tags given to the
 * constructor, typically {@code cache.manager}.
 *
 * <p>A {@link MeterBinder}: register it as a bean and Boot binds it to every registry.
 */
public final class TaggedCacheManagerMetrics implements MeterBinder {

	private final RedisTaggedCacheManager manager;

	private final Tags tags;

	/**
	 * Create the meters of a manager.
	 * @param manager the manager
	 * @param tags tags added to every meter, typically {@code cache.manager}
	 */
	public TaggedCacheManagerMetrics(RedisTaggedCacheManager manager, Iterable<Tag> tags) {
		Assert.notNull(manager, "Manager must not be null");
		Assert.notNull(tags, "Tags must not be null");
		this.manager = manager;
		this.tags = Tags.of(tags);
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		Gauge.builder("tagcache.invalidations.pending", this.manager, RedisTaggedCacheManager::getPendingInvalidations)
			.tags(this.tags)
			.description("Invalidations waiting for Redis to be replayed; while any wait, this instance skips Redis")
			.register(registry);
		FunctionCounter
			.builder("tagcache.invalidations.overflows", this.manager,
					RedisTaggedCacheManager::getPendingInvalidationOverflows)
			.tags(this.tags)
			.description("How many times the queue of pending invalidations overflowed, so that the caches it "
					+ "concerned are cleared when Redis returns")
			.register(registry);
	}

}
