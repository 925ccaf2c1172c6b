package io.tagcache.redis;

import java.nio.charset.StandardCharsets;

import org.jspecify.annotations.Nullable;

/**
 * One cache slot: a cache, or one shard of a cache spread over several hash slots, and the Redis
 * key names of its entries, tag indexes and fence state. Every key starts with the key prefix and
 * holds the cache name as its hash tag ({@code <prefix>:{<cache>}:...}), so that all keys of a
 * shard share one hash slot and every script runs on one cluster node. The layout is described in
 * {@code lib.lua}.
 */
public final class CacheKeyspace {

	private final String cacheName;

	private final int shard;

	private final String base;

	private final byte[] baseBytes;

	private final byte[] generationKey;

	private final byte[] fenceKey;

	private final byte[] detachedKey;

	private final byte[] softKey;

	CacheKeyspace(String keyPrefix, String cacheName) {
		this(keyPrefix, cacheName, 0);
	}

	/**
	 * The keys of one shard of a cache: shard 0 is {@code <prefix>:{<cache>}:}, shard {@code n} is
	 * {@code <prefix>:{<cache>#n}:}, a hash slot of its own ('#' is not allowed in cache names).
	 */
	CacheKeyspace(String keyPrefix, String cacheName, int shard) {
		this.cacheName = cacheName;
		this.shard = shard;
		this.base = keyPrefix + ":{" + cacheName + ((shard != 0) ? "#" + shard : "") + "}:";
		this.baseBytes = bytes(this.base);
		this.generationKey = bytes(this.base + "gen");
		this.fenceKey = bytes(this.base + "fence");
		this.detachedKey = bytes(this.base + "detached");
		this.softKey = bytes(this.base + "soft");
	}

	/**
	 * The name of the cache.
	 * @return the name
	 */
	public String cacheName() {
		return this.cacheName;
	}

	/**
	 * The shard of the cache this slot holds, {@code 0} for a cache in one slot.
	 * @return the shard
	 */
	public int shard() {
		return this.shard;
	}

	/** The common start of every key of the cache, passed to scripts to derive the keys. */
	public String base() {
		return this.base;
	}

	/** {@link #base()} in UTF-8, as the scripts receive it. */
	public byte[] baseBytes() {
		return this.baseBytes;
	}

	public byte[] entryKey(String key) {
		return bytes(this.base + "e:" + key);
	}

	public byte[] indexKey(String tag) {
		return bytes(this.base + "t:" + tag);
	}

	public byte[] generationKey() {
		return this.generationKey;
	}

	public byte[] fenceKey() {
		return this.fenceKey;
	}

	public byte[] detachedKey() {
		return this.detachedKey;
	}

	/**
	 * The set of soft-detached tag indexes still being marked (see {@code soft-invalidate.lua}).
	 * @return the Redis key
	 */
	public byte[] softKey() {
		return this.softKey;
	}

	/**
	 * The lease of a load or refresh of the key (see {@code lease.lua}).
	 * @param key the key within the cache
	 * @return the Redis key
	 */
	public byte[] leaseKey(String key) {
		return bytes(this.base + "l:" + key);
	}

	/** The marker of a put with many tags of the key in flight (see {@code pending_put_key} in {@code lib.lua}). */
	public byte[] pendingPutKey(String key) {
		return bytes(this.base + "p:" + key);
	}

	/** A {@code SCAN MATCH} pattern for the cache's entry keys, glob characters escaped. */
	public String entryPattern() {
		return escapeGlob(this.base) + "e:*";
	}

	/**
	 * A {@code SCAN MATCH} pattern for the entry keys of the cache whose key matches a glob.
	 * @param keyPattern a Redis glob over the keys within the cache (as {@code *}, {@code ?},
	 * {@code [...]} and {@code \} mean in {@code SCAN MATCH})
	 * @return the pattern
	 */
	public String entryPattern(String keyPattern) {
		return escapeGlob(this.base) + "e:" + keyPattern;
	}

	/** A {@code SCAN MATCH} pattern for the cache's tag indexes. */
	public String indexPattern() {
		return escapeGlob(this.base) + "t:*";
	}

	/** A {@code SCAN MATCH} pattern for every key of the cache. */
	public String keyPattern() {
		return escapeGlob(this.base) + "*";
	}

	/** The key part of an entry key. */
	public String keyOfEntry(String entryKey) {
		return entryKey.substring(this.base.length() + 2);
	}

	static String escapeGlob(String literal) {
		StringBuilder escaped = new StringBuilder(literal.length() + 8);
		for (int i = 0; i < literal.length(); i++) {
			char c = literal.charAt(i);
			if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') {
				escaped.append('\\');
			}
			escaped.append(c);
		}
		return escaped.toString();
	}

	static byte[] bytes(String value) {
		return value.getBytes(StandardCharsets.UTF_8);
	}

	@Override
	public boolean equals(@Nullable Object other) {
		return this == other || (other instanceof CacheKeyspace keyspace && this.base.equals(keyspace.base));
	}

	@Override
	public int hashCode() {
		return this.base.hashCode();
	}

	@Override
	public String toString() {
		return this.base;
	}

}
