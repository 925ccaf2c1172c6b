package io.tagcache.redis;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Which caches of a key prefix an operation concerns: the named ones, or every cache of the prefix
 * (including caches this instance never opened, found in the registry). One type for what a queued
 * invalidation, an overflow and a replay's clear concern, instead of an empty set or {@code null}
 * standing for "every cache".
 * @param names the caches, empty for every cache
 * @param everyCache whether it is every cache of the prefix
 */
record CacheScope(Set<String> names, boolean everyCache) {

	/** Every cache of the prefix. */
	static final CacheScope EVERY_CACHE = new CacheScope(Set.of(), true);

	/** What logs name when an operation concerns every cache rather than one. */
	static final String EVERY_CACHE_LABEL = "(every cache)";

	CacheScope {
		names = Set.copyOf(names);
	}

	/** The named caches. */
	static CacheScope of(Collection<String> names) {
		return new CacheScope(new LinkedHashSet<>(names), false);
	}

	/** A scope covering both. */
	CacheScope union(CacheScope other) {
		if (this.everyCache || other.everyCache) {
			return EVERY_CACHE;
		}
		Set<String> union = new LinkedHashSet<>(this.names);
		union.addAll(other.names);
		return new CacheScope(union, false);
	}

	boolean includes(String cacheName) {
		return this.everyCache || this.names.contains(cacheName);
	}

	boolean isEmpty() {
		return !this.everyCache && this.names.isEmpty();
	}

	@Override
	public String toString() {
		return this.everyCache ? "every cache" : "caches " + this.names;
	}

}
