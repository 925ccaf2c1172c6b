package io.tagcache;

import java.util.Set;

/**
 * Tags were invalidated: published as a Spring application event by the cache manager after Redis
 * acknowledged the invalidation (after the transaction completed, for one issued inside a Spring
 * transaction; when it was replayed, for one queued while Redis was unreachable). Listen with
 * {@code @EventListener}; listeners run on the invalidating thread unless they are {@code @Async}, so
 * keep them short.
 * @param tags the tags invalidated
 * @param soft whether the entries were marked stale rather than removed
 * @param entriesRemoved how many entries were removed (or marked), over the caches; {@code 0} for a
 * replay of queued invalidations, whose counts are not kept
 * @param local whether this instance issued the invalidation
 */
public record TagsInvalidatedEvent(Set<String> tags, boolean soft, long entriesRemoved, boolean local) {

	/**
	 * Create an event.
	 * @param tags the tags invalidated
	 * @param soft whether the entries were marked stale rather than removed
	 * @param entriesRemoved how many entries were removed or marked
	 * @param local whether this instance issued the invalidation
	 */
	public TagsInvalidatedEvent {
		tags = Set.copyOf(tags);
	}

}
