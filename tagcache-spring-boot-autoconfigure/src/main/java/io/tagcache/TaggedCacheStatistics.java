package io.tagcache;

import java.util.List;

/**
 * Running counters of one {@link TaggedCache}, kept in memory by this application instance.
 * Counters only grow; meter binders read them.
 */
public interface TaggedCacheStatistics {

	/** Return how many lookups found an entry. */
	long getHits();

	/** Return how many lookups found no entry (including lookups that failed on Redis). */
	long getMisses();

	/** Return how many entries were written. */
	long getPuts();

	/**
	 * Return how many fenced writes were refused because one of their tags, their key or the
	 * whole cache was invalidated after the value's source data was read.
	 */
	long getRejectedPuts();

	/** Return how many entries were removed by key ({@code evict}) or by {@code clear}. */
	long getEvictions();

	/** Return how many tag invalidations reached this cache. */
	long getInvalidations();

	/** Return how many entries tag invalidations removed from this cache. */
	long getInvalidatedEntries();

	/**
	 * The operations whose Redis failures are counted: {@code get}, {@code fence} (the read on a
	 * miss), {@code put}, {@code evict}, {@code clear} and {@code invalidate}.
	 */
	List<String> OPERATIONS = List.of("get", "fence", "put", "evict", "clear", "invalidate");

	/**
	 * Return how many Redis failures were absorbed instead of reaching the caller, including calls
	 * that skipped Redis while it was unreachable and invalidations queued for replay.
	 */
	long getErrors();

	/**
	 * Return how many Redis failures of one operation were absorbed.
	 * @param operation one of {@link #OPERATIONS}
	 * @return the count
	 */
	long getErrors(String operation);

	/**
	 * Return how many loads refreshed an entry before it was a miss: {@code early} (a hit near expiry,
	 * XFetch) or {@code stale} (a hit of a soft-invalidated entry).
	 * @param reason {@code early} or {@code stale}
	 * @return the count
	 */
	default long getRefreshes(String reason) {
		return 0;
	}

	/**
	 * Return how many stale values were returned: {@code revalidate} (a soft-invalidated entry while
	 * another caller reloads it) or {@code error} (an entry expired or soft-invalidated shortly before,
	 * because its reload threw).
	 * @param reason {@code revalidate} or {@code error}
	 * @return the count
	 */
	default long getStaleServed(String reason) {
		return 0;
	}

	/**
	 * Return how many synchronized loads ({@code sync}, {@code get(key, Callable)}) received a value
	 * another caller loaded, in this JVM or another instance, instead of loading it themselves.
	 * @return the count
	 */
	default long getSyncWaits() {
		return 0;
	}

	/**
	 * Return whether the cache keeps a near cache in this JVM; the {@code getNearCache...} counts are
	 * zero without one.
	 * @return whether it has a near cache
	 */
	default boolean hasNearCache() {
		return false;
	}

	/**
	 * Return how many lookups the near cache answered ({@code hit}) or left to Redis ({@code miss}:
	 * not kept, read as another type, close to expiry, or the near cache not serving). A near hit is a
	 * hit of {@link #getHits()} too.
	 * @param result {@code hit} or {@code miss}
	 * @return the count
	 */
	default long getNearCacheGets(String result) {
		return 0;
	}

	/**
	 * Return how many entries the near cache holds (an estimate, as Caffeine's).
	 * @return the number of entries
	 */
	default long getNearCacheSize() {
		return 0;
	}

	/**
	 * Return how many times the near cache was cleared because the subscription that tells it of other
	 * instances' changes was lost (a disconnect, a restart, a failover).
	 * @return the count
	 */
	default long getNearCacheClears() {
		return 0;
	}

}
