package io.tagcache.benchmarks;

import java.util.concurrent.atomic.LongAdder;

import io.tagcache.annotation.CacheableTagged;

/**
 * The tagcache side: a user lookup cached with {@code @CacheableTagged}. A stored user carries three
 * tags: {@code user-<id>} and {@code loc-<id>} from its {@code @TagEntity} graph, and
 * {@code team-<id % 64>} from the expression.
 */
public class TaggedUserService {

	private final LongAdder loads = new LongAdder();

	/** How many calls ran the method (missed the cache) since the last reset. */
	public long loads() {
		return this.loads.sum();
	}

	public void resetLoads() {
		this.loads.reset();
	}

	@CacheableTagged(cacheNames = CacheStacks.CACHE, key = "#id", tags = "'team-' + (#id % 64)")
	public User user(long id) {
		this.loads.increment();
		return User.of(id);
	}

}
