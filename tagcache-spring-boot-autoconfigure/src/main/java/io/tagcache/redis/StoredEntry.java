package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * An entry as stored in its Redis string: a header line, then the serialized value. The header is
 * {@code '0'} (the entry expires) or {@code '1'} (it never does), the type hint ({@code ""} for a
 * null value), then {@code '\t'} and each tag; {@code '\n'} ends it. Tags and type hints hold no
 * control character ({@link TagRules}), so the header needs no escaping. The scripts read the tags
 * of an entry from its header when they remove or rewrite it.
 * @param bytes the stored string
 * @param valueOffset where the serialized value starts in {@code bytes}
 * @param typeHint the type hint, {@code ""} for a null value
 */
public record StoredEntry(byte[] bytes, int valueOffset, String typeHint) {

	private static final byte EXPIRING = '0';

	private static final byte ETERNAL = '1';

	private static final byte TAG_SEPARATOR = '\t';

	private static final byte END_OF_HEADER = '\n';

	/**
	 * Whether the entry holds a cached {@code null}.
	 * @return whether the value is {@code null}
	 */
	public boolean isNull() {
		return this.typeHint.isEmpty();
	}

	/**
	 * The length of the serialized value.
	 * @return the number of bytes from {@link #valueOffset()} on
	 */
	public int valueLength() {
		return this.bytes.length - this.valueOffset;
	}

	/**
	 * Whether the entry never expires.
	 * @return whether it was written without time to live
	 */
	public boolean isEternal() {
		return this.bytes[0] == ETERNAL;
	}

	/**
	 * The entry's tags, as its header lists them.
	 * @return the tags
	 */
	public List<String> tags() {
		String header = new String(this.bytes, 0, this.valueOffset - 1, StandardCharsets.UTF_8);
		List<String> tags = new ArrayList<>();
		for (int at = header.indexOf('\t'); at >= 0;) {
			int next = header.indexOf('\t', at + 1);
			tags.add(header.substring(at + 1, (next >= 0) ? next : header.length()));
			at = next;
		}
		return tags;
	}

	/**
	 * Encode an entry as it is stored.
	 * @param value the serialized value, empty for {@code null}
	 * @param typeHint the value's type hint, {@code ""} for {@code null}
	 * @param eternal whether the entry never expires
	 * @param tags the entry's tags
	 * @return the stored string
	 */
	public static byte[] encode(byte[] value, String typeHint, boolean eternal, Collection<String> tags) {
		int headerLength = 2 + utf8Length(typeHint);
		for (String tag : tags) {
			headerLength += 1 + utf8Length(tag);
		}
		byte[] stored = new byte[headerLength + value.length];
		stored[0] = eternal ? ETERNAL : EXPIRING;
		int at = put(stored, 1, typeHint);
		for (String tag : tags) {
			stored[at++] = TAG_SEPARATOR;
			at = put(stored, at, tag);
		}
		stored[at++] = END_OF_HEADER;
		System.arraycopy(value, 0, stored, at, value.length);
		return stored;
	}

	/**
	 * Decode a stored entry.
	 * @param stored the stored string
	 * @return the entry
	 * @throws IllegalStateException when the string has no header line
	 */
	public static StoredEntry decode(byte[] stored) {
		int hintEnd = 1;
		while (hintEnd < stored.length && stored[hintEnd] != TAG_SEPARATOR && stored[hintEnd] != END_OF_HEADER) {
			hintEnd++;
		}
		int valueOffset = hintEnd;
		while (valueOffset < stored.length && stored[valueOffset] != END_OF_HEADER) {
			valueOffset++;
		}
		if (stored.length == 0 || valueOffset == stored.length) {
			throw new IllegalStateException("Not a tagcache entry: no header line in " + stored.length + " bytes");
		}
		return new StoredEntry(stored, valueOffset + 1,
				new String(stored, 1, hintEnd - 1, StandardCharsets.UTF_8));
	}

	private static int utf8Length(String text) {
		int length = text.length();
		for (int i = 0; i < text.length(); i++) {
			if (text.charAt(i) >= 0x80) {
				return text.getBytes(StandardCharsets.UTF_8).length;
			}
		}
		return length;
	}

	private static int put(byte[] target, int at, String text) {
		byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
		System.arraycopy(bytes, 0, target, at, bytes.length);
		return at + bytes.length;
	}

}
