package io.tagcache.http;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Locale;

import org.jspecify.annotations.Nullable;

/**
 * The response headers that carry cache tags to an HTTP cache, each in its vendor's syntax and within
 * its vendor's limits (the property values of {@code tagcache.http.headers}). A tag is written as
 * {@link #encode(String) encoded}: characters outside a small safe set, the separators included, are
 * percent-encoded, so that a tag is one key for every vendor, and a purge sends it encoded the same way.
 */
public enum CacheTagHeader {

	/**
	 * Fastly: {@code Surrogate-Key}, keys separated by spaces; a key of at most 1 KiB, the header at
	 * most 16 KiB (Fastly ignores what is beyond).
	 */
	SURROGATE_KEY("surrogate-key", "Surrogate-Key", ' ', 1024, 16 * 1024, Integer.MAX_VALUE),

	/**
	 * Cloudflare: {@code Cache-Tag}, tags separated by commas, at most 16 KiB in all (Cloudflare stops
	 * reading there).
	 */
	CACHE_TAG("cache-tag", "Cache-Tag", ',', 1024, 16 * 1024, Integer.MAX_VALUE),

	/**
	 * Varnish with {@code vmod-xkey}: {@code xkey}, keys separated by spaces, the header within Varnish's
	 * default {@code http_resp_hdr_len} of 8 KiB (a longer header fails the fetch with a 503).
	 */
	XKEY("xkey", "xkey", ' ', 8000, 8000, Integer.MAX_VALUE),

	/**
	 * Akamai: {@code Edge-Cache-Tag}, tags separated by commas, at most 128 tags of at most 128
	 * characters (Akamai never purges a longer one).
	 */
	EDGE_CACHE_TAG("edge-cache-tag", "Edge-Cache-Tag", ',', 128, Integer.MAX_VALUE, 128);

	private final String id;

	private final String headerName;

	private final char separator;

	private final int maxTagBytes;

	private final int maxHeaderBytes;

	private final int maxTags;

	CacheTagHeader(String id, String headerName, char separator, int maxTagBytes, int maxHeaderBytes, int maxTags) {
		this.id = id;
		this.headerName = headerName;
		this.separator = separator;
		this.maxTagBytes = maxTagBytes;
		this.maxHeaderBytes = maxHeaderBytes;
		this.maxTags = maxTags;
	}

	/** The value of {@code tagcache.http.headers} that selects this header. */
	public String id() {
		return this.id;
	}

	/** The name of the response header. */
	public String headerName() {
		return this.headerName;
	}

	/**
	 * The header's value for these tags, or {@code null} when they do not fit within the vendor's
	 * limits: too many, one too long, or the whole too long. Never a truncated list: a tag left out
	 * would leave the response cached when that tag is purged.
	 * @param tags the tags, each {@link #encode(String) encoded}
	 * @return the value, or {@code null}
	 */
	public @Nullable String value(Collection<String> tags) {
		if (tags.size() > this.maxTags) {
			return null;
		}
		StringBuilder value = new StringBuilder();
		for (String tag : tags) {
			if (tag.length() > this.maxTagBytes) {
				// encoded tags are ASCII: a character is a byte
				return null;
			}
			if (value.length() > 0) {
				value.append(this.separator);
			}
			value.append(tag);
			if (value.length() > this.maxHeaderBytes) {
				return null;
			}
		}
		return value.toString();
	}

	/**
	 * The vendor named by a value of {@code tagcache.http.headers}.
	 * @param id {@code surrogate-key}, {@code cache-tag}, {@code xkey} or {@code edge-cache-tag}
	 * @return the header
	 * @throws IllegalArgumentException naming the accepted values
	 */
	public static CacheTagHeader of(String id) {
		String normalized = id.trim().toLowerCase(Locale.ROOT);
		for (CacheTagHeader header : values()) {
			if (header.id.equals(normalized)) {
				return header;
			}
		}
		throw new IllegalArgumentException("Unknown cache tag header '" + id + "': use surrogate-key (Fastly), "
				+ "cache-tag (Cloudflare), xkey (Varnish) or edge-cache-tag (Akamai)");
	}

	/**
	 * A tag as headers and purges carry it: letters, digits and {@code - _ . ~ : / @} as they are, every
	 * other byte of its UTF-8 form (spaces, commas, non-ASCII characters) as {@code %XX}. Most tags
	 * ({@code user-1}, {@code loc-7}) are unchanged.
	 * @param tag the tag
	 * @return the encoded tag
	 */
	public static String encode(String tag) {
		if (isSafe(tag)) {
			return tag;
		}
		StringBuilder encoded = new StringBuilder(tag.length() + 16);
		for (byte b : tag.getBytes(StandardCharsets.UTF_8)) {
			int c = b & 0xFF;
			if (isSafe(c)) {
				encoded.append((char) c);
			}
			else {
				encoded.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
					.append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
			}
		}
		return encoded.toString();
	}

	private static boolean isSafe(String tag) {
		for (int i = 0; i < tag.length(); i++) {
			if (!isSafe(tag.charAt(i))) {
				return false;
			}
		}
		return true;
	}

	private static boolean isSafe(int c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
				|| c == '.' || c == '~' || c == ':' || c == '/' || c == '@';
	}

}
