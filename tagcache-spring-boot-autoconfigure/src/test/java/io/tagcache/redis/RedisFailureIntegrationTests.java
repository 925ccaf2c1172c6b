package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.ClientOptions.DisconnectedBehavior;
import io.tagcache.TaggedCache;
import io.tagcache.test.RedisServer;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Guarantee 6, Redis is a cache and not a dependency: with Redis gone, reads are misses, loads
 * return the loader's value and writes are skipped, all counted; caching resumes when Redis
 * returns. Uses a Redis server of its own, which it kills and restarts.
 */
class RedisFailureIntegrationTests {

	private RedisServer server;

	private LettuceConnectionFactory connectionFactory;

	private RedisTaggedCache cache;

	private RedisTaggedCacheManager manager;

	@BeforeEach
	void startRedis() {
		this.server = RedisServer.start();
		RedisStandaloneConfiguration standalone = new RedisStandaloneConfiguration(this.server.host(),
				this.server.port());
		LettuceClientConfiguration client = LettuceClientConfiguration.builder()
			.commandTimeout(Duration.ofMillis(500))
			.clientOptions(ClientOptions.builder().disconnectedBehavior(DisconnectedBehavior.REJECT_COMMANDS).build())
			.build();
		this.connectionFactory = new LettuceConnectionFactory(standalone, client);
		this.connectionFactory.afterPropertiesSet();
		this.connectionFactory.start();
		this.manager = TestCaches.manager(this.connectionFactory, builder -> builder);
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
		assertThat(this.cache.readFence()).isEqualTo(TaggedCache.UNKNOWN_FENCE);
		assertThat(this.cache.getStatistics().getErrors()).isGreaterThanOrEqualTo(4);
		assertThatExceptionOfType(DataAccessException.class).as("an invalidation is never dropped silently")
			.isThrownBy(() -> this.manager.invalidate("user-1"));

		this.server.restart();
		Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			this.cache.put(4L, "after restart", List.of("user-4"));
			assertThat(this.cache.get(4L)).isNotNull();
		});
		assertThat(this.cache.get(5L, () -> "loaded again")).isEqualTo("loaded again");
		assertThat(this.cache.get(5L).get()).isEqualTo("loaded again");
		assertThat(this.manager.invalidate("user-4")).isEqualTo(1);
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
			assertThat(users.putFenced(3L, "carol", List.of("user-3"), null, users.readFence())).isTrue();
			assertThat(shared.invalidate("user-1", "user-3")).isEqualTo(2);
			Map<String, Long> calls = topology.admin().commandCalls();
			assertThat(calls).as(topology + ": every script was reloaded by EVAL").containsKey("eval");
			assertThat(users.getStatistics().getErrors()).isZero();
		}
	}

}
