package io.tagcache.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import io.tagcache.redis.RedisTaggedCacheWriter.NewEntry;
import io.tagcache.redis.RedisTaggedCacheWriter.PutMode;
import io.tagcache.test.RedisTopology;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A cache spread over several hash slots ({@code withShards}): keys are routed to a stable shard,
 * every operation works per shard, and an invalidation reaches every shard of every cache, also of
 * caches this instance never opened.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class ShardedCacheIntegrationTests {

	private static final Log logger = LogFactory.getLog(ShardedCacheIntegrationTests.class);

	@Parameter
	RedisTopology redis;

	private RedisTaggedCacheManager sharded(int shards) {
		return TestCaches.manager(this.redis, builder -> builder
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withShards(shards)));
	}

	@Test
	void everyOperationWorksAcrossShards() {
		RedisTaggedCacheManager manager = sharded(4);
		RedisTaggedCache cache = manager.getCache("users");
		for (long id = 0; id < 40; id++) {
			cache.put(id, "user " + id, List.of("user-" + id, "loc-" + (id % 2), "all"));
		}
		Set<String> shardsUsed = this.redis.admin()
			.scan(manager.getKeyPrefix() + ":*:e:*")
			.stream()
			.map(key -> key.substring(0, key.indexOf('}') + 1))
			.collect(Collectors.toSet());
		assertThat(shardsUsed).hasSize(4);
		assertThat(cache.get(7L).get()).isEqualTo("user 7");
		assertThat(cache.countEntries()).isEqualTo(40);
		assertThat(cache.countEntriesWithTag("loc-1")).isEqualTo(20);
		assertThat(cache.invalidateTags(List.of("loc-1"))).isEqualTo(20);
		assertThat(cache.evictIfPresent(8L)).isTrue();
		long fence = cache.readFence(10L);
		manager.invalidate("user-10");
		assertThat(cache.putFenced(10L, "stale", List.of("user-10"), null, fence)).isFalse();
		cache.clear();
		assertThat(cache.countEntries()).isZero();
	}

	@Test
	void anotherInstanceReachesEveryShardOfACacheItNeverOpened() {
		RedisTaggedCacheManager writer = sharded(4);
		RedisTaggedCache cache = writer.getCache("reports");
		for (long id = 0; id < 20; id++) {
			cache.put(id, "report " + id, List.of("shared"));
		}
		RedisTaggedCacheManager other = RedisTaggedCacheManager.builder(this.redis.connectionFactory())
			.keyPrefix(writer.getKeyPrefix())
			.build();
		assertThat(other.invalidate("shared")).isEqualTo(20);
		assertThat(cache.countEntries()).isZero();
	}

	/**
	 * 100,000 entries over 8 caches of 4 shards (32 hash slots, on every node of the cluster),
	 * all carrying one shared tag: one invalidation sends the 32 scripts together, drains what is
	 * too large for one script, and leaves only bookkeeping keys.
	 */
	@Test
	void oneInvalidationReachesOneHundredThousandEntriesOverEightShardedCaches() throws Exception {
		RedisTaggedCacheManager manager = sharded(4);
		List<RedisTaggedCache> caches = new ArrayList<>();
		for (int c = 0; c < 8; c++) {
			caches.add(manager.getCache("cache" + c));
		}
		Set<Integer> slots = caches.stream()
			.flatMap(cache -> cache.keyspaces().stream())
			.map(keyspace -> this.redis.admin().slotOf(keyspace.base()))
			.collect(Collectors.toSet());
		assertThat(slots).hasSize(32);
		if (this.redis == RedisTopology.CLUSTER) {
			assertThat(slots.stream().map(slot -> slot * 3 / 16384).collect(Collectors.toSet())).hasSize(3);
		}
		byte[] value = "{\"id\":1}".getBytes();
		List<CompletableFuture<?>> puts = new ArrayList<>();
		for (int i = 0; i < 100_000; i++) {
			RedisTaggedCache cache = caches.get(i % 8);
			String key = Integer.toString(i);
			puts.add(manager.writer().putAsync(cache.keyspaceOf(key), key, NewEntry.of(value, "java.util.Map",
					List.of("shared", "e-" + i), Duration.ofMinutes(10)), PutMode.ALWAYS));
			if (puts.size() == 10_000) {
				CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
				puts.clear();
			}
		}
		caches.forEach(cache -> cache.put("registered", "x", List.of()));
		long started = System.nanoTime();
		long removed = manager.invalidate("shared");
		long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
		assertThat(removed).isEqualTo(100_000);
		assertThat(this.redis.admin().scan(manager.getKeyPrefix() + ":*"))
			.allMatch(key -> key.endsWith(":gen") || key.endsWith(":fence") || key.endsWith(":caches")
					|| key.endsWith(":e:registered"));
		logger.info(this.redis + ": invalidated 100000 entries over 8 caches x 4 shards in " + elapsedMillis + " ms");
	}

}
