package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * An entry as stored in its Redis string: a header line, then the serialized value. The header
 * starts with fixed-width fields a hit reads without a script: {@code 'E'} (the entry expires) or
 * {@code 'N'} (it never does), its expiry (epoch milliseconds, 13 digits, zeros when it never
 * expires), how long its load took (milliseconds, 6 digits) and when it was soft-invalidated (epoch
 * milliseconds, 13 digits, zeros when it was not: the only field a script writes, in place). Then
 * the type hint ({@code ""} for a null value), {@code '\t'} and each tag, and {@code '\n'} ends it.
 * Tags and type hints hold no control character ({@link TagRules}), so the header needs no
 * escaping. The scripts read the tags of an entry from its header when they remove or rewrite it.
 * @param bytes the stored string
 * @param valueOffset where the serialized value starts in {@code bytes}
 * @param typeHint the type hint, {@code ""} for a null value
 * @param expiresAt when the entry expires (epoch milliseconds), {@code 0} when it never does
 * @param loadMillis how long the load of the value took
 * @param softInvalidatedAt when the entry was soft-invalidated (epoch milliseconds of the Redis
 * server), {@code 0} when it was not
 */
public record StoredEntry(byte[] bytes, int valueOffset, String typeHint, long expiresAt, long loadMillis,
		long softInvalidatedAt) {

	private static final byte EXPIRING = 'E';

	private static final byte ETERNAL = 'N';

	/** Where the expiry starts; 13 digits. */
	static final int EXPIRY_OFFSET = 1;

	/** Where the load time starts; 6 digits. */
	static final int LOAD_TIME_OFFSET = 14;

	/** Where the soft invalidation time starts; 13 digits, written in place by the scripts. */
	static final int SOFT_INVALIDATED_OFFSET = 20;

	/** Where the type hint starts. */
	static final int TYPE_HINT_OFFSET = 33;

	/** The longest load time the header records: 6 digits. */
	static final long MAX_LOAD_MILLIS = 999_999;

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
	 * Whether the entry was soft-invalidated: readable as stale for a while, then gone.
	 * @return whether a soft invalidation marked it
	 */
	public boolean isSoftInvalidated() {
		return this.softInvalidatedAt != 0;
	}

	/**
	 * Whether the entry expired at the given time. An entry may outlive its expiry in Redis, to be
	 * served when a reload fails (stale-if-error).
	 * @param now the time, epoch milliseconds
	 * @return whether it expired
	 */
	public boolean isExpiredAt(long now) {
		return this.expiresAt != 0 && now >= this.expiresAt;
	}

	/**
	 * When the entry became stale: its soft invalidation, else its expiry; {@code 0} for a fresh
	 * entry that never expires.
	 * @return epoch milliseconds
	 */
	public long staleSince() {
		if (this.softInvalidatedAt != 0) {
			return (this.expiresAt != 0) ? Math.min(this.softInvalidatedAt, this.expiresAt) : this.softInvalidatedAt;
		}
		return this.expiresAt;
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
	 * Encode an entry as it is stored, not soft-invalidated.
	 * @param value the serialized value, empty for {@code null}
	 * @param typeHint the value's type hint, {@code ""} for {@code null}
	 * @param expiresAt when the entry expires (epoch milliseconds), {@code 0} when it never does
	 * @param loadMillis how long its load took, capped at {@value #MAX_LOAD_MILLIS}
	 * @param tags the entry's tags
	 * @return the stored string
	 */
	public static byte[] encode(byte[] value, String typeHint, long expiresAt, long loadMillis,
			Collection<String> tags) {
		int headerLength = TYPE_HINT_OFFSET + 1 + utf8Length(typeHint);
		for (String tag : tags) {
			headerLength += 1 + utf8Length(tag);
		}
		byte[] stored = new byte[headerLength + value.length];
		stored[0] = (expiresAt == 0) ? ETERNAL : EXPIRING;
		digits(stored, EXPIRY_OFFSET, 13, expiresAt);
		digits(stored, LOAD_TIME_OFFSET, 6, Math.max(0, Math.min(loadMillis, MAX_LOAD_MILLIS)));
		digits(stored, SOFT_INVALIDATED_OFFSET, 13, 0);
		int at = put(stored, TYPE_HINT_OFFSET, typeHint);
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
	 * @throws IllegalStateException when the string is not an entry of this format (one written by
	 * an earlier version of tagcache, or by something else)
	 */
	public static StoredEntry decode(byte[] stored) {
		if (stored.length <= TYPE_HINT_OFFSET || (stored[0] != EXPIRING && stored[0] != ETERNAL)) {
			throw new IllegalStateException("Not a tagcache entry: no header line in " + stored.length + " bytes");
		}
		int hintEnd = TYPE_HINT_OFFSET;
		while (hintEnd < stored.length && stored[hintEnd] != TAG_SEPARATOR && stored[hintEnd] != END_OF_HEADER) {
			hintEnd++;
		}
		int valueOffset = hintEnd;
		while (valueOffset < stored.length && stored[valueOffset] != END_OF_HEADER) {
			valueOffset++;
		}
		if (valueOffset == stored.length) {
			throw new IllegalStateException("Not a tagcache entry: no header line in " + stored.length + " bytes");
		}
		return new StoredEntry(stored, valueOffset + 1,
				new String(stored, TYPE_HINT_OFFSET, hintEnd - TYPE_HINT_OFFSET, StandardCharsets.UTF_8),
				number(stored, EXPIRY_OFFSET, 13), number(stored, LOAD_TIME_OFFSET, 6),
				number(stored, SOFT_INVALIDATED_OFFSET, 13));
	}

	/**
	 * Whether a stored string is an entry of an earlier version of tagcache: {@code '0'} or {@code '1'},
	 * the type hint and tags, then the value; read as a miss and overwritten by the next put.
	 * @param stored the stored string
	 * @return whether it is in the earlier format
	 */
	static boolean isEarlierFormat(byte[] stored) {
		if (stored.length == 0 || (stored[0] != '0' && stored[0] != '1')) {
			return false;
		}
		for (byte b : stored) {
			if (b == END_OF_HEADER) {
				return true;
			}
		}
		return false;
	}

	private static void digits(byte[] target, int at, int width, long value) {
		long rest = value;
		for (int i = at + width - 1; i >= at; i--) {
			target[i] = (byte) ('0' + (rest % 10));
			rest /= 10;
		}
	}

	private static long number(byte[] source, int at, int width) {
		long value = 0;
		for (int i = at; i < at + width; i++) {
			int digit = source[i] - '0';
			if (digit < 0 || digit > 9) {
				throw new IllegalStateException("Not a tagcache entry: a header field holds '" + (char) source[i] + "'");
			}
			value = value * 10 + digit;
		}
		return value;
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
