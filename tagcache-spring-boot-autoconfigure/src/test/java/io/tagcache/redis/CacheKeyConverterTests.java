package io.tagcache.redis;

import java.math.BigInteger;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The text of scalar keys, which names stored entries and so must never change; the shortcut for
 * strings, longs and integers must give what the general path (used for elements of a list) gives.
 */
class CacheKeyConverterTests {

	private final CacheKeyConverter converter = new CacheKeyConverter();

	@Test
	void longsConvertAsTheGeneralPathDoes() {
		for (long key : new long[] { 0, 1, 42, -1, -42, Long.MAX_VALUE, Long.MIN_VALUE }) {
			assertSameAsGeneralPath(key);
		}
		assertThat(convert(-42L)).isEqualTo("-42");
		assertThat(convert(Long.MIN_VALUE)).isEqualTo("-9223372036854775808");
	}

	@Test
	void integersConvertAsTheGeneralPathDoes() {
		for (int key : new int[] { 0, 1, 42, -1, -42, Integer.MAX_VALUE, Integer.MIN_VALUE }) {
			assertSameAsGeneralPath(key);
		}
		assertThat(convert(Integer.MIN_VALUE)).isEqualTo("-2147483648");
	}

	@Test
	void stringsAreTheirOwnText() {
		for (String key : List.of("", "ann", "a,b", "say \"hi\"", "back\\slash", "[1]", "null")) {
			assertThat(convert(key)).isSameAs(key);
			assertThat(convert(new StringBuilder(key))).isEqualTo(key);
		}
	}

	@Test
	void otherNumbersAndNumbersInCompositesAreUnchanged() {
		assertThat(convert((short) -3)).isEqualTo("-3");
		assertThat(convert((byte) 7)).isEqualTo("7");
		assertThat(convert(new BigInteger("-123456789012345678901234567890")))
			.isEqualTo("-123456789012345678901234567890");
		assertThat(convert(List.of(1, -2L, "x"))).isEqualTo("[1,-2,\"x\"]");
	}

	private void assertSameAsGeneralPath(Object key) {
		assertThat(convert(key)).isEqualTo(key.toString());
		assertThat("[" + convert(key) + "]").isEqualTo(convert(List.of(key)));
	}

	private String convert(Object key) {
		return this.converter.convert(key, "users");
	}

}
