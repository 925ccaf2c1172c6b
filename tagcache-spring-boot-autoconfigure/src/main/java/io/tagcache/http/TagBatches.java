package io.tagcache.http;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

import org.springframework.util.Assert;

/**
 * Splits tags into the batches a cache's limits allow: at most so many tags, and at most so many
 * bytes once joined with a one-byte separator (a space in a header, a comma in a JSON array is
 * counted the same). One piece of code for every purger, so that each only states its limits.
 */
final class TagBatches {

	/** No limit on the count or the bytes of a batch. */
	static final int UNLIMITED = Integer.MAX_VALUE;

	private TagBatches() {
	}

	/**
	 * Split the tags, in their order.
	 * @param tags the tags, each of which fits alone in {@code maxBytes}
	 * @param maxTags the most tags in one batch
	 * @param maxBytes the most bytes of a batch's tags joined with one-byte separators (UTF-8)
	 * @return the batches, none empty
	 */
	static List<List<String>> split(Collection<String> tags, int maxTags, int maxBytes) {
		Assert.isTrue(maxTags > 0, () -> "The most tags in a batch must be positive, not " + maxTags);
		Assert.isTrue(maxBytes > 0, () -> "The most bytes in a batch must be positive, not " + maxBytes);
		List<List<String>> batches = new ArrayList<>();
		List<String> batch = new ArrayList<>();
		long bytes = 0;
		for (String tag : tags) {
			int length = utf8Length(tag);
			Assert.isTrue(length <= maxBytes,
					() -> "Tag '" + abbreviate(tag) + "' (" + length + " bytes) is longer than the batch limit of "
							+ maxBytes + " bytes; refuse it before splitting");
			long joined = batch.isEmpty() ? length : bytes + 1 + length;
			if (batch.size() == maxTags || joined > maxBytes) {
				batches.add(batch);
				batch = new ArrayList<>();
				joined = length;
			}
			batch.add(tag);
			bytes = joined;
		}
		if (!batch.isEmpty()) {
			batches.add(batch);
		}
		return batches;
	}

	/**
	 * The length of a tag in UTF-8.
	 * @param tag the tag
	 * @return its bytes
	 */
	static int utf8Length(String tag) {
		return tag.getBytes(StandardCharsets.UTF_8).length;
	}

	/**
	 * A tag short enough for a log line or an exception message.
	 * @param tag the tag
	 * @return the tag, or its first 60 characters followed by an ellipsis
	 */
	static String abbreviate(String tag) {
		return (tag.length() <= 60) ? tag : tag.substring(0, 60) + "…";
	}

}
