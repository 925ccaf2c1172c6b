package io.tagcache.redis;

import java.time.Duration;
import java.util.List;

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

	private final NearCacheRow row = new NearCacheRow();

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
		this.one = NearCacheRow.manager(this.oneConnections, prefix);
		this.other = NearCacheRow.manager(this.otherConnections, prefix);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.one.getCache("users").isNearCacheServing());
	}

	@AfterEach
	void stop() {
		this.one.destroy();
		this.other.destroy();
		this.oneConnections.destroy();
		this.otherConnections.destroy();
		this.server.close();
	}

	@Test
	void anInvalidationReplayedAfterARestartIsNeverMissedByANearCache() {
		RedisTaggedCache users = this.one.getCache("users");
		this.row.set("Ada");
		assertThat(this.row.read(this.one)).isEqualTo("Ada");
		assertThat(users.nearCache().get("1", String.class, 0)).as("kept near").isNotNull();

		this.server.stop();
		this.row.set("Ada Lovelace");
		assertThat(this.other.invalidate(List.of("user-1"))).as("queued: Redis is down").isZero();
		await().atMost(Duration.ofSeconds(10)).until(() -> !users.isNearCacheServing());
		assertThat(this.row.read(this.one)).as("Redis down: the loader answers").isEqualTo("Ada Lovelace");

		this.server.restart();
		await().atMost(Duration.ofSeconds(10)).ignoreExceptions().until(() -> {
			this.other.ping();
			return this.other.getPendingInvalidations() == 0;
		});
		this.row.set("after the restart");
		await().atMost(Duration.ofSeconds(10)).until(users::isNearCacheServing);
		assertThat(this.row.read(this.one)).isEqualTo("after the restart");
		long hits = users.nearCache().hits();
		assertThat(this.row.read(this.one)).isEqualTo("after the restart");
		assertThat(users.nearCache().hits()).as("kept near again").isEqualTo(hits + 1);
	}

}
