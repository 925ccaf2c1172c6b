package io.tagcache.http;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import io.tagcache.TaggedCacheManager;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.http.servlet.CacheTagHeaderFilter;
import io.tagcache.test.RedisTopology;
import jakarta.servlet.http.HttpServletResponse;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.cache.Cache;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code tagcache.http.headers} in a real Spring Boot web application, over HTTP: a response whose
 * handling read or stored entries through {@code @CacheableTagged} carries their tags in every
 * configured header, on a miss and on a hit; one that touched no cached method carries none; one whose
 * tags do not fit a vendor's limits, or are unknown, carries none and is marked uncacheable.
 */
@SpringBootTest(webEnvironment = WebEnvironment.RANDOM_PORT,
		properties = { "tagcache.http.headers=surrogate-key,cache-tag,xkey,edge-cache-tag",
				"tagcache.caches.flaky.stale-if-error=1m" })
class CacheTagHeadersHttpIntegrationTests {

	private static final String PREFIX = "hdr" + UUID.randomUUID().toString().substring(0, 8);

	private final HttpClient http = HttpClient.newHttpClient();

	@LocalServerPort
	int port;

	@Autowired
	TaggedCacheManager cacheManager;

	@Autowired
	CacheTagHeaderFilter filter;

	@Autowired
	Users users;

	@Autowired
	MeterRegistry meters;

	@DynamicPropertySource
	static void redis(DynamicPropertyRegistry registry) {
		RedisURI node = RedisTopology.STANDALONE.nodes().get(0);
		registry.add("spring.data.redis.host", node::getHost);
		registry.add("spring.data.redis.port", node::getPort);
		registry.add("tagcache.key-prefix", () -> PREFIX);
	}

	@BeforeEach
	void emptyCaches() {
		this.cacheManager.getCacheNames().stream().map(this.cacheManager::getCache).forEach(Cache::clear);
	}

	@Test
	void aResponseCarriesTheTagsOfEveryEntryItReadOrStoredOnAMissAndOnAHit() throws Exception {
		int calls = this.users.calls().get();
		HttpResponse<String> miss = get("/users/1/with-location/7");
		HttpResponse<String> hit = get("/users/1/with-location/7");

		assertThat(this.users.calls()).as("the second request was served from the cache").hasValue(calls + 1);
		for (HttpResponse<String> response : List.of(miss, hit)) {
			assertThat(response.statusCode()).isEqualTo(200);
			assertThat(response.headers().firstValue("Surrogate-Key")).hasValue("user-1 loc-7");
			assertThat(response.headers().firstValue("Cache-Tag")).hasValue("user-1,loc-7");
			assertThat(response.headers().firstValue("xkey")).hasValue("user-1 loc-7");
			assertThat(response.headers().firstValue("Edge-Cache-Tag")).hasValue("user-1,loc-7");
			assertThat(response.headers().firstValue("Cache-Control")).isEmpty();
		}
	}

	@Test
	void aResponseThatTouchedNoCachedMethodCarriesNone() throws Exception {
		HttpResponse<String> response = get("/plain");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().map().keySet()).noneMatch(name -> name.equalsIgnoreCase("Surrogate-Key")
				|| name.equalsIgnoreCase("xkey") || name.equalsIgnoreCase("Cache-Tag")
				|| name.equalsIgnoreCase("Edge-Cache-Tag") || name.equalsIgnoreCase("Cache-Control"));
	}

	@Test
	void tagsOverAVendorsLimitAreNeverTruncatedTheResponseIsUncacheable() throws Exception {
		long before = this.filter.getUncacheable(CacheTagHeaderFilter.OVER_LIMIT);
		// 200 tags: within Fastly's and Cloudflare's 16 KiB, over Akamai's 128 tags
		HttpResponse<String> response = get("/lists/200");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("Edge-Cache-Tag")).isEmpty();
		assertThat(response.headers().firstValue("Surrogate-Key")).as("all or nothing").isEmpty();
		assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
		assertThat(response.headers().firstValue("Surrogate-Control")).hasValue("no-store");
		assertThat(response.headers().firstValue("CDN-Cache-Control")).hasValue("no-store");
		assertThat(response.headers().firstValue("Edge-Control")).hasValue("no-store");
		assertThat(this.filter.getUncacheable(CacheTagHeaderFilter.OVER_LIMIT)).isEqualTo(before + 1);
		assertThat(this.meters.get("tagcache.http.uncacheable").tag("reason", "over-limit").functionCounter().count())
			.isEqualTo(before + 1);

		assertThat(get("/lists/100").headers().firstValue("Edge-Cache-Tag")).as("100 tags fit").isPresent();
	}

	@Test
	void aValueOfUnknownTagsMakesTheResponseUncacheable() throws Exception {
		long before = this.filter.getUncacheable(CacheTagHeaderFilter.UNKNOWN_TAGS);
		HttpResponse<String> response = get("/untagged/1");
		assertThat(response.statusCode()).isEqualTo(200);
		assertThat(response.headers().firstValue("xkey")).isEmpty();
		assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
		assertThat(this.filter.getUncacheable(CacheTagHeaderFilter.UNKNOWN_TAGS)).isEqualTo(before + 1);
	}

	@Test
	void aResponseBuiltFromAStaleEntryIsUncacheable() throws Exception {
		this.users.failing(false);
		assertThat(get("/flaky/1").headers().firstValue("xkey")).hasValue("flaky-1");
		this.users.failing(true);
		long before = this.filter.getUncacheable(CacheTagHeaderFilter.STALE);
		// once the entry expired (ttl 100 ms), its reload fails and it is served stale (stale-if-error)
		await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
			HttpResponse<String> response = get("/flaky/1");
			assertThat(response.body()).isEqualTo("flaky 1");
			assertThat(response.headers().firstValue("Cache-Control")).hasValue("no-store");
			assertThat(response.headers().firstValue("xkey")).isEmpty();
		});
		assertThat(this.filter.getUncacheable(CacheTagHeaderFilter.STALE)).isGreaterThan(before);
	}

	@Test
	void aCachedCallAfterTheBodyStartedIsCountedAsItsTagsCannotBeWritten() throws Exception {
		long before = this.filter.getUncacheable(CacheTagHeaderFilter.AFTER_COMMIT);
		HttpResponse<String> response = get("/streamed/5");
		assertThat(response.body()).isEqualTo("start user 5 in 1");
		assertThat(response.headers().firstValue("xkey")).isEmpty();
		assertThat(this.filter.getUncacheable(CacheTagHeaderFilter.AFTER_COMMIT)).isEqualTo(before + 1);
	}

	@Test
	void tagsAreEncodedInTheHeaders() throws Exception {
		HttpResponse<String> response = get("/users/1/with-location/7?suffix=%20b");
		assertThat(response.headers().firstValue("xkey")).hasValue("user-1%20b loc-7");
	}

	private HttpResponse<String> get(String path) throws Exception {
		return this.http.send(HttpRequest.newBuilder(URI.create("http://localhost:" + this.port + path)).build(),
				HttpResponse.BodyHandlers.ofString());
	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(UserController.class)
	static class Application {

		@Bean
		Users users() {
			return new Users();
		}

	}

	static class Users {

		private final AtomicInteger calls = new AtomicInteger();

		AtomicInteger calls() {
			return this.calls;
		}

		@CacheableTagged(cacheNames = "users", key = "#id + ':' + #location + #suffix",
				tags = { "'user-' + #id + #suffix", "'loc-' + #location" })
		public String user(long id, long location, String suffix) {
			this.calls.incrementAndGet();
			return "user " + id + " in " + location;
		}

		@CacheableTagged(cacheNames = "lists", key = "#size", tags = "#result")
		public List<String> list(int size) {
			return IntStream.range(0, size).mapToObj(i -> "item-" + i).toList();
		}

		private volatile boolean failing;

		void failing(boolean failing) {
			this.failing = failing;
		}

		@CacheableTagged(cacheNames = "flaky", tags = "'flaky-' + #id", ttl = "100ms")
		public String flaky(long id) {
			if (this.failing) {
				throw new IllegalStateException("the backend is down");
			}
			return "flaky " + id;
		}

		/** A tag expression that fails: the value is returned uncached, its tags unknown. */
		@CacheableTagged(cacheNames = "untagged", tags = "#result.missing")
		public String untagged(long id) {
			return "untagged " + id;
		}

	}

	@RestController
	static class UserController {

		private final Users users;

		UserController(Users users) {
			this.users = users;
		}

		@GetMapping("/users/{id}/with-location/{location}")
		String user(@PathVariable long id, @PathVariable long location,
				@org.springframework.web.bind.annotation.RequestParam(defaultValue = "") String suffix) {
			return this.users.user(id, location, suffix);
		}

		@GetMapping("/lists/{size}")
		List<String> list(@PathVariable int size) {
			return this.users.list(size);
		}

		@GetMapping("/untagged/{id}")
		String untagged(@PathVariable long id) {
			return this.users.untagged(id);
		}

		@GetMapping("/flaky/{id}")
		String flaky(@PathVariable long id) {
			return this.users.flaky(id);
		}

		/** Writes the body before it calls the cached method: the headers are gone by then. */
		@GetMapping("/streamed/{id}")
		void streamed(@PathVariable long id, HttpServletResponse response) throws IOException {
			response.getOutputStream().write("start ".getBytes(StandardCharsets.UTF_8));
			response.getOutputStream().flush();
			response.getOutputStream().write(this.users.user(id, 1, "").getBytes(StandardCharsets.UTF_8));
		}

		@GetMapping("/plain")
		String plain() {
			return "no cache here";
		}

	}

}
