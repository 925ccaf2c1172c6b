package io.tagcache.http;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.tagcache.http.VarnishTagPurgerTests.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * {@link FastlyTagPurger} against a recording server standing in for Fastly's API.
 */
class FastlyTagPurgerTests {

	private final RecordingHttpServer fastly = new RecordingHttpServer();

	private final FastlyTagPurger purger = new FastlyTagPurger(this.fastly.uri("/"), "SU1Z0isxPaozGVKXdv0eY",
			"secret-token", null);

	@AfterEach
	void stop() {
		this.fastly.close();
	}

	@Test
	void purgePostsTheKeysToTheServicesBatchPurge() {
		this.fastly.answer(200, "{\"user-1\":\"108-1391560174-974124\",\"users\":\"108-1391560174-974125\"}");
		join(this.purger.purge(List.of("user-1", "users"), false));
		assertThat(this.fastly.requests()).singleElement().satisfies((request) -> {
			assertThat(request.method()).isEqualTo("POST");
			assertThat(request.path()).isEqualTo("/service/SU1Z0isxPaozGVKXdv0eY/purge");
			assertThat(request.header("Fastly-Key")).isEqualTo("secret-token");
			assertThat(request.header("Surrogate-Key")).isEqualTo("user-1 users");
			assertThat(request.header("Fastly-Soft-Purge")).isNull();
			assertThat(request.body()).isEmpty();
		});
	}

	@Test
	void softPurgeAddsFastlySoftPurge() {
		join(this.purger.purge(List.of("user-1"), true));
		assertThat(this.fastly.requests()).singleElement()
			.satisfies((request) -> assertThat(request.header("Fastly-Soft-Purge")).isEqualTo("1"));
	}

	@Test
	void atMost256KeysPerRequest() {
		List<String> keys = new ArrayList<>();
		for (int i = 0; i < 257; i++) {
			keys.add("key-" + i);
		}
		join(this.purger.purge(keys, false));
		List<List<String>> batches = this.fastly.requests()
			.stream()
			.map((request) -> Arrays.asList(request.header("Surrogate-Key").split(" ")))
			.toList();
		assertThat(batches).extracting(List::size).containsExactlyInAnyOrder(256, 1);
		assertThat(batches.stream().flatMap(List::stream)).containsExactlyInAnyOrderElementsOf(keys);
	}

	@Test
	void aHeaderStaysWithin16KiB() {
		// 20 keys of 1,024 bytes: 20,499 bytes joined, over two 16,384-byte headers
		List<String> keys = new ArrayList<>();
		for (int i = 0; i < 20; i++) {
			keys.add(String.format("%02d", i) + "k".repeat(1022));
		}
		join(this.purger.purge(keys, false));
		assertThat(this.fastly.requests()).hasSize(2)
			.allSatisfy((request) -> assertThat(request.header("Surrogate-Key").length()).isLessThanOrEqualTo(16_384));
	}

	@Test
	void aKeyLongerThan1024BytesIsRefused() {
		String tooLong = "k".repeat(1025);
		Throwable failure = catchThrowable(() -> join(this.purger.purge(List.of("a", tooLong), false)));
		assertThat(failure).isInstanceOf(UnpurgeableTagsException.class)
			.hasMessageContaining("is 1025 bytes, longer than Fastly's surrogate key limit of 1024 bytes");
		assertThat(this.fastly.requests()).singleElement()
			.satisfies((request) -> assertThat(request.header("Surrogate-Key")).isEqualTo("a"));
	}

	@Test
	void aServerErrorFailsThePurgeWithoutShowingTheToken() {
		this.fastly.answer(503, "{\"msg\":\"unavailable\"}");
		Throwable failure = catchThrowable(() -> join(this.purger.purge(List.of("a"), false)));
		assertThat(failure).isInstanceOf(TagPurgeException.class)
			.hasMessage("Purge request POST " + this.fastly.uri("/service/SU1Z0isxPaozGVKXdv0eY/purge")
					+ " was refused by fastly: answered 503 {\"msg\":\"unavailable\"}")
			.message()
			.doesNotContain("secret-token");
	}

	@Test
	void aRefusedConnectionFailsThePurge() {
		FastlyTagPurger nowhere = new FastlyTagPurger(RecordingHttpServer.refusingUri(), "service", "token", null);
		assertThat(catchThrowable(() -> join(nowhere.purge(List.of("a"), false))))
			.isInstanceOf(TagPurgeException.class)
			.hasMessageContaining("ConnectException");
	}

	@Test
	void theBaseUrlDefaultsToFastlysApi() {
		assertThat(new FastlyTagPurger("SU1Z0isxPaozGVKXdv0eY", "token").getPurgeUrl())
			.isEqualTo(URI.create("https://api.fastly.com/service/SU1Z0isxPaozGVKXdv0eY/purge"));
	}

	@Test
	void theServiceIdCannotChangeThePath() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new FastlyTagPurger(FastlyTagPurger.DEFAULT_BASE_URL, "../x", "token", null))
			.withMessage("Fastly service id '../x' must be letters, digits, '-' or '_'");
		assertThatIllegalArgumentException().isThrownBy(() -> new FastlyTagPurger("service", " "))
			.withMessage("A Fastly API token is needed");
	}

}
