package io.tagcache.redis;

import java.util.List;
import java.util.Map;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 7: {@code clear} and invalidations touch only their key prefix and cache, and never
 * send {@code KEYS}, {@code FLUSHDB} or {@code FLUSHALL}.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class IsolationIntegrationTests {

	@Parameter
	RedisTopology redis;

	@Test
	void clearAndInvalidateLeaveOtherCachesPrefixesAndForeignKeysAlone() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCacheManager otherApplication = TestCaches.manager(this.redis);
		String foreignKey = "foreign:" + manager.getKeyPrefix();
		this.redis.admin().sync(redis -> redis.set(foreignKey, "mine"));
		manager.getCache("users").put(1L, "alice", List.of("user-1"));
		manager.getCache("lists").put(1L, "list", List.of("user-1"));
		otherApplication.getCache("users").put(1L, "alice elsewhere", List.of("user-1"));

		this.redis.admin().resetStats();
		manager.getCache("users").clear();
		manager.invalidate("user-1");

		assertThat(manager.getCache("lists").get(1L)).as("invalidated in its own prefix").isNull();
		assertThat(otherApplication.getCache("users").get(1L)).as("another prefix").isNotNull();
		assertThat(this.redis.admin().<String>sync(redis -> redis.get(foreignKey))).isEqualTo("mine");
		Map<String, Long> calls = this.redis.admin().commandCalls();
		assertThat(calls).doesNotContainKeys("keys", "flushdb", "flushall");
		assertThat(calls).containsKey("scan");
		this.redis.admin().sync(redis -> redis.del(foreignKey));
	}

	@Test
	void clearTakesGlobCharactersInCacheNamesLiterally() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache star = manager.getCache("a*");
		RedisTaggedCache plain = manager.getCache("abc");
		RedisTaggedCache bracket = manager.getCache("[ab]c");
		star.put(1L, "star");
		plain.put(1L, "plain");
		bracket.put(1L, "bracket");
		star.clear();
		bracket.clear();
		assertThat(star.get(1L)).isNull();
		assertThat(bracket.get(1L)).isNull();
		assertThat(plain.get(1L)).isNotNull();
	}

}
