package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.util.Collection;

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
record StoredEntry(byte[] bytes, int valueOffset, String typeHint) {

	private static final byte EXPIRING = '0';

	private static final byte ETERNAL = '1';

	private static final byte TAG_SEPARATOR = '\t';

	private static final byte END_OF_HEADER = '\n';

	boolean isNull() {
		return this.typeHint.isEmpty();
	}

	int valueLength() {
		return this.bytes.length - this.valueOffset;
	}

	static byte[] encode(byte[] value, String typeHint, boolean eternal, Collection<String> tags) {
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

	static StoredEntry decode(byte[] stored) {
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
