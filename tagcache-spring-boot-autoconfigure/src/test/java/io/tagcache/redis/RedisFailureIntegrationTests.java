package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.tagcache.TaggedCache;
import io.tagcache.test.RedisServer;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 6, Redis is a cache and not a dependency: with Redis gone, reads are misses, loads
 * return the loader's value and writes are skipped, all counted; after repeated failures calls skip
 * Redis for a cool-down; invalidations are queued and replayed; caching resumes when Redis
 * returns. Uses a Redis server of its own, which it kills, pauses and restarts.
 */
class RedisFailureIntegrationTests {

	private RedisServer server;

	private LettuceConnectionFactory connectionFactory;

	private RedisTaggedCache cache;

	private RedisTaggedCacheManager manager;

	@BeforeEach
	void startRedis() {
		this.server = RedisServer.start();
		// Paused Redis (5 s) must time out well within the pause, three times over (the failure
		// threshold); 1 s still leaves room for a loaded machine.
		this.connectionFactory = TestCaches.failFastConnectionFactory(this.server, Duration.ofSeconds(1));
		this.manager = TestCaches.manager(this.connectionFactory,
				builder -> builder.coolDown(Duration.ofMillis(200)).pendingInvalidationLimit(3));
		this.cache = this.manager.getCache("users");
	}

	@AfterEach
	void stopRedis() {
		this.connectionFactory.destroy();
		this.server.close();
	}

	@Test
	void readsAndWritesKeepWorkingWithoutRedisAndCachingResumesWhenItReturns() {
		this.cache.put(1L, "cached", List.of("user-1"));
		assertThat(this.cache.get(1L)).isNotNull();
		this.server.kill();

		assertThat(this.cache.get(1L)).as("a failed read is a miss").isNull();
		assertThat(this.cache.get(2L, () -> "loaded")).as("the loader's value").isEqualTo("loaded");
		this.cache.put(3L, "skipped", List.of("user-3"));
		assertThat(this.cache.readFence(1L)).isEqualTo(TaggedCache.UNKNOWN_FENCE);
		assertThat(this.cache.getStatistics().getErrors()).isGreaterThanOrEqualTo(4);
		assertThat(this.cache.getStatistics().getErrors("get")).isGreaterThanOrEqualTo(2);
		assertThat(this.manager.isRedisAvailable()).as("calls skip Redis after repeated failures").isFalse();
		assertThat(this.manager.invalidate("user-1")).as("queued, not thrown").isZero();
		assertThat(this.manager.getPendingInvalidations()).isEqualTo(1);

		this.server.restart();
		Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			this.cache.put(4L, "after restart", List.of("user-4"));
			assertThat(this.cache.get(4L)).isNotNull();
		});
		assertThat(this.cache.get(5L, () -> "loaded again")).isEqualTo("loaded again");
		assertThat(this.cache.get(5L).get()).isEqualTo("loaded again");
		assertThat(this.manager.getPendingInvalidations()).as("replayed").isZero();
		assertThat(this.manager.invalidate("user-4")).isEqualTo(1);
	}

	/**
	 * Redis stops answering but keeps its data (a network partition, a stalled server): the
	 * invalidation issued meanwhile is queued, and replayed before any read is served again, so the
	 * stale entry is never read after recovery.
	 */
	@Test
	void anInvalidationIssuedWhileRedisIsUnreachableIsReplayedBeforeAnyRead() {
		this.cache.put(1L, "old", List.of("user-1"));
		this.cache.put(2L, "other", List.of("user-2"));
		pauseRedis(Duration.ofSeconds(5));
		assertThat(this.manager.invalidate("user-1")).isZero();
		assertThat(this.cache.get(1L, () -> "from the database")).isEqualTo("from the database");
		assertThat(this.manager.getPendingInvalidations()).isEqualTo(1);
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
			this.cache.get(3L);
			return this.manager.isRedisAvailable();
		});
		assertThat(this.cache.get(1L)).as("the stale entry").isNull();
		assertThat(this.cache.get(2L)).as("untouched").isNotNull();
		assertThat(this.manager.getPendingInvalidations()).isZero();
	}

	/** More invalidations than the queue holds: the caches they concern are cleared on recovery. */
	@Test
	void anOverflowingQueueClearsTheCachesWhenRedisReturns() {
		RedisTaggedCache other = this.manager.getCache("other");
		this.cache.put(1L, "tagged", List.of("user-1"));
		this.cache.put(2L, "untagged", List.of());
		other.put(1L, "in another cache", List.of());
		pauseRedis(Duration.ofSeconds(5));
		for (int i = 0; i < 4; i++) {
			this.cache.invalidateTags(List.of("user-" + i));
		}
		assertThat(this.manager.getPendingInvalidationOverflows()).isEqualTo(1);
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
			other.get(3L);
			return this.manager.isRedisAvailable();
		});
		assertThat(this.cache.get(2L)).as("cleared: the queue could not say what to invalidate").isNull();
		assertThat(other.get(1L)).as("a cache the queue did not concern").isNotNull();
	}

	@Test
	void scriptsAreReloadedAfterARestartWithoutTheCallerNoticing() {
		this.cache.put(1L, "before", List.of("user-1"));
		this.server.kill();
		this.server.restart();
		Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			this.cache.put(1L, "after", List.of("user-1"));
			assertThat(this.cache.get(1L)).isNotNull();
		});
		assertThat(this.cache.getStatistics().getPuts()).isEqualTo(2);
		assertThat(this.manager.invalidate("user-1")).isEqualTo(1);
	}

	/** {@code CLIENT PAUSE}: Redis keeps its data but answers nobody for a while. */
	private void pauseRedis(Duration duration) {
		RedisClient client = RedisClient.create(this.server.uri());
		try (StatefulRedisConnection<String, String> connection = client.connect()) {
			connection.sync().clientPause(duration.toMillis());
		}
		finally {
			client.shutdown();
		}
	}

	/** {@code SCRIPT FLUSH} on every node: each script falls back to {@code EVAL} once, on the node that answered. */
	@Test
	void noScriptIsHandledOnEveryTopology() {
		for (RedisTopology topology : RedisTopology.values()) {
			RedisTaggedCacheManager shared = TestCaches.manager(topology);
			RedisTaggedCache users = shared.getCache("users");
			users.put(1L, "alice", List.of("user-1"));
			topology.admin().scriptFlush();
			topology.admin().resetStats();
			users.put(2L, "bob", List.of("user-2"));
			users.evict(2L);
			assertThat(users.putFenced(3L, "carol", List.of("user-3"), null, users.readFence(3L))).isTrue();
			assertThat(shared.invalidate("user-1", "user-3")).isEqualTo(2);
			Map<String, Long> calls = topology.admin().commandCalls();
			assertThat(calls).as(topology + ": every script was reloaded by EVAL").containsKey("eval");
			assertThat(users.getStatistics().getErrors()).isZero();
		}
	}

}
