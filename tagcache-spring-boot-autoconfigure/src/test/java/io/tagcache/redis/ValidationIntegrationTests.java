package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import java.util.regex.Pattern;

import io.tagcache.UncachedCause;
import io.tagcache.ValueRefusedException;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Guarantee 8, safe by default: bad tags, cache names and values are refused with a message naming
 * them and nothing is written; untyped reads instantiate only allow-listed types.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
@ExtendWith(OutputCaptureExtension.class)
class ValidationIntegrationTests {

	@Parameter
	RedisTopology redis;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	@BeforeEach
	void createCache() {
		// The default allow-list: JDK value types only
		this.manager = RedisTaggedCacheManager.builder(this.redis.connectionFactory())
			.keyPrefix(TestCaches.uniquePrefix())
			.build();
		this.cache = this.manager.getCache("users");
	}

	@Test
	void invalidTagsAreRefusedNamingTheTagAndNothingIsWritten() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.cache.put(1L, "v", Arrays.asList("ok", null)))
			.withMessageContaining("null");
		assertThatIllegalArgumentException().isThrownBy(() -> this.cache.put(1L, "v", List.of("ok", "  ")))
			.withMessageContaining("blank");
		String longTag = "x".repeat(1025);
		assertThatIllegalArgumentException().isThrownBy(() -> this.cache.put(1L, "v", List.of(longTag)))
			.withMessageContaining("longer than 1024 bytes")
			.withMessageContaining("xxxx");
		assertThatIllegalArgumentException().isThrownBy(() -> this.cache.put(1L, "v", List.of("user-\n1")))
			.withMessageContaining("user-?1")
			.withMessageContaining("control character");
		assertThat(this.cache.get(1L)).isNull();
		assertThatIllegalArgumentException().isThrownBy(() -> this.manager.invalidate("ok", ""))
			.withMessageContaining("blank");
		this.cache.put(1L, "v", List.of("x".repeat(1024)));
		assertThat(this.cache.get(1L)).as("a tag of exactly 1 KiB is fine").isNotNull();
	}

	@Test
	void cacheNamesAndPrefixesWithBracesAreRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.manager.getCache("users{1}"))
			.withMessageContaining("'users{1}'")
			.withMessageContaining("hash tag");
		assertThatIllegalArgumentException()
			.isThrownBy(() -> RedisTaggedCacheManager.builder(this.redis.connectionFactory()).keyPrefix("app{1}"))
			.withMessageContaining("'app{1}'");
		assertThatIllegalArgumentException().isThrownBy(() -> this.manager.getCache("x".repeat(201)))
			.withMessageContaining("longer than 200");
	}

	@Test
	void aValueThatCannotBeSerializedFailsNamingCacheAndTypeAndWritesNothing() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.cache.put(1L, new Exploding(), List.of("user-1")))
			.withMessageContaining("'users'")
			.withMessageContaining(Exploding.class.getName());
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.redis.admin().scan(this.manager.getKeyPrefix() + ":{users}:*")).isEmpty();
	}

	@Test
	void untypedReadsOfTypesOutsideTheAllowListAreMissesCountedAndLoggedOnce(CapturedOutput output) {
		String entryKey = this.manager.getKeyPrefix() + ":{users}:e:1";
		String gadget = new String(StoredEntry.encode("{}".getBytes(StandardCharsets.UTF_8), Gadget.class.getName(),
				System.currentTimeMillis() + 60_000, 0, List.of()), StandardCharsets.UTF_8);
		this.redis.admin().sync(redis -> redis.set(entryKey, gadget));
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.get(1L)).isNull();
		assertThat(gadgetInitialized).as("the class was not even initialized").isFalse();
		assertThat(this.cache.getStatistics().getMisses()).isEqualTo(2);
		assertThat(this.manager.getUncachedResults(UncachedCause.DISALLOWED_TYPE)).isEqualTo(2);
		assertThat(output.getOut().split(Pattern.quote(Gadget.class.getName() + ", which is not allowed"), -1))
			.as("logged once").hasSize(2);

		String processBuilders = new String(StoredEntry.encode("[]".getBytes(StandardCharsets.UTF_8),
				"java.util.List<java.lang.ProcessBuilder>", System.currentTimeMillis() + 60_000, 0, List.of("user-1")),
				StandardCharsets.UTF_8);
		this.redis.admin().sync(redis -> redis.set(entryKey, processBuilders));
		assertThat(this.cache.get(1L)).isNull();
		assertThat(output).contains("java.lang.ProcessBuilder");
	}

	/**
	 * A plain {@code @Cacheable} result of a type outside the allow-list used to be stored, so that
	 * the first call worked and every later one failed until the entry expired. It is refused when
	 * written; the call that wrote it is unaffected.
	 */
	@Test
	void untypedWritesOfTypesOutsideTheAllowListAreRefusedCountedAndLoggedOnce(CapturedOutput output) {
		TestCaches.Location rome = new TestCaches.Location(1, "Rome");
		this.cache.put(1L, rome);
		this.cache.put(2L, List.of(rome));
		assertThat(this.cache.putIfAbsent(3L, rome)).isNull();
		assertThat(this.cache.get(4L, () -> rome)).isEqualTo(rome);

		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.get(2L)).isNull();
		assertThat(this.cache.get(3L)).isNull();
		assertThat(this.cache.get(4L)).isNull();
		assertThat(this.cache.getStatistics().getPuts()).isZero();
		assertThat(this.manager.getUncachedResults(UncachedCause.DISALLOWED_TYPE)).isEqualTo(4);
		assertThat(this.redis.admin().scan(this.manager.getKeyPrefix() + ":{users}:e:*")).isEmpty();
		assertThat(output.getOut().split(Pattern.quote("refused a value of type"), -1)).as("logged once").hasSize(2);
		assertThat(output).contains(TestCaches.Location.class.getName()).contains("tagcache.allowed-types");
	}

	/**
	 * A class Jackson writes as {@code {}} (private fields, no getters) used to be stored and then
	 * missed on every call forever. The first write of the type reads it back and refuses it.
	 */
	@Test
	void aValueJacksonCannotReadBackIsRefusedWhenFirstWritten(CapturedOutput output) {
		RedisTaggedCacheManager manager = RedisTaggedCacheManager.builder(this.redis.connectionFactory())
			.keyPrefix(TestCaches.uniquePrefix())
			.allowedTypes(TypeAllowList.jdkValueTypes().and(Opaque.class.getName()))
			.build();
		RedisTaggedCache cache = manager.getCache("opaque");
		cache.put(1L, new Opaque("secret"));
		cache.put(2L, new Opaque("other"));
		assertThat(cache.get(1L)).isNull();
		assertThat(manager.getUncachedResults(UncachedCause.NOT_READABLE)).isEqualTo(2);
		assertThat(output.getOut().split(Pattern.quote("refused a value of type " + Opaque.class.getName()), -1))
			.as("logged once").hasSize(2);
		assertThat(output).contains("as {}").contains("record");

		assertThatExceptionOfType(ValueRefusedException.class)
			.isThrownBy(() -> cache.put(3L, new Opaque("tagged"), List.of("opaque-3")))
			.satisfies((ex) -> assertThat(ex.getUncachedCause()).isEqualTo(UncachedCause.NOT_READABLE))
			.withMessageContaining(Opaque.class.getName());
		assertThatExceptionOfType(ValueRefusedException.class)
			.isThrownBy(() -> cache.put(4L, new Unconstructible(), List.of()))
			.withMessageContaining("cannot read its JSON back");
		assertThat(this.redis.admin().scan(manager.getKeyPrefix() + ":{opaque}:*")).isEmpty();
	}

	@Test
	void anEntryOfAnEarlierVersionIsAMissThatTheNextPutOverwrites() {
		String entryKey = this.manager.getKeyPrefix() + ":{users}:e:1";
		this.redis.admin().sync(redis -> redis.set(entryKey, "0java.lang.String\tuser-1\n\"old\""));
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.get(1L, () -> "new")).isEqualTo("new");
		assertThat(this.cache.get(1L).get()).isEqualTo("new");
		assertThat(this.cache.getStatistics().getErrors("get")).isZero();
	}

	@Test
	void aValueNotWrittenByTagcacheIsReportedAndDoesNotLookLikeAnOutage() {
		String entryKey = this.manager.getKeyPrefix() + ":{users}:e:1";
		this.redis.admin().sync(redis -> redis.set(entryKey, "{\"written\":\"by someone else\"}"));
		for (int i = 0; i < 5; i++) {
			assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> this.cache.get(1L))
				.withMessageContaining("Not a tagcache entry");
		}
		assertThat(this.cache.retrieve(1L)).failsWithin(java.time.Duration.ofSeconds(5))
			.withThrowableThat()
			.withMessageContaining("Not a tagcache entry");
		assertThat(this.manager.isRedisAvailable()).as("Redis answered every time").isTrue();
		assertThat(this.cache.getStatistics().getErrors("get")).isZero();
	}

	@Test
	void typedReadsDoNotNeedTheAllowList() {
		this.cache.put(1L, new TestCaches.Location(1, "Rome"), List.of("loc-1"));
		assertThat(this.cache.get(1L, TestCaches.Location.class)).isEqualTo(new TestCaches.Location(1, "Rome"));
		assertThat(this.cache.get(1L)).as("an untyped read of it is a miss").isNull();
	}

	static volatile boolean gadgetInitialized;

	/** Stands for a class whose static initializer does harm. */
	static class Gadget {

		static {
			gadgetInitialized = true;
		}

	}

	/** Written as {} by Jackson: private state, no getters. */
	static class Opaque {

		private final String secret;

		Opaque() {
			this.secret = null;
		}

		Opaque(String secret) {
			this.secret = secret;
		}

	}

	/** Written with its getter, but its property is of an abstract type Jackson cannot instantiate. */
	static class Unconstructible {

		private Shape shape = new Square();

		public Shape getShape() {
			return this.shape;
		}

		public void setShape(Shape shape) {
			this.shape = shape;
		}

	}

	abstract static class Shape {

		public abstract int getSides();

	}

	static class Square extends Shape {

		@Override
		public int getSides() {
			return 4;
		}

	}

	/** A value Jackson cannot write: its only property fails. */
	static class Exploding {

		public String getName() {
			throw new IllegalStateException("boom");
		}

	}

}
