package io.tagcache.redis;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 5: every key of a cache lies in the hash slot of the cache's hash tag, so every script
 * touches one slot; caches spread over the cluster's nodes are all reached by one invalidation.
 */
class ClusterSlotIntegrationTests {

	private final RedisTopology redis = RedisTopology.CLUSTER;

	@Test
	void everyKeyOfACacheIsInTheSlotOfItsHashTag() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		List<String> names = List.of("users", "lists", "locations", "reports", "orders", "carts");
		for (String name : names) {
			RedisTaggedCache cache = manager.getCache(name);
			for (long id = 0; id < 20; id++) {
				cache.put(id, "v" + id, List.of("user-" + id, "loc-" + (id % 3)));
			}
			cache.evict(0L);
			cache.invalidateTags(List.of("loc-1"));
		}
		for (String name : names) {
			int slot = this.redis.admin().slotOf("{" + name + "}");
			List<String> keys = this.redis.admin().scan(manager.getKeyPrefix() + ":{" + name + "}:*");
			assertThat(keys).isNotEmpty().allSatisfy(key -> assertThat(this.redis.admin().slotOf(key)).isEqualTo(slot));
		}
	}

	@Test
	void oneInvalidationReachesCachesOnEveryNode() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		List<String> names = List.of("a", "b", "c", "d", "e", "f", "g", "h");
		Set<Integer> slots = names.stream().map(name -> this.redis.admin().slotOf("{" + name + "}")).collect(Collectors.toSet());
		// redis-cli --cluster create gives each of the three masters a third of the slots
		assertThat(slots.stream().map(slot -> slot * 3 / 16384).collect(Collectors.toSet())).hasSize(3);
		for (String name : names) {
			manager.getCache(name).put(1L, name, List.of("shared"));
		}
		assertThat(manager.invalidate("shared")).isEqualTo(names.size());
		assertThat(names).allSatisfy(name -> assertThat(manager.getCache(name).get(1L)).isNull());
	}

}
