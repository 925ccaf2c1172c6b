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
			true, 1, 1.0, Duration.ofMinutes(1), Duration.ZERO, false);

	private final Duration timeToLive;

	private final boolean cacheNullValues;

	private final int shards;

	private final double earlyRefreshBeta;

	private final Duration staleWhileRevalidate;

	private final Duration staleIfError;

	private final boolean nearCache;

	private RedisTaggedCacheConfiguration(Duration timeToLive, boolean cacheNullValues, int shards,
			double earlyRefreshBeta, Duration staleWhileRevalidate, Duration staleIfError, boolean nearCache) {
		this.timeToLive = timeToLive;
		this.cacheNullValues = cacheNullValues;
		this.shards = shards;
		this.earlyRefreshBeta = earlyRefreshBeta;
		this.staleWhileRevalidate = staleWhileRevalidate;
		this.staleIfError = staleIfError;
		this.nearCache = nearCache;
	}

	/**
	 * One hour time to live, {@code null} values cached, one shard, early refresh with beta 1, stale
	 * while revalidating for a minute after a soft invalidation, no stale values on errors.
	 * @return the default configuration
	 */
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
		return new RedisTaggedCacheConfiguration(timeToLive, this.cacheNullValues, this.shards, this.earlyRefreshBeta,
				this.staleWhileRevalidate, this.staleIfError, this.nearCache);
	}

	/**
	 * Return a configuration that does or does not store {@code null} values.
	 * @param cacheNullValues whether {@code null} values are stored
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withNullValues(boolean cacheNullValues) {
		return new RedisTaggedCacheConfiguration(this.timeToLive, cacheNullValues, this.shards, this.earlyRefreshBeta,
				this.staleWhileRevalidate, this.staleIfError, this.nearCache);
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
		return new RedisTaggedCacheConfiguration(this.timeToLive, this.cacheNullValues, shards, this.earlyRefreshBeta,
				this.staleWhileRevalidate, this.staleIfError, this.nearCache);
	}

	/**
	 * Return a configuration with the given early refresh factor (XFetch's beta, Vattani et al.,
	 * PVLDB 2015): a hit of a load with a loader refreshes the entry before it expires with a
	 * probability that grows as expiry nears, faster for entries whose load took longer; larger
	 * values refresh earlier. {@code 0} turns early refresh off.
	 * @param beta zero or more
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withEarlyRefreshBeta(double beta) {
		Assert.isTrue(beta >= 0 && Double.isFinite(beta), () -> "Early refresh beta must be zero or more, was " + beta);
		return new RedisTaggedCacheConfiguration(this.timeToLive, this.cacheNullValues, this.shards, beta,
				this.staleWhileRevalidate, this.staleIfError, this.nearCache);
	}

	/**
	 * Return a configuration whose soft-invalidated entries are served as stale for at most the given
	 * time, while one caller per key reloads them.
	 * @param staleWhileRevalidate a positive duration
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withStaleWhileRevalidate(Duration staleWhileRevalidate) {
		Assert.notNull(staleWhileRevalidate, "Stale-while-revalidate must not be null");
		Assert.isTrue(!staleWhileRevalidate.isNegative() && !staleWhileRevalidate.isZero(),
				() -> "Stale-while-revalidate must be positive, was " + staleWhileRevalidate);
		return new RedisTaggedCacheConfiguration(this.timeToLive, this.cacheNullValues, this.shards,
				this.earlyRefreshBeta, staleWhileRevalidate, this.staleIfError, this.nearCache);
	}

	/**
	 * Return a configuration whose entries are served, when their reload throws, for the given time
	 * after they expired or were soft-invalidated (they stay in Redis that long, and invalidations
	 * still remove them). {@link Duration#ZERO} (the default) turns it off.
	 * @param staleIfError zero or a positive duration
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withStaleIfError(Duration staleIfError) {
		Assert.notNull(staleIfError, "Stale-if-error must not be null");
		Assert.isTrue(!staleIfError.isNegative(), () -> "Stale-if-error must not be negative, was " + staleIfError);
		return new RedisTaggedCacheConfiguration(this.timeToLive, this.cacheNullValues, this.shards,
				this.earlyRefreshBeta, this.staleWhileRevalidate, staleIfError, this.nearCache);
	}

	/**
	 * Return a configuration whose cache keeps a near cache in this JVM in front of Redis (Caffeine
	 * must be on the classpath, and the manager's writer the Lettuce one). Its hits return the value
	 * without a round trip to Redis; every change made through tagcache by any instance reaches it
	 * through Redis, and it serves nothing while that channel is down. See the manager's
	 * {@code nearCacheMaximumSize}.
	 * @param nearCache whether the cache keeps a near cache
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withNearCache(boolean nearCache) {
		return new RedisTaggedCacheConfiguration(this.timeToLive, this.cacheNullValues, this.shards,
				this.earlyRefreshBeta, this.staleWhileRevalidate, this.staleIfError, nearCache);
	}

	/** Whether the cache keeps a near cache in this JVM. */
	public boolean isNearCache() {
		return this.nearCache;
	}

	/** The early refresh factor; {@code 0} when early refresh is off. */
	public double getEarlyRefreshBeta() {
		return this.earlyRefreshBeta;
	}

	/** How long a soft-invalidated entry is served as stale while it is reloaded. */
	public Duration getStaleWhileRevalidate() {
		return this.staleWhileRevalidate;
	}

	/** How long after it became stale an entry is served when its reload throws; zero when off. */
	public Duration getStaleIfError() {
		return this.staleIfError;
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
				+ this.cacheNullValues + ", shards=" + this.shards + ", earlyRefreshBeta=" + this.earlyRefreshBeta
				+ ", staleWhileRevalidate=" + this.staleWhileRevalidate + ", staleIfError=" + this.staleIfError
				+ ", nearCache=" + this.nearCache + "]";
	}

}
