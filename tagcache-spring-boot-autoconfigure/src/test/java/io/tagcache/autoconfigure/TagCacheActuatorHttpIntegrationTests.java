package io.tagcache.autoconfigure;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import io.lettuce.core.RedisURI;
import io.tagcache.TaggedCache;
import io.tagcache.TaggedCacheManager;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The starter in a real Spring Boot web application, over HTTP on a random port: the caches show in
 * Boot's {@code /actuator/caches} and meters, and the {@code tagcache} endpoint and health
 * indicator answer.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=health,caches,metrics,tagcache",
				"management.endpoint.health.show-components=always", "tagcache.caches.users.time-to-live=10m",
				"tagcache.caches.users.stale-if-error=30s", "tagcache.caches.users.early-refresh-beta=2.5",
				"tagcache.stale-while-revalidate=20s" })
class TagCacheActuatorHttpIntegrationTests {

	private static final String PREFIX = "http" + UUID.randomUUID().toString().substring(0, 8);

	private static final JsonMapper json = JsonMapper.builder().build();

	private final HttpClient http = HttpClient.newHttpClient();

	@LocalServerPort
	int port;

	@Autowired
	UserService users;

	@Autowired
	TaggedCacheManager cacheManager;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		RedisURI node = RedisTopology.STANDALONE.nodes().get(0);
		registry.add("spring.data.redis.host", node::getHost);
		registry.add("spring.data.redis.port", node::getPort);
		registry.add("tagcache.key-prefix", () -> PREFIX);
	}

	@Test
	void cachesMetersEndpointAndHealthOverHttp() throws Exception {
		this.users.name(1);
		this.users.name(1);
		this.users.name(2);
		assertThat(this.users.calls()).isEqualTo(2);

		JsonNode caches = get("/actuator/caches");
		assertThat(caches.at("/cacheManagers/tagcacheCacheManager/caches/users/target").asString())
			.isEqualTo(io.tagcache.redis.RedisTaggedCacheManager.class.getName());

		assertThat(count("/actuator/metrics/cache.gets?tag=name:users&tag=result:hit")).isEqualTo(1);
		assertThat(count("/actuator/metrics/cache.gets?tag=name:users&tag=result:miss")).isGreaterThanOrEqualTo(2);
		assertThat(count("/actuator/metrics/cache.puts?tag=name:users")).isEqualTo(2);
		assertThat(count("/actuator/metrics/tagcache.redis.operations?tag=operation:put")).isGreaterThanOrEqualTo(2);

		JsonNode overview = get("/actuator/tagcache");
		assertThat(overview.at("/keyPrefix").asString()).isEqualTo(PREFIX);
		assertThat(overview.at("/caches/users/entries").asLong()).isEqualTo(2);
		assertThat(overview.at("/caches/users/timeToLive").asString()).isEqualTo("PT10M");
		assertThat(overview.at("/caches/users/staleIfError").asString()).isEqualTo("PT30S");
		assertThat(overview.at("/caches/users/earlyRefreshBeta").asDouble()).isEqualTo(2.5);
		assertThat(overview.at("/caches/users/staleWhileRevalidate").asString()).as("the default, for every cache")
			.isEqualTo("PT20S");

		assertThat(get("/actuator/tagcache/user-1").at("/total").asLong()).isEqualTo(1);
		HttpResponse<String> deleted = send(HttpRequest.newBuilder(uri("/actuator/tagcache/user-1")).DELETE().build());
		assertThat(deleted.statusCode()).isEqualTo(200);
		assertThat(json.readTree(deleted.body()).at("/removed").asLong()).isEqualTo(1);
		assertThat(count("/actuator/metrics/tagcache.invalidated.entries?tag=name:users")).isEqualTo(1);
		this.users.name(1);
		assertThat(this.users.calls()).as("reloaded after the invalidation").isEqualTo(3);

		assertThat(get("/actuator/health").at("/components/tagcache/status").asString()).isEqualTo("UP");
	}

	@Test
	void aCacheCreatedAfterStartupGetsItsMeters() throws Exception {
		this.users.late(1);
		this.users.late(1);
		assertThat(count("/actuator/metrics/cache.gets?tag=name:late&tag=result:hit")).isEqualTo(1);
	}

	@Test
	void aPostEvictsTheEntriesOfACacheWhoseKeyMatchesAGlob() throws Exception {
		// a cache of its own: the meters of 'users' are asserted by another test
		TaggedCache cache = this.cacheManager.getCache("globbed");
		cache.put("glob-1", "one", List.of("glob"));
		cache.put("glob-12", "twelve", List.of("glob"));
		cache.put("glob-2", "two", List.of("glob"));
		HttpResponse<String> evicted = post("/actuator/tagcache", "{\"cache\": \"globbed\", \"pattern\": \"glob-1*\"}");
		assertThat(evicted.statusCode()).as(evicted.body()).isEqualTo(200);
		assertThat(json.readTree(evicted.body()).at("/removed").asLong()).isEqualTo(2);
		assertThat(cache.get("glob-1")).isNull();
		assertThat(cache.get("glob-12")).isNull();
		assertThat(cache.get("glob-2")).isNotNull();

		assertThat(post("/actuator/tagcache", "{\"cache\": \"nope\", \"pattern\": \"*\"}").statusCode())
			.as("an unknown cache").isEqualTo(400);
		assertThat(post("/actuator/tagcache", "{\"cache\": \"globbed\", \"pattern\": \" \"}").statusCode())
			.as("a blank pattern").isEqualTo(400);
	}

	private HttpResponse<String> post(String path, String body) throws Exception {
		return send(HttpRequest.newBuilder(uri(path))
			.header("Content-Type", "application/json")
			.POST(HttpRequest.BodyPublishers.ofString(body))
			.build());
	}

	@Test
	void anInvalidTagIsABadRequest() throws Exception {
		HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/actuator/tagcache/%20")).DELETE().build());
		assertThat(response.statusCode()).isEqualTo(400);
	}

	private double count(String path) throws Exception {
		return get(path).at("/measurements/0/value").asDouble();
	}

	private JsonNode get(String path) throws Exception {
		HttpResponse<String> response = send(HttpRequest.newBuilder(uri(path)).GET().build());
		assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
		return json.readTree(response.body());
	}

	private HttpResponse<String> send(HttpRequest request) throws Exception {
		return this.http.send(request, HttpResponse.BodyHandlers.ofString());
	}

	private URI uri(String path) {
		return URI.create("http://localhost:" + this.port + path);
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Application {

		@Bean
		UserService userService() {
			return new UserService();
		}

	}

	static class UserService {

		private final AtomicInteger calls = new AtomicInteger();

		@CacheableTagged(cacheNames = "users", tags = "'user-' + #id")
		public String name(long id) {
			this.calls.incrementAndGet();
			return "user " + id;
		}

		@CacheableTagged(cacheNames = "late", tags = "'late-' + #id")
		public String late(long id) {
			return "late " + id;
		}

		public int calls() {
			return this.calls.get();
		}

	}

}
