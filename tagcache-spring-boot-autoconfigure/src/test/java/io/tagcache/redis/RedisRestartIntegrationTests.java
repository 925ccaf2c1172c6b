package io.tagcache.redis;

import java.time.Duration;
import java.util.List;

import io.tagcache.test.RedisServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What survives a restart of Redis without persistence, which loses every key: a fence read before
 * the restart admits no write after it, and an invalidation by an instance that never opened a cache
 * still reaches it. Uses a Redis server of its own.
 */
class RedisRestartIntegrationTests {

	private RedisServer server;

	private LettuceConnectionFactory connectionFactory;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	@BeforeEach
	void startRedis() {
		this.server = RedisServer.start();
		this.connectionFactory = TestCaches.failFastConnectionFactory(this.server);
		this.manager = TestCaches.manager(this.connectionFactory, builder -> builder.coolDown(Duration.ofMillis(50)));
		this.cache = this.manager.getCache("users");
	}

	@AfterEach
	void stopRedis() {
		this.connectionFactory.destroy();
		this.server.close();
	}

	@Test
	void aLoadThatReadTheFenceBeforeARestartIsNotStoredAfterIt() {
		// a load reads the fence and the row; the row changes and is invalidated; Redis restarts empty
		long fence = this.cache.readFence(1L);
		this.manager.invalidate("user-1");
		restart();

		assertThat(this.cache.putFenced(1L, "old", List.of("user-1"), null, fence)).as("stale value stored").isFalse();
		assertThat(this.cache.getStatistics().getRejectedPuts()).as("refused by the fence, not failed").isEqualTo(1);
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.putFenced(1L, "new", List.of("user-1"), null, this.cache.readFence(1L))).isTrue();
		assertThat(this.cache.get(1L).get()).isEqualTo("new");
	}

	@Test
	void afterARestartInvalidationsByAnotherInstanceReachCachesItNeverOpened() {
		LettuceConnectionFactory otherConnections = TestCaches.failFastConnectionFactory(this.server);
		try {
			RedisTaggedCacheManager other = TestCaches.manager(otherConnections,
					builder -> builder.keyPrefix(this.manager.getKeyPrefix()));
			this.cache.put(1L, "before", List.of("user-1"));
			restart(other);

			// this instance registered the cache before the restart, and writes to it again after
			this.cache.put(1L, "after", List.of("user-1"));
			assertThat(other.invalidate("user-1")).isEqualTo(1);
			assertThat(this.cache.get(1L)).isNull();

			// a fenced load of this instance after the restart re-registers the cache, before its read
			restart(other);
			long fence = this.cache.readFence(2L);
			assertThat(other.getAllCacheNames()).contains("users");
			other.invalidate("user-2");
			assertThat(this.cache.putFenced(2L, "old", List.of("user-2"), null, fence)).isFalse();
		}
		finally {
			otherConnections.destroy();
		}
	}

	@Test
	void anEvictionPolicyThatMayEvictTagIndexesIsReported() throws Exception {
		assertThat(this.manager.checkEvictionPolicy().get()).as("noeviction").isNull();
		RedisServer evicting = RedisServer.start("--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru");
		LettuceConnectionFactory evictingConnections = TestCaches.failFastConnectionFactory(evicting);
		try {
			assertThat(TestCaches.manager(evictingConnections, builder -> builder).checkEvictionPolicy().get())
				.contains("maxmemory-policy allkeys-lru")
				.contains("noeviction or volatile-ttl");
		}
		finally {
			evictingConnections.destroy();
			evicting.close();
		}
	}

	/** Restart Redis empty, and wait until every manager's connection answers again. */
	private void restart(RedisTaggedCacheManager... others) {
		this.server.restart();
		for (RedisTaggedCacheManager manager : java.util.stream.Stream.concat(java.util.stream.Stream.of(this.manager),
				java.util.stream.Stream.of(others)).toList()) {
			Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
				manager.ping();
				return manager.isRedisAvailable();
			});
		}
	}

}
