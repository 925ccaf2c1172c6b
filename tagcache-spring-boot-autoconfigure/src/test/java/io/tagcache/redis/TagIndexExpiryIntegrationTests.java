package io.tagcache.redis;

import java.time.Duration;
import java.util.List;

import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 4, no leak: a tag index lives as long as its longest-lived entry (until the latest expiry
 * any of its records was given), so that once every
 * entry has expired no key of any tag remains, only the cache's bookkeeping keys.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class TagIndexExpiryIntegrationTests {

	@Parameter
	RedisTopology redis;

	@Test
	void nothingOfATagRemainsAfterItsEntriesExpired() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis, builder -> builder
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofMillis(300))));
		RedisTaggedCache cache = manager.getCache("users");
		for (long id = 0; id < 50; id++) {
			cache.put(id, "user " + id, List.of("user-" + id, "loc-" + (id % 5), "all"));
		}
		manager.invalidate("loc-0");
		assertThat(keysOf(manager)).anyMatch(key -> key.contains(":t:"));
		Awaitility.await()
			.atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(keysOf(manager)).as("only bookkeeping keys remain")
				.allMatch(key -> key.endsWith(":{users}:gen") || key.endsWith(":{users}:fence")
						|| key.equals(manager.getKeyPrefix() + ":caches")));
	}

	@Test
	void theIndexFollowsItsLongestLivedEntry() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("users");
		String index = manager.getKeyPrefix() + ":{users}:t:loc-1";
		cache.putFenced(1L, "short", List.of("loc-1"), Duration.ofSeconds(10), cache.readFence(1L));
		assertThat(pttl(index)).isBetween(1L, 10_000L);
		cache.putFenced(2L, "long", List.of("loc-1"), Duration.ofSeconds(100), cache.readFence(2L));
		assertThat(pttl(index)).isBetween(10_001L, 100_000L);
		cache.put(3L, "forever", List.of("loc-1"));
		RedisTaggedCacheManager eternal = TestCaches.manager(this.redis, builder -> builder
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ZERO)));
		RedisTaggedCache eternalCache = eternal.getCache("users");
		eternalCache.put(1L, "forever", List.of("loc-1"));
		String eternalIndex = eternal.getKeyPrefix() + ":{users}:t:loc-1";
		assertThat(pttl(eternalIndex)).as("an entry without TTL keeps its index").isEqualTo(-1L);
		eternalCache.evict(1L);
		assertThat(pttl(eternalIndex)).as("an empty index is gone").isEqualTo(-2L);
	}

	/**
	 * An index that held an entry without TTL has no TTL itself; once that entry is gone, the
	 * index must follow its remaining entries' expiry again, or it would outlive them forever.
	 */
	@Test
	void anIndexFollowsExpiryAgainWhenItsEternalEntryIsGone() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("users");
		String loc1 = manager.getKeyPrefix() + ":{users}:t:loc-1";
		String loc2 = manager.getKeyPrefix() + ":{users}:t:loc-2";
		cache.putFenced(1L, "eternal", List.of("loc-1", "loc-2"), Duration.ZERO, cache.readFence(1L));
		cache.putFenced(2L, "expiring", List.of("loc-1", "loc-2"), Duration.ofSeconds(60), cache.readFence(2L));
		assertThat(pttl(loc1)).isEqualTo(-1L);
		cache.evict(1L);
		assertThat(pttl(loc1)).as("after evict").isBetween(1L, 60_000L);
		cache.putFenced(3L, "eternal", List.of("loc-2"), Duration.ZERO, cache.readFence(3L));
		assertThat(pttl(loc2)).isEqualTo(-1L);
		cache.putFenced(3L, "now expiring, moved", List.of("loc-3"), Duration.ofSeconds(30), cache.readFence(3L));
		assertThat(pttl(loc2)).as("after the entry moved to another tag").isBetween(1L, 60_000L);
		cache.putFenced(5L, "expiring", List.of("loc-2"), Duration.ofSeconds(60), cache.readFence(5L));
		cache.putFenced(4L, "eternal", List.of("loc-1", "loc-2"), Duration.ZERO, cache.readFence(4L));
		assertThat(pttl(loc2)).isEqualTo(-1L);
		manager.invalidate("loc-1");
		assertThat(pttl(loc2)).as("after an invalidation through another tag").isBetween(1L, 60_000L);
	}

	@Test
	void rewritingAnEntryMovesItsIndexScore() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("users");
		String index = manager.getKeyPrefix() + ":{users}:t:loc-1";
		cache.putFenced(1L, "v1", List.of("loc-1"), Duration.ofSeconds(100), cache.readFence(1L));
		double first = this.redis.admin().sync(redis -> redis.zscore(index, "1"));
		cache.putFenced(1L, "v2", List.of("loc-1"), Duration.ofSeconds(10), cache.readFence(1L));
		double second = this.redis.admin().sync(redis -> redis.zscore(index, "1"));
		assertThat(second).isLessThan(first);
		// the index's TTL first: the entry's, read after it, is at most that (Redis 7 keeps the longest TTL the
		// index was given, 6.2 follows the entry)
		long indexTtl = pttl(index);
		long entryTtl = pttl(manager.getKeyPrefix() + ":{users}:e:1");
		assertThat(indexTtl).as("the index outlives the entry, never its longest TTL").isBetween(entryTtl, 100_000L);
	}

	@Test
	void reputtingAnExpiringEntryKeepsAnIndexWithAnEternalEntryWithoutTtl() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("users");
		String index = manager.getKeyPrefix() + ":{users}:t:loc-1";
		cache.putFenced(1L, "expiring", List.of("loc-1"), Duration.ofSeconds(30), cache.readFence(1L));
		cache.putFenced(2L, "eternal", List.of("loc-1"), Duration.ZERO, cache.readFence(2L));
		cache.putFenced(1L, "expiring again", List.of("loc-1"), Duration.ofSeconds(10), cache.readFence(1L));
		assertThat(pttl(index)).as("entry 2 never expires").isEqualTo(-1L);
		cache.evict(2L);
		assertThat(pttl(index)).as("then the index follows entry 1 again").isBetween(1L, 30_000L);
		cache.putFenced(1L, "longer", List.of("loc-1"), Duration.ofSeconds(60), cache.readFence(1L));
		assertThat(pttl(index)).isBetween(30_000L, 60_000L);
	}

	private long pttl(String key) {
		return this.redis.admin().sync(redis -> redis.pttl(key));
	}

	private List<String> keysOf(RedisTaggedCacheManager manager) {
		return this.redis.admin().scan(manager.getKeyPrefix() + ":*");
	}

}
