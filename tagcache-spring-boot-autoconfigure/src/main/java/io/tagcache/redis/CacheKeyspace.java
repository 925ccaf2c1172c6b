package io.tagcache.redis;

import java.nio.charset.StandardCharsets;

/**
 * The Redis key names of one cache (or one shard of a cache). Every key starts with the key prefix
 * and holds the cache name as its hash tag ({@code <prefix>:{<cache>}:...}), so that all keys of a
 * shard share one hash slot and every script runs on one cluster node. The layout is described in
 * {@code lib.lua}.
 */
final class CacheKeyspace {

	private final String cacheName;

	private final String base;

	private final byte[] baseBytes;

	private final byte[] generationKey;

	private final byte[] fenceKey;

	private final byte[] detachedKey;

	CacheKeyspace(String keyPrefix, String cacheName) {
		this(keyPrefix, cacheName, 0);
	}

	/**
	 * The keys of one shard of a cache: shard 0 is {@code <prefix>:{<cache>}:}, shard {@code n} is
	 * {@code <prefix>:{<cache>#n}:}, a hash slot of its own ('#' is not allowed in cache names).
	 */
	CacheKeyspace(String keyPrefix, String cacheName, int shard) {
		this.cacheName = cacheName;
		this.base = keyPrefix + ":{" + cacheName + ((shard != 0) ? "#" + shard : "") + "}:";
		this.baseBytes = bytes(this.base);
		this.generationKey = bytes(this.base + "gen");
		this.fenceKey = bytes(this.base + "fence");
		this.detachedKey = bytes(this.base + "detached");
	}

	String cacheName() {
		return this.cacheName;
	}

	/** The common start of every key of the cache, passed to scripts to derive the keys. */
	String base() {
		return this.base;
	}

	/** {@link #base()} in UTF-8, as the scripts receive it. */
	byte[] baseBytes() {
		return this.baseBytes;
	}

	byte[] entryKey(String key) {
		return bytes(this.base + "e:" + key);
	}

	byte[] indexKey(String tag) {
		return bytes(this.base + "t:" + tag);
	}

	byte[] generationKey() {
		return this.generationKey;
	}

	byte[] fenceKey() {
		return this.fenceKey;
	}

	byte[] detachedKey() {
		return this.detachedKey;
	}

	/** The marker of a put with many tags of the key in flight (see {@code pending_put_key} in {@code lib.lua}). */
	byte[] pendingPutKey(String key) {
		return bytes(this.base + "p:" + key);
	}

	/** A {@code SCAN MATCH} pattern for the cache's entry keys, glob characters escaped. */
	String entryPattern() {
		return escapeGlob(this.base) + "e:*";
	}

	/** A {@code SCAN MATCH} pattern for the cache's tag indexes. */
	String indexPattern() {
		return escapeGlob(this.base) + "t:*";
	}

	/** A {@code SCAN MATCH} pattern for every key of the cache. */
	String keyPattern() {
		return escapeGlob(this.base) + "*";
	}

	/** The key part of an entry key. */
	String keyOfEntry(String entryKey) {
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

}
