package io.tagcache.redis;

import java.time.Duration;

import org.springframework.util.Assert;

/**
 * Settings of one tagged cache. Immutable: every {@code with...} method returns a new instance.
 */
public final class RedisTaggedCacheConfiguration {

	private static final RedisTaggedCacheConfiguration DEFAULT = new RedisTaggedCacheConfiguration(Duration.ofHours(1),
			true);

	private final Duration timeToLive;

	private final boolean cacheNullValues;

	private RedisTaggedCacheConfiguration(Duration timeToLive, boolean cacheNullValues) {
		this.timeToLive = timeToLive;
		this.cacheNullValues = cacheNullValues;
	}

	/** One hour time to live, {@code null} values cached. */
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
		return new RedisTaggedCacheConfiguration(timeToLive, this.cacheNullValues);
	}

	/**
	 * Return a configuration that does or does not store {@code null} values.
	 * @param cacheNullValues whether {@code null} values are stored
	 * @return a new configuration
	 */
	public RedisTaggedCacheConfiguration withNullValues(boolean cacheNullValues) {
		return new RedisTaggedCacheConfiguration(this.timeToLive, cacheNullValues);
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
				+ this.cacheNullValues + "]";
	}

}
