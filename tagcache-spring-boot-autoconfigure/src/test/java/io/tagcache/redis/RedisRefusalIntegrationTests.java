package io.tagcache.redis;

import java.util.List;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.cache.Cache.ValueWrapper;
import org.springframework.dao.InvalidDataAccessResourceUsageException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Keys under the cache's prefix that are not what tagcache wrote (left by another program, or by a
 * bug): Redis refuses commands on them, which is not an outage. Every other key keeps being served
 * from Redis, and entries of the wrong type are overwritten or removed like entries.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class RedisRefusalIntegrationTests {

	@Parameter
	RedisTopology redis;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	@BeforeEach
	void createCache() {
		this.manager = TestCaches.manager(this.redis);
		this.cache = this.manager.getCache("users");
	}

	@Test
	void anEntryKeyOfTheWrongTypeIsAMissAndIsOverwrittenByTheNextPut() {
		this.cache.put(1L, "alice", List.of("user-1"));
		this.cache.put(2L, "bob", List.of("user-2"));
		replaceWithHash(entryKey(1L));

		for (int i = 0; i < 5; i++) {
			assertThat(this.cache.get(1L)).isNull();
		}
		assertThat(this.cache.getStatistics().getErrors("get")).isEqualTo(5);
		assertThat(this.manager.isRedisAvailable()).as("the circuit stays closed: Redis answers").isTrue();
		assertThat(this.cache.get(2L)).extracting(ValueWrapper::get).isEqualTo("bob");

		this.cache.put(1L, "alice again", List.of("user-1"));
		assertThat(this.cache.get(1L)).extracting(ValueWrapper::get).isEqualTo("alice again");
	}

	@Test
	void anInvalidationRemovesAnEntryKeyOfTheWrongType() {
		this.cache.put(1L, "alice", List.of("user-1", "loc-1"));
		replaceWithHash(entryKey(1L));
		assertThat(this.cache.invalidateTags(List.of("loc-1"))).isOne();
		long left = this.redis.admin().sync(redis -> redis.exists(entryKey(1L)));
		assertThat(left).isZero();
	}

	@Test
	void anInvalidationRedisRefusesIsThrownToTheCallerNotQueued() {
		this.cache.put(1L, "alice", List.of("user-1", "loc-1"));
		this.cache.put(2L, "bob", List.of("user-2"));
		String index = this.manager.getKeyPrefix() + ":{users}:t:loc-1";
		this.redis.admin().sync(redis -> redis.set(index, "not a sorted set"));

		assertThatExceptionOfType(InvalidDataAccessResourceUsageException.class)
			.isThrownBy(() -> this.cache.invalidateTags(List.of("loc-1")))
			.withMessageContaining("WRONGTYPE");
		assertThat(this.manager.getPendingInvalidations()).as("a replay would be refused again").isZero();
		assertThat(this.manager.isRedisAvailable()).isTrue();
		assertThat(this.cache.getStatistics().getErrors("invalidate")).isOne();
		assertThat(this.cache.invalidateTags(List.of("user-2"))).isOne();
	}

	private String entryKey(long key) {
		return this.manager.getKeyPrefix() + ":{users}:e:" + key;
	}

	private void replaceWithHash(String key) {
		this.redis.admin().sync(redis -> redis.del(key));
		this.redis.admin().sync(redis -> redis.hset(key, "written", "by someone else"));
	}

}
