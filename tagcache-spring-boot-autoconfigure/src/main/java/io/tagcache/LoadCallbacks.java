package io.tagcache;

import java.util.List;

/**
 * What a cache tells a loader about the entry it loads for (see {@link TaggedLoader} and
 * {@link AsyncTaggedLoader}); by default each is thrown to the caller.
 */
public interface LoadCallbacks {

	/**
	 * The cache refused to store the loaded value (an invalid tag, a {@code null} the cache does not
	 * store, a value it cannot write); the value is returned to the caller all the same, unless this
	 * method throws.
	 * @param ex what was refused and why
	 */
	default void refused(ValueRefusedException ex) {
		throw ex;
	}

	/**
	 * The entry found cannot be read as the requested type (it was written as another, or its class
	 * changed); it is treated as a miss and loaded again, unless this method throws.
	 * @param ex why it could not be read
	 */
	default void unreadable(IllegalStateException ex) {
		throw ex;
	}

	/**
	 * Whether the caller wants {@link #served}: the cache reads an entry's tags only then.
	 * @return {@code false} by default
	 */
	default boolean wantsServedTags() {
		return false;
	}

	/**
	 * When {@link #wantsServedTags()}, the tags of the entry whose value the call returns: the entry found (in Redis or a near cache),
	 * the value loaded (once its tags passed validation), or the value another caller loaded. Not
	 * called when the value's tags are unknown (a value the loader returned uncached). A non-blocking
	 * call may report on another thread than the caller's, and a call may report more than once (the
	 * last report is the value's).
	 * @param tags the entry's tags
	 * @param stale whether the value is a stale entry's (soft-invalidated and served while another caller
	 * reloads it, or expired and served because its reload failed)
	 */
	default void served(List<String> tags, boolean stale) {
	}

}
