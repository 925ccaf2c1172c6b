package io.tagcache.redis;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Invalidations that could not reach Redis, merged: the tags per cache (or of every cache of the
 * prefix), the evicted keys per cache and the cleared caches. Invalidations commute (each raises
 * fences and removes entries), so merged ones replay as one script per cache slot instead of one
 * call each, in any order. Not thread-safe: {@link RedisOutageGuard} guards it.
 */
final class PendingInvalidations {

	/** The scope of tags invalidated in every cache of the prefix. */
	static final String EVERY_CACHE = "";

	private final Map<String, Set<String>> tags = new LinkedHashMap<>();

	private final Map<String, Set<String>> evictions = new LinkedHashMap<>();

	private final Set<String> clears = new LinkedHashSet<>();

	private int size;

	/** Completes once these invalidations reached Redis (alone or merged into others). */
	private final CompletableFuture<Void> replayed = new CompletableFuture<>();

	/**
	 * Tags invalidated in one cache, or in every cache of the prefix.
	 * @param scope the cache name, or {@link #EVERY_CACHE}
	 * @param tags the tags
	 * @return the invalidation
	 */
	static PendingInvalidations tags(String scope, Collection<String> tags) {
		PendingInvalidations pending = new PendingInvalidations();
		tags.forEach(tag -> pending.add(pending.tags, scope, tag));
		return pending;
	}

	static PendingInvalidations eviction(String cacheName, String key) {
		PendingInvalidations pending = new PendingInvalidations();
		pending.add(pending.evictions, cacheName, key);
		return pending;
	}

	static PendingInvalidations clear(String cacheName) {
		PendingInvalidations pending = new PendingInvalidations();
		pending.clears.add(cacheName);
		pending.size = 1;
		return pending;
	}

	/** Merge another one into this; it is replayed when this is. */
	void addAll(PendingInvalidations other) {
		addAll(other, true);
	}

	/**
	 * Merge another one into this.
	 * @param link whether the other one's {@link #replayed()} completes with this one's: only needed
	 * while a caller may wait for it (each link is kept until the replay)
	 */
	void addAll(PendingInvalidations other, boolean link) {
		if (link && other != this) {
			this.replayed.thenRun(() -> other.replayed.complete(null));
		}
		other.tags.forEach((scope, tags) -> tags.forEach(tag -> add(this.tags, scope, tag)));
		other.evictions.forEach((cache, keys) -> keys.forEach(key -> add(this.evictions, cache, key)));
		for (String cache : other.clears) {
			if (this.clears.add(cache)) {
				this.size++;
			}
		}
	}

	private void add(Map<String, Set<String>> target, String scope, String item) {
		if (target.computeIfAbsent(scope, any -> new LinkedHashSet<>()).add(item)) {
			this.size++;
		}
	}

	/** Completes once these invalidations reached Redis. */
	CompletableFuture<Void> replayed() {
		return this.replayed;
	}

	/** The number of distinct tags, keys and caches to invalidate. */
	int size() {
		return this.size;
	}

	boolean isEmpty() {
		return this.size == 0;
	}

	/** The caches concerned: what a clear instead must cover. */
	CacheScope caches() {
		if (this.tags.containsKey(EVERY_CACHE)) {
			return CacheScope.EVERY_CACHE;
		}
		Set<String> caches = new LinkedHashSet<>(this.tags.keySet());
		caches.addAll(this.evictions.keySet());
		caches.addAll(this.clears);
		return CacheScope.of(caches);
	}

	/** The tags by scope: a cache name, or {@link #EVERY_CACHE}. */
	Map<String, Set<String>> tags() {
		return Collections.unmodifiableMap(this.tags);
	}

	/** The evicted keys by cache name. */
	Map<String, Set<String>> evictions() {
		return Collections.unmodifiableMap(this.evictions);
	}

	Set<String> clears() {
		return Collections.unmodifiableSet(this.clears);
	}

	@Override
	public String toString() {
		return "PendingInvalidations[tags=" + this.tags + ", evictions=" + this.evictions + ", clears=" + this.clears
				+ "]";
	}

}
