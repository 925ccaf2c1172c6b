package io.tagcache.sample;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.http.MediaType;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The actuator endpoints the sample exposes, and what they show of tagcache.
 */
@ExtendWith(OutputCaptureExtension.class)
class ActuatorHttpTests extends SampleHttpTest {

	@Test
	void healthShowsTagcacheUp() {
		this.http.get().uri("/actuator/health").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.status").isEqualTo("UP")
			.jsonPath("$.components.tagcache.status").isEqualTo("UP")
			.jsonPath("$.components.tagcache.details.keyPrefix").isEqualTo("sample")
			.jsonPath("$.components.redis").doesNotExist();
	}

	@Test
	void cachesListsTheTaggedCaches() {
		this.http.get().uri("/actuator/caches").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.cacheManagers.tagcacheCacheManager.caches.users").exists()
			.jsonPath("$.cacheManagers.tagcacheCacheManager.caches.usersByLocation").exists();
	}

	@Test
	void metricsCountHitsMissesAndInvalidations() {
		double hits = count("cache.gets", "name:users", "result:hit");
		double misses = count("cache.gets", "name:users", "result:miss");
		double puts = count("cache.puts", "name:users");
		double invalidations = count("tagcache.invalidations", "name:users");
		double invalidated = count("tagcache.invalidated.entries", "name:users");

		user("/users/1");
		user("/users/1");
		user("/users/1");
		user("/users/by-mail/foo@a");
		put("/locations/1", "{\"name\": \"Roma\"}").expectStatus().isOk();

		assertThat(count("cache.gets", "name:users", "result:hit")).isEqualTo(hits + 2);
		assertThat(count("cache.gets", "name:users", "result:miss")).isEqualTo(misses + 2);
		assertThat(count("cache.puts", "name:users")).isEqualTo(puts + 2);
		assertThat(count("tagcache.invalidations", "name:users")).isEqualTo(invalidations + 1);
		assertThat(count("tagcache.invalidated.entries", "name:users")).isEqualTo(invalidated + 2);
	}

	/**
	 * A soft invalidation from the CMS webhook: the entries stay, marked stale, and the next request
	 * reloads its entry (the one that wins the refresh; concurrent ones would get the stale value), as
	 * the meters show.
	 */
	@Test
	void everyInvalidationIsLoggedByTheSamplesEventListener(CapturedOutput output) {
		user("/users/1");
		post("/webhooks/content", "[{\"type\": \"location\", \"id\": 3}]").expectStatus().isOk();
		assertThat(output).contains("Invalidated location-3 (entries removed: ");
		post("/webhooks/content?soft=true", "[{\"type\": \"location\", \"id\": 1}]").expectStatus().isOk();
		assertThat(output).contains("Soft-invalidated location-1 (entries marked stale: ");
	}

	@Test
	void aSoftWebhookMarksEntriesStaleAndTheNextRequestReloadsThem() {
		user("/users/1");
		user("/users/by-mail/FoO@a");
		double staleRefreshes = count("tagcache.refreshes", "name:users", "reason:stale");
		this.sql.drain();

		post("/webhooks/content?soft=true", "[{\"type\": \"user\", \"id\": 1}]").expectStatus().isOk()
			.expectBody()
			.jsonPath("$.soft").isEqualTo(true)
			.jsonPath("$.entries").isEqualTo(2);
		assertThat(this.sql.drain()).as("the webhook looks up the user's location").hasSize(1);
		user("/users/1");
		assertThat(this.sql.drain()).as("the refresh reloads user 1").hasSize(1);
		user("/users/1");
		assertThat(this.sql.drain()).as("fresh again").isEmpty();
		assertThat(count("tagcache.refreshes", "name:users", "reason:stale")).isEqualTo(staleRefreshes + 1);
		this.http.get().uri("/actuator/tagcache").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.caches.users.staleWhileRevalidate").isEqualTo("PT30S")
			.jsonPath("$.caches.users.earlyRefreshBeta").isEqualTo(1.0);
	}

	@Test
	void theTagcacheEndpointCountsEntriesAndInvalidatesATag() {
		user("/users/1");
		user("/users/by-mail/FoO@a");
		userIds("/locations/1/users");

		this.http.get().uri("/actuator/tagcache").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.keyPrefix").isEqualTo("sample")
			.jsonPath("$.redisAvailable").isEqualTo(true)
			.jsonPath("$.caches.users.entries").isEqualTo(2)
			.jsonPath("$.caches.users.timeToLive").isEqualTo("PT30M")
			.jsonPath("$.caches.usersByLocation.entries").isEqualTo(1)
			.jsonPath("$.caches.usersByLocation.timeToLive").isEqualTo("PT5M");
		this.http.get().uri("/actuator/tagcache/user-1").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.caches.users").isEqualTo(2)
			.jsonPath("$.caches.usersByLocation").isEqualTo(1)
			.jsonPath("$.total").isEqualTo(3);
		this.sql.drain();

		this.http.delete().uri("/actuator/tagcache/user-1").exchange().expectStatus().isOk().expectBody()
			.jsonPath("$.removed").isEqualTo(3);

		user("/users/1");
		assertThat(this.sql.drain()).as("dropped by the endpoint, user 1 reloads").hasSize(1);
	}

	@Test
	void prometheusScrapesTheCacheMeters() {
		user("/users/1");
		this.http.get().uri("/actuator/prometheus").accept(MediaType.TEXT_PLAIN).exchange().expectStatus().isOk()
			.expectBody(String.class)
			.value((scrape) -> assertThat(scrape).contains("cache_gets_total{", "result=\"miss\"",
					"tagcache_invalidations_total{", "tagcache_redis_operations_seconds_count{"));
	}

}
