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

}
