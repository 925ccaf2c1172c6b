package io.tagcache.redis;

import java.util.Arrays;
import java.util.List;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * Guarantee 8, safe by default: bad tags, cache names and values are refused with a message naming
 * them and nothing is written; untyped reads instantiate only allow-listed types.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
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
	void untypedReadsRefuseTypesOutsideTheAllowList() {
		String entryKey = this.manager.getKeyPrefix() + ":{users}:e:1";
		this.redis.admin().sync(redis -> redis.set(entryKey, "0" + Gadget.class.getName() + "\n{}"));
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> this.cache.get(1L))
			.withMessageContaining(Gadget.class.getName())
			.withMessageContaining("not allowed");
		assertThat(gadgetInitialized).as("the class was not even initialized").isFalse();

		this.redis.admin().sync(redis -> redis.set(entryKey, "0java.util.List<java.lang.ProcessBuilder>\tuser-1\n[]"));
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> this.cache.get(1L))
			.withMessageContaining("java.lang.ProcessBuilder");
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
		this.cache.put(1L, new TestCaches.Location(1, "Rome"));
		assertThat(this.cache.get(1L, TestCaches.Location.class)).isEqualTo(new TestCaches.Location(1, "Rome"));
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> this.cache.get(1L))
			.withMessageContaining("allow-list");
	}

	static volatile boolean gadgetInitialized;

	/** Stands for a class whose static initializer does harm. */
	static class Gadget {

		static {
			gadgetInitialized = true;
		}

	}

	/** A value Jackson cannot write: its only property fails. */
	static class Exploding {

		public String getName() {
			throw new IllegalStateException("boom");
		}

	}

}
