package io.tagcache;

import java.util.Arrays;
import java.util.Collection;

/**
 * Removes cached entries by tag rather than by key.
 *
 * <p>An invalidation reaches every cache that shares the invalidator's key prefix, including
 * caches that this application instance has never opened but another instance wrote. Within one
 * cache it is atomic for tags up to the inline bound: a reader sees either all entries of an
 * invalidated tag or none of them. Larger tags are detached atomically (no stale value can be
 * written again from that moment on) and drained in bounded steps before the call returns.
 *
 * @see TaggedCache#invalidateTags(Collection)
 */
public interface TagInvalidator {

	/**
	 * Remove every entry that carries at least one of the given tags, in every cache.
	 * @param tags the tags to invalidate; each must be non-blank and at most 1 KiB
	 * @return the number of entries removed
	 * @throws IllegalArgumentException if a tag is null, blank, too long or holds a control
	 * character
	 */
	long invalidate(Collection<String> tags);

	/**
	 * Remove every entry that carries at least one of the given tags, in every cache.
	 * @param tags the tags to invalidate
	 * @return the number of entries removed
	 * @see #invalidate(Collection)
	 */
	default long invalidate(String... tags) {
		return invalidate(Arrays.asList(tags));
	}

	/**
	 * Mark every entry that carries at least one of the given tags stale, in every cache, rather than
	 * remove it (Varnish's soft purge): for the cache's stale-while-revalidate time, callers with a
	 * loader get the stale value while one caller per key, across instances, reloads it; callers
	 * without one (a plain {@code Cache.get}) miss. No value loaded before the call is stored after
	 * it, and a later {@link #invalidate(Collection) invalidation} removes the entries at once.
	 * @param tags the tags to soft-invalidate
	 * @return the number of entries marked
	 * @throws IllegalArgumentException if a tag is null, blank, too long or holds a control character
	 */
	long softInvalidate(Collection<String> tags);

	/**
	 * Mark every entry that carries at least one of the given tags stale, in every cache.
	 * @param tags the tags to soft-invalidate
	 * @return the number of entries marked
	 * @see #softInvalidate(Collection)
	 */
	default long softInvalidate(String... tags) {
		return softInvalidate(Arrays.asList(tags));
	}

}
