package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * Validation of tags, cache names and key prefixes, with messages that name what is at fault.
 */
final class TagRules {

	/** Longest tag accepted, in UTF-8 bytes. */
	static final int MAX_TAG_BYTES = 1024;

	/** Longest cache name accepted, in characters. */
	static final int MAX_CACHE_NAME_LENGTH = 200;

	private TagRules() {
	}

	/**
	 * Validate tags and drop duplicates, keeping their order.
	 * @throws IllegalArgumentException naming the first invalid tag
	 */
	static List<String> validateTags(@Nullable Collection<String> tags, @Nullable String cacheName) {
		if (tags == null) {
			throw new IllegalArgumentException("Tags for " + where(cacheName) + " must not be null");
		}
		Set<String> unique = new LinkedHashSet<>(tags.size() * 2);
		for (String tag : tags) {
			validateTag(tag, cacheName);
			unique.add(tag);
		}
		return List.copyOf(unique);
	}

	/**
	 * Validate one tag.
	 * @param cacheName the cache the tag is for, or {@code null} for an operation on every cache
	 */
	static void validateTag(@Nullable String tag, @Nullable String cacheName) {
		if (tag == null) {
			throw new IllegalArgumentException("A tag for " + where(cacheName) + " is null");
		}
		if (tag.isBlank()) {
			throw new IllegalArgumentException("A tag for " + where(cacheName) + " is blank: '" + tag + "'");
		}
		if (tag.getBytes(StandardCharsets.UTF_8).length > MAX_TAG_BYTES) {
			throw new IllegalArgumentException("Tag '" + tag.substring(0, 64) + "...' for " + where(cacheName)
					+ " is longer than " + MAX_TAG_BYTES + " bytes");
		}
		for (int i = 0; i < tag.length(); i++) {
			if (Character.isISOControl(tag.charAt(i))) {
				throw new IllegalArgumentException("Tag '" + tag.replaceAll("\\p{Cntrl}", "?") + "' for "
						+ where(cacheName) + " holds a control character");
			}
		}
	}

	private static String where(@Nullable String cacheName) {
		return (cacheName != null) ? "cache '" + cacheName + "'" : "every cache";
	}

	static void validateCacheName(@Nullable String name) {
		if (name == null || name.isBlank()) {
			throw new IllegalArgumentException("A cache name must not be null or blank");
		}
		if (name.indexOf('{') >= 0 || name.indexOf('}') >= 0) {
			throw new IllegalArgumentException("Cache name '" + name
					+ "' must not contain '{' or '}': the cache name is the Redis Cluster hash tag of its keys");
		}
		if (name.indexOf('#') >= 0) {
			throw new IllegalArgumentException("Cache name '" + name
					+ "' must not contain '#': it separates a cache's name from its shard number in Redis keys");
		}
		if (name.length() > MAX_CACHE_NAME_LENGTH) {
			throw new IllegalArgumentException("Cache name '" + name.substring(0, 32) + "...' is longer than "
					+ MAX_CACHE_NAME_LENGTH + " characters");
		}
		if (name.chars().anyMatch(Character::isISOControl)) {
			throw new IllegalArgumentException("Cache name '" + name.replaceAll("\\p{Cntrl}", "?")
					+ "' holds a control character");
		}
	}

	static void validateKeyPrefix(@Nullable String prefix) {
		if (prefix == null || prefix.isBlank()) {
			throw new IllegalArgumentException("The key prefix must not be null or blank");
		}
		if (prefix.indexOf('{') >= 0 || prefix.indexOf('}') >= 0) {
			throw new IllegalArgumentException("Key prefix '" + prefix
					+ "' must not contain '{' or '}': the hash tag of every key is its cache name");
		}
	}

}
