package io.tagcache.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import io.tagcache.actuate.TagCacheEndpoint;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.test.RedisTopology;
import io.tagcache.test.VarnishServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * The application behind a real Varnish with {@code vmod-xkey} ({@code varnishd} started by the test
 * on a free port, with the VCL {@code varnish-test.vcl}): its responses carry {@code xkey} headers
 * ({@code tagcache.http.headers=xkey}), a second GET through Varnish is a Varnish hit, a PUT that
 * invalidates a tag purges the responses of that tag ({@code tagcache.http.varnish.purge-urls}) so that
 * a GET through Varnish is fresh again, and a soft invalidation soft-purges them: Varnish serves the
 * stale response at once while it fetches the new one in the background. Skipped where Varnish is not
 * installed.
 */
class VarnishIntegrationTests {

	private static final Duration PURGE_BOUND = Duration.ofSeconds(5);

	private static final Map<Long, String> names = new ConcurrentHashMap<>();

	private static final AtomicInteger reads = new AtomicInteger();

	private static ConfigurableApplicationContext application;

	private static VarnishServer varnish;

	private final HttpClient http = HttpClient.newHttpClient();

	@BeforeAll
	static void start() throws IOException {
		assumeThat(VarnishServer.isInstalled()).as(VarnishServer.VARNISH_MISSING).isTrue();
		int varnishPort = VarnishServer.freePort();
		RedisURI redis = RedisTopology.STANDALONE.nodes().get(0);
		application = new SpringApplicationBuilder(Application.class).properties(Map.of("server.port", "0",
				"spring.data.redis.host", redis.getHost(), "spring.data.redis.port", redis.getPort(),
				"tagcache.key-prefix", "varnish" + UUID.randomUUID().toString().substring(0, 8),
				"tagcache.http.headers", "xkey", "tagcache.http.varnish.purge-urls",
				"http://127.0.0.1:" + varnishPort + "/"))
			.run();
		int applicationPort = ((WebServerApplicationContext) application).getWebServer().getPort();
		varnish = VarnishServer.start(varnishPort, vcl(applicationPort));
	}

	private static String vcl(int backendPort) throws IOException {
		try (InputStream in = VarnishIntegrationTests.class.getResourceAsStream("varnish-test.vcl")) {
			return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("BACKEND_PORT",
					String.valueOf(backendPort));
		}
	}

	@AfterAll
	static void stop() {
		if (varnish != null) {
			varnish.close();
		}
		if (application != null) {
			application.close();
		}
	}

	/** Each test has its user: the caches (Redis, Varnish) outlive a test. */
	@BeforeEach
	void rows() {
		names.put(1L, "Ada");
		names.put(2L, "Grace");
		names.put(3L, "Ada");
	}

	@Test
	void theApplicationPurgesTheConfiguredVarnish() {
		TagPurges purges = application.getBean(TagPurges.class);
		assertThat(purges.getQueues()).singleElement().satisfies(queue -> assertThat(queue.name()).isEqualTo("varnish"));
		assertThat(application.getBean(VarnishTagPurger.class).getPurgeUrls())
			.containsExactly(URI.create("http://127.0.0.1:" + varnish.port() + "/"));
	}

	@Test
	void aSecondGetThroughVarnishIsAVarnishHitCarryingTheTags() throws Exception {
		HttpResponse<String> first = get("/users/2");
		HttpResponse<String> second = get("/users/2");

		assertThat(first.headers().firstValue("X-Cache")).hasValue("MISS");
		assertThat(second.headers().firstValue("X-Cache")).hasValue("HIT");
		assertThat(second.body()).isEqualTo(first.body()).isEqualTo("Grace");
		assertThat(second.headers().firstValue("xkey")).hasValue("user-2");
	}

	@Test
	void aPutThatInvalidatesATagPurgesTheResponsesOfThatTag() throws Exception {
		assertThat(get("/users/1").body()).isEqualTo("Ada");
		assertThat(get("/users/1").headers().firstValue("X-Cache")).hasValue("HIT");

		HttpResponse<String> put = send(HttpRequest.newBuilder(varnishUri("/users/1"))
			.PUT(HttpRequest.BodyPublishers.ofString("Ada Lovelace")));
		assertThat(put.statusCode()).isEqualTo(200);

		await().atMost(PURGE_BOUND).untilAsserted(() -> {
			HttpResponse<String> fresh = get("/users/1");
			assertThat(fresh.body()).isEqualTo("Ada Lovelace");
			assertThat(fresh.headers().firstValue("X-Cache")).hasValue("MISS");
		});
		assertThat(get("/users/1").headers().firstValue("X-Cache")).as("cached again").hasValue("HIT");

		MeterRegistry meters = application.getBean(MeterRegistry.class);
		assertThat(meters.get("tagcache.http.purges").tags("purger", "varnish", "outcome", "sent").functionCounter().count())
			.as("tags purged").isPositive();
		assertThat(meters.get("tagcache.http.purges.pending").tags("purger", "varnish").gauge().value()).isZero();
		assertThat(new TagCacheEndpoint(application.getBean(RedisTaggedCacheManager.class),
				application.getBean(TagPurges.class)).caches().pendingPurges()).containsExactly(entry("varnish", 0));
	}

	@Test
	void aSoftPurgeServesTheStaleResponseWhileVarnishFetchesTheNewOne() throws Exception {
		assertThat(get("/users/3").body()).isEqualTo("Ada");
		assertThat(get("/users/3").headers().firstValue("X-Cache")).hasValue("HIT");
		int readsBefore = reads.get();

		HttpResponse<String> soft = send(HttpRequest.newBuilder(varnishUri("/users/3/soft"))
			.POST(HttpRequest.BodyPublishers.ofString("Ada, Countess")));
		assertThat(soft.statusCode()).isEqualTo(200);

		// once the soft purge arrived the object is in grace: a GET is answered with it at once (HIT-STALE)
		// and makes Varnish fetch the new one in the background
		List<HttpResponse<String>> responses = new CopyOnWriteArrayList<>();
		await().atMost(PURGE_BOUND).until(() -> {
			HttpResponse<String> response = get("/users/3");
			responses.add(response);
			return response.body().equals("Ada, Countess");
		});
		assertThat(responses).anySatisfy(response -> {
			assertThat(response.headers().firstValue("X-Cache")).hasValue("HIT-STALE");
			assertThat(response.body()).isEqualTo("Ada");
		});
		assertThat(responses.get(responses.size() - 1).headers().firstValue("X-Cache")).hasValue("HIT");
		assertThat(reads.get()).as("one fetch, in the background").isEqualTo(readsBefore + 1);
	}

	private HttpResponse<String> get(String path) throws Exception {
		return send(HttpRequest.newBuilder(varnishUri(path)).GET());
	}

	private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
		return this.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
	}

	private static URI varnishUri(String path) {
		return URI.create("http://127.0.0.1:" + varnish.port() + path);
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

		@CacheableTagged(cacheNames = "users", tags = "'user-' + #id")
		public String name(long id) {
			reads.incrementAndGet();
			return names.get(id);
		}

		@InvalidateTags("'user-' + #id")
		public void rename(long id, String name) {
			names.put(id, name);
		}

		@InvalidateTags(value = "'user-' + #id", soft = true)
		public void renameSoftly(long id, String name) {
			names.put(id, name);
		}

	}

	@RestController
	static class UserController {

		private final Users users;

		UserController(Users users) {
			this.users = users;
		}

		@GetMapping("/users/{id}")
		String name(@PathVariable long id) {
			return this.users.name(id);
		}

		@PutMapping("/users/{id}")
		void rename(@PathVariable long id, @RequestBody String name) {
			this.users.rename(id, name);
		}

		@PostMapping("/users/{id}/soft")
		void renameSoftly(@PathVariable long id, @RequestBody String name) {
			this.users.renameSoftly(id, name);
		}

	}

}
