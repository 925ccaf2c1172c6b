package io.tagcache.redis;

import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Guarantee 2 across lost bookkeeping, and invalidations that reach every cache of the prefix:
 * Redis keys evicted under memory pressure or lost in a flush (here deleted, as the shared Redis of
 * the test may not be restarted; {@link RedisRestartIntegrationTests} restarts a Redis of its own), a
 * cache's very first load racing another instance's invalidation, instances configured with
 * different numbers of shards, and one expiry for an entry and its index records.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class DataLossIntegrationTests {

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
	void aFenceReadBeforeTheFenceStateWasLostAdmitsNoWrite() {
		long fence = this.cache.readFence(1L);
		this.manager.invalidate("user-1");
		deleteKeys(":{users}:gen", ":{users}:fence");

		assertThat(this.cache.putFenced(1L, "old", List.of("user-1"), null, fence)).as("stale value stored").isFalse();
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.getStatistics().getRejectedPuts()).isEqualTo(1);
		assertThat(this.cache.putFenced(1L, "new", List.of("user-1"), null, this.cache.readFence(1L)))
			.as("a load after the loss is stored")
			.isTrue();
	}

	@Test
	void aFenceReadBeforeTheFenceRecordsWereLostAdmitsNoWrite() {
		long fence = this.cache.readFence(1L);
		this.manager.invalidate("user-1");
		deleteKeys(":{users}:fence");

		assertThat(this.cache.putFenced(1L, "old", List.of("user-1"), null, fence)).isFalse();
		assertThat(this.cache.get(1L)).isNull();
	}

	@Test
	void aFenceReadBeforeTheGenerationWasLostAdmitsNoWriteAndLaterReadsGetANewerOne() {
		long fence = this.cache.readFence(1L);
		this.manager.invalidate("user-1");
		deleteKeys(":{users}:gen");

		long after = this.cache.readFence(1L);
		assertThat(after).as("above every invalidation recorded before the loss").isGreaterThan(fence);
		assertThat(this.cache.putFenced(1L, "old", List.of("user-1"), null, fence)).isFalse();
		assertThat(this.cache.putFenced(1L, "new", List.of("user-1"), null, after)).isTrue();
	}

	@Test
	void aLostRegistryIsRebuiltSoThatInvalidationsReachCachesOnlyOtherInstancesOpened() {
		RedisTaggedCacheManager other = TestCaches.manager(this.redis.connectionFactory(),
				builder -> builder.keyPrefix(this.manager.getKeyPrefix()));
		RedisTaggedCache sharded = RedisTaggedCacheManager.builder(this.redis.connectionFactory())
			.keyPrefix(this.manager.getKeyPrefix())
			.withCache("sharded", RedisTaggedCacheConfiguration.defaultConfig().withShards(3))
			.build()
			.getCache("sharded");
		this.cache.put(1L, "one", List.of("user-1"));
		LongStream.range(0, 30).forEach(id -> sharded.put(id, "s" + id, List.of("user-1")));
		assertThat(other.getAllCacheNames()).containsExactly("sharded", "users");
		deleteKeys(":caches");

		assertThat(other.invalidate("user-1")).as("every entry, found through the rebuilt registry").isEqualTo(31);
		assertThat(this.cache.get(1L)).isNull();
		assertThat(LongStream.range(0, 30).mapToObj(sharded::get)).allMatch(hit -> hit == null);
		Map<String, String> registry = this.redis.admin()
			.sync(commands -> commands.hgetall(this.manager.getKeyPrefix() + ":caches"));
		assertThat(registry).containsEntry("users", "1")
			.containsEntry("sharded", "3");
	}

	@Test
	void aCacheIsRegisteredBeforeItsFirstFenceReadSoThatAnotherInstancesInvalidationFencesItsFirstLoad() {
		RedisTaggedCacheManager other = TestCaches.manager(this.redis.connectionFactory(),
				builder -> builder.keyPrefix(this.manager.getKeyPrefix()));
		RedisTaggedCache first = this.manager.getCache("never-used");
		long fence = first.readFence(1L);

		other.invalidate("user-1");

		assertThat(first.putFenced(1L, "old", List.of("user-1"), null, fence)).as("stale value stored").isFalse();
		assertThat(first.get(1L)).isNull();
	}

	@Test
	void singleFlightLoadsRegisterTheCacheBeforeTheLoaderRuns() {
		RedisTaggedCacheManager other = TestCaches.manager(this.redis.connectionFactory(),
				builder -> builder.keyPrefix(this.manager.getKeyPrefix()));

		assertThat(this.manager.getCache("blocking").get(1L, () -> other.getAllCacheNames()))
			.asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.COLLECTION)
			.contains("blocking");
		assertThat(this.manager.getCache("async")
			.retrieve(1L, () -> java.util.concurrent.CompletableFuture.supplyAsync(other::getAllCacheNames))
			.join()).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.COLLECTION).contains("async");
	}

	@Test
	void invalidationsCoverEveryShardAnyInstanceRegistered() {
		RedisTaggedCacheManager fourShards = RedisTaggedCacheManager.builder(this.redis.connectionFactory())
			.keyPrefix(this.manager.getKeyPrefix())
			.withCache("users", RedisTaggedCacheConfiguration.defaultConfig().withShards(4))
			.build();
		RedisTaggedCache spread = fourShards.getCache("users");
		LongStream.range(0, 40).forEach(id -> spread.put(id, "u" + id, List.of("loc-1")));
		this.cache.put(100L, "one shard", List.of("loc-1"));

		assertThat(this.cache.invalidateTags(List.of("loc-1"))).as("by the instance with one shard").isEqualTo(41);
		LongStream.range(0, 40).forEach(id -> spread.put(id, "u" + id, List.of("loc-1")));
		assertThat(this.manager.invalidate("loc-1")).isEqualTo(40);
		String registered = this.redis.admin()
			.sync(commands -> commands.hget(this.manager.getKeyPrefix() + ":caches", "users"));
		assertThat(registered).as("the registry keeps the most shards")
			.isEqualTo("4");
	}

	@Test
	void anEntryAndItsIndexRecordsExpireAtTheSameMillisecond() {
		String version = this.redis.admin().sync(commands -> commands.info("server"))
			.lines()
			.filter(line -> line.startsWith("redis_version:"))
			.findFirst()
			.orElse("redis_version:0");
		assumeTrue(Integer.parseInt(version.substring("redis_version:".length()).split("\\.")[0]) >= 7,
				"PEXPIRETIME, which reads an expiry to the millisecond, needs Redis 7.0; this is " + version);
		this.cache.put(1L, "one", List.of("user-1", "loc-1"));
		String base = this.manager.getKeyPrefix() + ":{users}:";
		Long entryExpiry = this.redis.admin().sync(commands -> commands.pexpiretime(base + "e:1"));
		for (String tag : List.of("user-1", "loc-1")) {
			Double score = this.redis.admin().sync(commands -> commands.zscore(base + "t:" + tag, "1"));
			assertThat(score.longValue()).as(tag).isEqualTo(entryExpiry);
		}
	}

	private void deleteKeys(String... suffixes) {
		for (String suffix : suffixes) {
			String key = this.manager.getKeyPrefix() + suffix;
			this.redis.admin().sync(commands -> commands.del(key));
		}
	}

}
