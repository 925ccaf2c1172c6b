package io.tagcache.redis;

import java.time.Duration;

import org.springframework.util.Assert;

/**
 * Settings of one tagged cache. Immutable: every {@code with...} method returns a new instance.
 */
public final class RedisTaggedCacheConfiguration {

	/** Most shards a cache may be spread over. */
	public static final int MAX_SHARDS = 1024;

	private static final RedisTaggedCacheConfiguration DEFAULT = new RedisTaggedCacheConfiguration(Duration.ofHours(1),
			true, 1);

	private final Duration timeToLive;

	private final boolean cacheNullValues;

	private final int shards;

	private RedisTaggedCacheConfiguration(Duration timeToLive, boolean cacheNullValues, int shards) {
		this.timeToLive = timeToLive;
		this.cacheNullValues = cacheNullValues;
		this.shards = shards;
	}

	/** One hour time to live, {@code null} values cached, one shard. */
	public static RedisTaggedCacheConfiguration defaultConfig() {
		return DEFAULT;
	}

	/**
	 * Return a configuration whose entries live for the given time.
	 * @param timeToLive the time to live; {@link Duration#ZERO} for entries that never expire
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withTimeToLive(Duration timeToLive) {
		Assert.notNull(timeToLive, "Time to live must not be null");
		Assert.isTrue(!timeToLive.isNegative(), () -> "Time to live must not be negative, was " + timeToLive);
		return new RedisTaggedCacheConfiguration(timeToLive, this.cacheNullValues, this.shards);
	}

	/**
	 * Return a configuration that does or does not store {@code null} values.
	 * @param cacheNullValues whether {@code null} values are stored
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withNullValues(boolean cacheNullValues) {
		return new RedisTaggedCacheConfiguration(this.timeToLive, cacheNullValues, this.shards);
	}

	/**
	 * Return a configuration whose entries are spread over the given number of hash slots. One
	 * slot (the default) keeps a cache on one cluster node; more spread a big cache over the
	 * cluster, and each invalidation then sends one script per shard, all at once. Only atomic
	 * within a shard.
	 * @param shards between 1 and {@value #MAX_SHARDS}
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withShards(int shards) {
		Assert.isTrue(shards >= 1 && shards <= MAX_SHARDS,
				() -> "Shards must be between 1 and " + MAX_SHARDS + ", was " + shards);
		return new RedisTaggedCacheConfiguration(this.timeToLive, this.cacheNullValues, shards);
	}

	/** The number of hash slots the cache's entries are spread over. */
	public int getShards() {
		return this.shards;
	}

	/** The entries' time to live; {@link Duration#ZERO} when they never expire. */
	public Duration getTimeToLive() {
		return this.timeToLive;
	}

	/** Whether {@code null} values are stored. */
	public boolean isCacheNullValues() {
		return this.cacheNullValues;
	}

	@Override
	public String toString() {
		return "RedisTaggedCacheConfiguration[timeToLive=" + this.timeToLive + ", cacheNullValues="
				+ this.cacheNullValues + ", shards=" + this.shards + "]";
	}

}
