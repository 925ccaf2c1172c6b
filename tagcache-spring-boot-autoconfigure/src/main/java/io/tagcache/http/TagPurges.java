package io.tagcache.http;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import io.tagcache.TagsInvalidatedEvent;

import org.springframework.context.event.EventListener;
import org.springframework.util.Assert;

/**
 * Purges the tags of every invalidation this instance issued from the HTTP caches in front of it:
 * one {@link TagPurgeQueue} per {@link TagPurger}, fed by the {@link TagsInvalidatedEvent}s the
 * manager publishes once Redis acknowledged an invalidation (after the transaction completed). Other
 * instances' events ({@code local()} false, with {@code tagcache.events.broadcast}) are theirs to
 * purge. Tags are sent {@link CacheTagHeader#encode(String) encoded}, as the headers carry them.
 * Never blocks nor fails the invalidation: the queues send, merge and retry on their own threads.
 */
public final class TagPurges implements AutoCloseable {

	private final List<TagPurgeQueue> queues;

	/**
	 * @param queues one queue per purger
	 */
	public TagPurges(List<TagPurgeQueue> queues) {
		Assert.notEmpty(queues, "At least one purge queue is needed");
		this.queues = List.copyOf(queues);
	}

	/** The queues, one per purger. */
	public List<TagPurgeQueue> getQueues() {
		return this.queues;
	}

	/**
	 * Purge the tags of an invalidation this instance issued.
	 * @param event the invalidation
	 */
	@EventListener
	public void purge(TagsInvalidatedEvent event) {
		if (!event.local() || event.tags().isEmpty()) {
			return;
		}
		Set<String> encoded = new LinkedHashSet<>();
		event.tags().forEach(tag -> encoded.add(CacheTagHeader.encode(tag)));
		for (TagPurgeQueue queue : this.queues) {
			queue.submit(encoded, event.soft());
		}
	}

	/** Stop the queues (each tries once more to send what is pending). */
	@Override
	public void close() {
		this.queues.forEach(TagPurgeQueue::close);
	}

}
