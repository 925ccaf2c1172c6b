package io.tagcache.sample;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The actuator endpoints the sample exposes, and what they show of tagcache.
 */
class ActuatorHttpTests extends SampleHttpTest {

	@Test
	void healthShowsTheRedisServer() {
		this.http.get().uri("/actuator/health").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.status").isEqualTo("UP")
			.jsonPath("$.components.redis.status").isEqualTo("UP")
			.jsonPath("$.components.redis.details.version").value(String.class,
					(version) -> assertThat(version).startsWith("6.2"));
	}

	@Test
	void cachesListsTheTaggedCaches() {
		this.http.get().uri("/actuator/caches").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.cacheManagers.cacheManager.caches.users.target").exists()
			.jsonPath("$.cacheManagers.cacheManager.caches.usersByLocation.target").exists();
	}

	@Test
	void prometheusScrapesTheApplication() {
		this.http.get().uri("/actuator/prometheus").exchange().expectStatus().isOk().expectBody(String.class)
			.value((scrape) -> assertThat(scrape).contains("http_server_requests_seconds_count"));
	}

}
