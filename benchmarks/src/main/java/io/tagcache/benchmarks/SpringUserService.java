package io.tagcache.benchmarks;

import java.util.concurrent.atomic.LongAdder;

import org.springframework.cache.annotation.Cacheable;

/**
 * The baseline: the same lookup cached with Spring's {@code @Cacheable} on spring-data-redis's
 * {@code RedisCacheManager}, once with its default (deferred) writes and once with immediate writes.
 */
public class SpringUserService {

	private final LongAdder loads = new LongAdder();

	/** How many calls ran the method (missed the cache) since the last reset. */
	public long loads() {
		return this.loads.sum();
	}

	public void resetLoads() {
		this.loads.reset();
	}

	@Cacheable(cacheNames = CacheStacks.CACHE, key = "#id")
	public User user(long id) {
		this.loads.increment();
		return User.of(id);
	}

	@Cacheable(cacheNames = CacheStacks.IMMEDIATE_CACHE, key = "#id", cacheManager = CacheStacks.IMMEDIATE_MANAGER)
	public User userImmediate(long id) {
		this.loads.increment();
		return User.of(id);
	}

}
