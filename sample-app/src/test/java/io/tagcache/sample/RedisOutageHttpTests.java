package io.tagcache.sample;

import java.time.Duration;

import io.tagcache.sample.redis.EmbeddedRedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Redis is a cache, not a dependency: with the Redis server stopped, the sample answers every request
 * from the database and accepts changes; caching resumes when Redis is back (restarted empty). That
 * invalidations made meanwhile are replayed on a Redis that kept its data is the engine's to test.
 */
@TestPropertySource(properties = "tagcache.outage.cool-down=200ms")
class RedisOutageHttpTests extends SampleHttpTest {

	@Autowired
	EmbeddedRedisServer redis;

	@AfterEach
	void redisIsBack() {
		if (!this.redis.isRunning()) {
			this.redis.restart();
		}
	}

	@Test
	void theSampleServesFromTheDatabaseWhileRedisIsDown() {
		user("/users/1");
		user("/users/1");
		assertThat(this.sql.drain()).hasSize(1);

		this.redis.stop();

		assertThat(user("/users/1").mail()).isEqualTo("foo@a");
		assertThat(user("/users/1").mail()).isEqualTo("foo@a");
		assertThat(this.sql.drain()).as("every read goes to the database").hasSize(2);
		put("/users/1", "{\"mail\": \"foo@rome\"}").expectStatus().isOk();
		assertThat(user("/users/1").mail()).isEqualTo("foo@rome");

		this.redis.restart();

		await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
			assertThat(user("/users/1").mail()).isEqualTo("foo@rome");
			this.sql.drain();
			assertThat(user("/users/1").mail()).isEqualTo("foo@rome");
			assertThat(this.sql.drain()).as("a read right after another one is a hit again").isEmpty();
		});
	}

}
