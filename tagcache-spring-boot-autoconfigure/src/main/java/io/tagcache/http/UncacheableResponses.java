package io.tagcache.http;

import java.util.List;

/**
 * What the cache tag headers of responses could not carry: how many responses were marked uncacheable
 * for HTTP caches (or, for {@link #AFTER_COMMIT}, lack tags), by reason. Implemented by the servlet
 * filter that writes the headers; read by the meters.
 */
public interface UncacheableResponses {

	/** A cached value was a stale entry's: an HTTP cache would keep it after tagcache reloaded it. */
	String STALE = "stale";

	/** A cached value's tags were unknown. */
	String UNKNOWN_TAGS = "unknown-tags";

	/** The tags exceeded a vendor's limits. */
	String OVER_LIMIT = "over-limit";

	/** A cached method returned after the headers were written (a response streamed while it called it). */
	String AFTER_COMMIT = "after-commit";

	/** Every reason. */
	List<String> REASONS = List.of(STALE, UNKNOWN_TAGS, OVER_LIMIT, AFTER_COMMIT);

	/**
	 * How many responses were marked uncacheable, or (for {@link #AFTER_COMMIT}) lack tags, for a reason.
	 * @param reason one of {@link #REASONS}
	 * @return the count
	 */
	long getUncacheable(String reason);

}
