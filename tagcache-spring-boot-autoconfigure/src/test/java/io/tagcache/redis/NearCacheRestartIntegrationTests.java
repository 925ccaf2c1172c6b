package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import io.tagcache.Loaded;
import io.tagcache.TaggedLoader;
import io.tagcache.test.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A near cache across a Redis outage and restart, on a server of the test's own: an invalidation
 * another instance could only replay after the restart (its message went to no subscriber of this
 * instance) never lets this instance serve the value it kept before.
 */
class NearCacheRestartIntegrationTests {

	private final Map<String, String> rows = new ConcurrentHashMap<>();

	private RedisServer server;

	private LettuceConnectionFactory oneConnections;

	private LettuceConnectionFactory otherConnections;

	private RedisTaggedCacheManager one;

	private RedisTaggedCacheManager other;

	@BeforeEach
	void start() {
		this.server = RedisServer.start();
		this.oneConnections = TestCaches.failFastConnectionFactory(this.server);
		this.otherConnections = TestCaches.failFastConnectionFactory(this.server);
		String prefix = TestCaches.uniquePrefix();
		this.one = manager(this.oneConnections, prefix);
		this.other = manager(this.otherConnections, prefix);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.one.getCache("users").isNearCacheServing());
	}

	private static RedisTaggedCacheManager manager(LettuceConnectionFactory connections, String prefix) {
		return TestCaches.manager(connections, builder -> builder.keyPrefix(prefix)
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withNearCache(true))
			.withCacheNames("users")
			.coolDown(Duration.ofMillis(50))
			.invalidationWait(Duration.ZERO));
	}

	@AfterEach
	void stop() {
		this.one.destroy();
		this.other.destroy();
		this.oneConnections.destroy();
		this.otherConnections.destroy();
		this.server.close();
	}

	private String read(RedisTaggedCacheManager manager) {
		return manager.getCache("users").get("1", String.class, true, new TaggedLoader<String>() {

			@Override
			public Loaded<String> load() {
				return Loaded.of(NearCacheRestartIntegrationTests.this.rows.get("1"), List.of("user-1"));
			}

		});
	}

	@Test
	void anInvalidationReplayedAfterARestartIsNeverMissedByANearCache() {
		RedisTaggedCache users = this.one.getCache("users");
		this.rows.put("1", "Ada");
		assertThat(read(this.one)).isEqualTo("Ada");
		assertThat(users.nearCache().get("1", String.class, 0)).as("kept near").isNotNull();

		this.server.stop();
		this.rows.put("1", "Ada Lovelace");
		assertThat(this.other.invalidate(List.of("user-1"))).as("queued: Redis is down").isZero();
		await().atMost(Duration.ofSeconds(10)).until(() -> !users.isNearCacheServing());
		assertThat(read(this.one)).as("Redis down: the loader answers").isEqualTo("Ada Lovelace");

		this.server.restart();
		await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
			this.other.ping();
			return this.other.getPendingInvalidations() == 0;
		});
		this.rows.put("1", "after the restart");
		await().atMost(Duration.ofSeconds(10)).until(users::isNearCacheServing);
		assertThat(read(this.one)).isEqualTo("after the restart");
		long hits = users.nearCache().hits();
		assertThat(read(this.one)).isEqualTo("after the restart");
		assertThat(users.nearCache().hits()).as("kept near again").isEqualTo(hits + 1);
	}

}
