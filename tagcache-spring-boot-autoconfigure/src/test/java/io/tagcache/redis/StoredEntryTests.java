package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The stored form of an entry: a header line the Lua scripts parse, then the value.
 */
class StoredEntryTests {

	@Test
	void headerCarriesExpiryTypeHintAndTagsBeforeTheValue() {
		byte[] stored = StoredEntry.encode(bytes("{\"id\":1}"), "com.example.User", 1_765_000_000_123L, 42,
				List.of("user-1", "loc-1"));
		assertThat(new String(stored, StandardCharsets.UTF_8))
			.isEqualTo("E1765000000123000042" + "0".repeat(13) + "com.example.User\tuser-1\tloc-1\n{\"id\":1}");
		StoredEntry entry = StoredEntry.decode(stored);
		assertThat(entry.typeHint()).isEqualTo("com.example.User");
		assertThat(entry.isNull()).isFalse();
		assertThat(entry.isEternal()).isFalse();
		assertThat(entry.tags()).containsExactly("user-1", "loc-1");
		assertThat(new String(entry.bytes(), entry.valueOffset(), entry.valueLength(), StandardCharsets.UTF_8))
			.isEqualTo("{\"id\":1}");
	}

	@Test
	void eternalEntriesAreMarked() {
		byte[] stored = StoredEntry.encode(bytes("1"), "java.lang.Integer", 0, 0, List.of());
		assertThat(stored).startsWith(bytes("N" + "0".repeat(32) + "java"));
		assertThat(StoredEntry.decode(stored).isEternal()).isTrue();
		assertThat(StoredEntry.decode(stored).tags()).isEmpty();
	}

	@Test
	void aNullValueHasAnEmptyHintAndNoBytes() {
		byte[] stored = StoredEntry.encode(new byte[0], "", 1, 0, List.of("user-1"));
		StoredEntry entry = StoredEntry.decode(stored);
		assertThat(entry.isNull()).isTrue();
		assertThat(entry.valueLength()).isZero();
	}

	@Test
	void newLinesInTheValueDoNotEndTheHeaderEarly() {
		byte[] stored = StoredEntry.encode(bytes("\"a\\nb\"\n"), "java.lang.String", 1, 0, List.of("t"));
		StoredEntry entry = StoredEntry.decode(stored);
		assertThat(new String(entry.bytes(), entry.valueOffset(), entry.valueLength(), StandardCharsets.UTF_8))
			.isEqualTo("\"a\\nb\"\n");
	}

	@Test
	void tagsOutsideAsciiAreEncodedAsUtf8() {
		byte[] stored = StoredEntry.encode(bytes("1"), "java.lang.Integer", 1, 0, List.of("città-1", "用户-1"));
		assertThat(new String(stored, StandardCharsets.UTF_8)).endsWith("java.lang.Integer\tcittà-1\t用户-1\n1");
		assertThat(StoredEntry.decode(stored).valueOffset()).isEqualTo(stored.length - 1);
	}

	@Test
	void aStringWithoutHeaderIsRejectedWithAClearMessage() {
		assertThatIllegalStateException().isThrownBy(() -> StoredEntry.decode(bytes("{\"plain\":true}")))
			.withMessageContaining("Not a tagcache entry");
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
