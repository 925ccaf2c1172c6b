package io.tagcache.actuate;

import java.time.Duration;
import java.util.List;

import io.tagcache.actuate.TagCacheEndpoint.CacheDescriptor;
import io.tagcache.actuate.TagCacheEndpoint.CachesDescriptor;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TestCaches;
import io.tagcache.test.RedisServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

/**
 * The health indicator, and the endpoint while Redis is gone: a Redis outage makes tagged caching
 * {@code DEGRADED}, never {@code DOWN}, until Redis answers and every queued invalidation was
 * replayed. Uses a Redis server of its own, which it kills and restarts.
 */
class TagCacheHealthIndicatorIntegrationTests {

	private RedisServer server;

	private LettuceConnectionFactory connectionFactory;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache users;

	private TagCacheHealthIndicator health;

	@BeforeEach
	void startRedis() {
		this.server = RedisServer.start();
		this.connectionFactory = TestCaches.failFastConnectionFactory(this.server);
		this.manager = TestCaches.manager(this.connectionFactory, builder -> builder.coolDown(Duration.ofMillis(200)));
		this.users = this.manager.getCache("users");
		this.health = new TagCacheHealthIndicator(this.manager);
	}

	@AfterEach
	void stopRedis() {
		this.connectionFactory.destroy();
		this.server.close();
	}

	@Test
	void upWithDetailsWhileRedisAnswers() {
		Health health = this.health.health();
		assertThat(health.getStatus()).isEqualTo(Status.UP);
		assertThat(health.getDetails()).containsExactly(entry("keyPrefix", this.manager.getKeyPrefix()),
				entry("redisAvailable", true), entry("pendingInvalidations", 0),
				entry("pendingInvalidationOverflows", 0L));
	}

	@Test
	void degradedNotDownWhenRedisDoesNotAnswer() {
		this.server.kill();
		Health health = this.health.health();
		assertThat(health.getStatus()).isEqualTo(TagCacheHealthIndicator.DEGRADED);
		assertThat(health.getStatus().getDescription()).contains("Redis does not answer");
		assertThat(health.getDetails()).containsKeys("keyPrefix", "redisAvailable", "pendingInvalidations",
				"pendingInvalidationOverflows");
		assertThat((String) health.getDetails().get("error")).contains("RedisConnectionFailureException");
	}

	@Test
	void degradedWhileQueuedInvalidationsWaitThenUpOnceTheyWereReplayed() {
		// Redis answers PING but holds every script back for a while (CLIENT PAUSE WRITE); invalidations
		// time out after 200 ms and return queued at once (no invalidation wait)
		LettuceConnectionFactory shortTimeout = TestCaches.failFastConnectionFactory(this.server, Duration.ofMillis(200));
		try {
			RedisTaggedCacheManager manager = TestCaches.manager(shortTimeout,
					builder -> builder.coolDown(Duration.ofMillis(200)).invalidationWait(Duration.ZERO));
			TagCacheHealthIndicator health = new TagCacheHealthIndicator(manager);
			manager.getCache("users").put(1L, "alice", List.of("user-1"));
			try (var admin = io.lettuce.core.RedisClient.create(this.server.uri()).connect()) {
				admin.sync()
					.dispatch(io.lettuce.core.protocol.CommandType.CLIENT,
							new io.lettuce.core.output.StatusOutput<>(io.lettuce.core.codec.StringCodec.UTF8),
							new io.lettuce.core.protocol.CommandArgs<>(io.lettuce.core.codec.StringCodec.UTF8).add("PAUSE")
								.add(2000)
								.add("WRITE"));
			}
			assertThat(manager.invalidate("user-1")).as("queued").isZero();
			Health waiting = health.health();
			assertThat(waiting.getStatus()).as("an invalidation waits").isEqualTo(TagCacheHealthIndicator.DEGRADED);
			assertThat(waiting.getDetails()).containsEntry("redisAvailable", false)
				.containsEntry("pendingInvalidations", 1);

			Awaitility.await().atMost(Duration.ofSeconds(10)).until(manager::isRedisAvailable);
			assertThat(health.health().getStatus()).isEqualTo(Status.UP);
			assertThat(manager.getCache("users").get(1L)).as("replayed").isNull();
			manager.destroy();
		}
		finally {
			shortTimeout.destroy();
		}
	}

	@Test
	void theEndpointListsTheCachesOpenedHereWithoutCountsWhileRedisIsDown() {
		this.users.put(1L, "alice", List.of("user-1"));
		this.server.kill();
		CachesDescriptor caches = new TagCacheEndpoint(this.manager).caches();
		assertThat(caches.caches())
			.containsExactly(entry("users", new CacheDescriptor(null, null, "PT1H", 1, 1.0, "PT1M", "PT0S")));
		assertThat(caches.error()).isNotBlank();
		assertThat(new TagCacheEndpoint(this.manager).invalidate("user-1"))
			.isEqualTo(new TagCacheEndpoint.InvalidationDescriptor("user-1", 0, 1));
	}

}
