package io.tagcache.http;

import java.util.List;

/**
 * Some tags can never be purged by this cache (too long for its limits, or holding characters its
 * protocol cannot carry), so a retry would be refused again: the other tags of the purge were
 * purged. {@link TagPurgeQueue} counts the refused tags as dropped and logs them.
 */
public class UnpurgeableTagsException extends RuntimeException {

	private final String purger;

	private final List<String> tags;

	/**
	 * Create an exception.
	 * @param purger the name of the purger
	 * @param tags the tags it refused
	 * @param message why, naming the limit at fault
	 */
	public UnpurgeableTagsException(String purger, List<String> tags, String message) {
		super(message);
		this.purger = purger;
		this.tags = List.copyOf(tags);
	}

	/**
	 * The purger that refused the tags.
	 * @return its {@link TagPurger#name() name}
	 */
	public String getPurger() {
		return this.purger;
	}

	/**
	 * The tags refused.
	 * @return the tags, never purged
	 */
	public List<String> getTags() {
		return this.tags;
	}

}
