package io.tagcache.redis;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;

import io.lettuce.core.ScriptOutputType;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The contract of PROTOCOL.md: what Java encodes as an entry ({@link StoredEntry#encode}) is what the
 * scripts' {@code lib.lua} reads back (the header through {@code read_header}, whether it expires,
 * its type hint and tags), including tags outside ASCII, a cached null, no tags, and headers longer
 * than the 256 bytes {@code read_header} reads first; and Java decodes the same bytes to the same
 * hint and value.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class StoredEntryProtocolIntegrationTests {

	/** Prints what lib.lua makes of an entry: { eternal (1/0), type hint, fresh (1/0), tags... }. */
	private static final String PARSE = """
			local header = read_header(KEYS[1])
			local tab = string.find(header, '\\t', 1, true)
			local result = { is_eternal(header) and 1 or 0, string.sub(header, 34, (tab or (#header + 1)) - 1),
			  is_fresh(redis.call('GET', KEYS[1]), now_ms()) and 1 or 0 }
			for tag in string.gmatch(header, '\\t([^\\t]+)') do
			  result[#result + 1] = tag
			end
			return result
			""";

	@Parameter
	RedisTopology redis;

	@Test
	void anExpiringEntryWithTags() {
		assertRoundTrip("{\"id\":1}".getBytes(StandardCharsets.UTF_8), "com.example.User", false,
				List.of("user-1", "loc-1"));
	}

	@Test
	void anEternalEntryWithTagsOutsideAscii() {
		assertRoundTrip("[1,2]".getBytes(StandardCharsets.UTF_8), "java.util.List<java.lang.Integer>", true,
				List.of("ville-Zürich", "città-1", "用户-7"));
	}

	@Test
	void aCachedNullWithoutTags() {
		assertRoundTrip(new byte[0], "", false, List.of());
	}

	@Test
	void aHeaderLongerThanTheFirstRead() {
		List<String> tags = IntStream.range(0, 60).mapToObj(i -> "tag-" + i + "-" + "x".repeat(i)).toList();
		assertRoundTrip("\"v\"".getBytes(StandardCharsets.UTF_8), "java.lang.String", false, tags);
	}

	@Test
	void aValueHoldingNewlinesAndTabsDoesNotLeakIntoTheHeader() {
		assertRoundTrip("\"a\\n\\tb\"\n\t".getBytes(StandardCharsets.UTF_8), "java.lang.String", false,
				List.of("only"));
	}

	@Test
	void expiredAndSoftInvalidatedEntriesAreNotFreshToTheScripts() {
		byte[] value = "1".getBytes(StandardCharsets.UTF_8);
		assertThat(parse(StoredEntry.encode(value, "java.lang.Integer", System.currentTimeMillis() - 60_000, 5,
				List.of("t"))).get(2)).as("expired a minute ago").isEqualTo(0L);
		byte[] soft = StoredEntry.encode(value, "java.lang.Integer", 0, 5, List.of("t"));
		System.arraycopy("1700000000000".getBytes(StandardCharsets.US_ASCII), 0, soft,
				StoredEntry.SOFT_INVALIDATED_OFFSET, 13);
		assertThat(StoredEntry.decode(soft).softInvalidatedAt()).isEqualTo(1_700_000_000_000L);
		assertThat(parse(soft).get(2)).as("soft-invalidated").isEqualTo(0L);
	}

	private void assertRoundTrip(byte[] value, String typeHint, boolean eternal, List<String> tags) {
		long expiresAt = eternal ? 0 : System.currentTimeMillis() + 60_000;
		byte[] stored = StoredEntry.encode(value, typeHint, expiresAt, 42, tags);
		StoredEntry decoded = StoredEntry.decode(stored);
		assertThat(decoded.typeHint()).isEqualTo(typeHint);
		assertThat(decoded.expiresAt()).isEqualTo(expiresAt);
		assertThat(decoded.loadMillis()).isEqualTo(42);
		assertThat(decoded.isSoftInvalidated()).isFalse();
		assertThat(decoded.tags()).isEqualTo(tags);
		assertThat(new String(stored, decoded.valueOffset(), decoded.valueLength(), StandardCharsets.UTF_8))
			.isEqualTo(new String(value, StandardCharsets.UTF_8));

		List<Object> parsed = parse(stored);
		assertThat((Long) parsed.get(0)).as("eternal").isEqualTo(eternal ? 1L : 0L);
		assertThat(text(parsed.get(1))).as("type hint").isEqualTo(typeHint);
		assertThat((Long) parsed.get(2)).as("fresh").isEqualTo(1L);
		assertThat(parsed.subList(3, parsed.size()).stream().map(StoredEntryProtocolIntegrationTests::text).toList())
			.as("tags")
			.isEqualTo((tags.isEmpty()) ? Collections.emptyList() : tags);
	}

	private List<Object> parse(byte[] stored) {
		String key = "t" + UUID.randomUUID() + ":{protocol}:e:1";
		String script = libLua() + "\n" + PARSE;
		List<Object> parsed = this.redis.admin().sync(commands -> {
			commands.set(key, new String(stored, StandardCharsets.UTF_8));
			List<Object> reply = commands.eval(script, ScriptOutputType.MULTI, key);
			commands.del(key);
			return reply;
		});
		assertThat(parsed).isNotNull();
		return parsed;
	}

	private static String text(Object reply) {
		return (String) reply;
	}

	private static String libLua() {
		try (InputStream in = TagCacheScript.class.getResourceAsStream("lib.lua")) {
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
