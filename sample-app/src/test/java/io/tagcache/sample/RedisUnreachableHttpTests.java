package io.tagcache.sample;

import org.junit.jupiter.api.Test;

import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sample starts and serves with a configured Redis that is not there (port 1 refuses connections):
 * no embedded server, every read from the database, changes accepted, and a health that stays UP with
 * tagcache DEGRADED, so that a load balancer keeps the instance.
 */
@TestPropertySource(properties = { "spring.data.redis.host=127.0.0.1", "spring.data.redis.port=1" })
class RedisUnreachableHttpTests extends SampleHttpTest {

	@Test
	void theSampleServesWithoutRedis() {
		assertThat(user("/users/1").mail()).isEqualTo("foo@a");
		assertThat(user("/users/1").mail()).isEqualTo("foo@a");
		assertThat(userIds("/locations/1/users")).containsExactly(1L, 2L);
		put("/users/2", "{\"locationId\": 2}").expectStatus().isOk();
		assertThat(userIds("/locations/1/users")).containsExactly(1L);
		assertThat(this.sql.drain()).as("reads, and the change's three statements").hasSize(9);

		this.http.get().uri("/actuator/health").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.status").isEqualTo("UP")
			.jsonPath("$.components.tagcache.status").isEqualTo("DEGRADED")
			.jsonPath("$.components.tagcache.details.redisAvailable").isEqualTo(false);
	}

}
