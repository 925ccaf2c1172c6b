package io.tagcache.sample;

import java.time.Duration;
import java.util.List;

import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheManager;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample with {@code tagcache.near-cache.enabled=true}: a repeated read is answered in the JVM
 * (no SQL, a near hit in the meters), a change through the API is seen by the next read, and the
 * endpoint shows the near cache.
 */
@TestPropertySource(properties = "tagcache.near-cache.enabled=true")
class NearCacheHttpTests extends SampleHttpTest {

	@Autowired
	LettuceConnectionFactory connectionFactory;

	@BeforeEach
	void nearCachesServe() {
		for (String name : this.cacheManager.getCacheNames()) {
			RedisTaggedCache cache = (RedisTaggedCache) this.cacheManager.getCache(name);
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(cache::isNearCacheServing);
		}
	}

	@Test
	void aRepeatedReadIsANearHitAndAChangeIsSeenByTheNextRead() {
		double nearHits = count("tagcache.near.gets", "name:users", "result:hit");
		double hits = count("cache.gets", "name:users", "result:hit");

		User first = user("/users/1");
		assertThat(this.sql.drain()).hasSize(1);
		assertThat(user("/users/1")).isEqualTo(first);
		assertThat(this.sql.drain()).isEmpty();

		assertThat(count("tagcache.near.gets", "name:users", "result:hit")).isEqualTo(nearHits + 1);
		assertThat(count("cache.gets", "name:users", "result:hit")).as("a near hit is a cache hit").isEqualTo(hits + 1);

		put("/users/1", "{\"locationId\": 2}").expectStatus().isOk();
		assertThat(user("/users/1").location()).isEqualTo(new Location(2, "Milan"));
	}

	/**
	 * Another instance of the service (a manager of its own on the same Redis and key prefix) changes a
	 * user: the message its script publishes reaches this instance's near cache, on the embedded Redis
	 * 6.2 through classic pub/sub, on Redis 7 through sharded pub/sub.
	 */
	@Test
	void anInvalidationByAnotherInstanceReachesTheNearCache() {
		user("/users/1");
		user("/users/1");
		this.sql.drain();
		RedisTaggedCacheManager otherInstance = RedisTaggedCacheManager.builder(this.connectionFactory)
			.keyPrefix("sample")
			.build();
		try {
			this.cms.sql("update users set mail = 'changed@a' where id = 1").update();
			otherInstance.invalidate(List.of("user-1"));
			Awaitility.await().atMost(Duration.ofSeconds(2)).until(() -> user("/users/1").mail().equals("changed@a"));
		}
		finally {
			otherInstance.destroy();
		}
	}

	@Test
	void theEndpointShowsTheNearCache() {
		user("/users/1");
		user("/users/1");
		this.http.get().uri("/actuator/tagcache").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.caches.users.nearCache.serving").isEqualTo(true)
			.jsonPath("$.caches.users.nearCache.entries").isEqualTo(1);
	}

}
