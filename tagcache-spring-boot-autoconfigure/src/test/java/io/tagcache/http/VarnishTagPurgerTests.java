package io.tagcache.http;

import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * {@link VarnishTagPurger} against a recording server standing in for Varnish: the requests, their
 * split at the header limit, and what fails.
 */
class VarnishTagPurgerTests {

	private final RecordingHttpServer varnish = new RecordingHttpServer();

	private final RecordingHttpServer otherVarnish = new RecordingHttpServer();

	@AfterEach
	void stop() {
		this.varnish.close();
		this.otherVarnish.close();
	}

	@Test
	void purgeSendsPurgeWithXkeyPurgeToEveryVarnish() {
		VarnishTagPurger purger = new VarnishTagPurger(List.of(this.varnish.uri("/"), this.otherVarnish.uri("/")));
		join(purger.purge(List.of("user-1", "users"), false));
		for (RecordingHttpServer server : List.of(this.varnish, this.otherVarnish)) {
			assertThat(server.requests()).singleElement().satisfies((request) -> {
				assertThat(request.method()).isEqualTo("PURGE");
				assertThat(request.path()).isEqualTo("/");
				assertThat(request.header("xkey-purge")).isEqualTo("user-1 users");
				assertThat(request.header("xkey-softpurge")).isNull();
			});
		}
	}

	@Test
	void softPurgeSendsXkeySoftpurge() {
		join(new VarnishTagPurger(List.of(this.varnish.uri("/"))).purge(List.of("user-1"), true));
		assertThat(this.varnish.requests()).singleElement().satisfies((request) -> {
			assertThat(request.header("xkey-softpurge")).isEqualTo("user-1");
			assertThat(request.header("xkey-purge")).isNull();
		});
	}

	@Test
	void duplicateTagsAreSentOnce() {
		join(new VarnishTagPurger(List.of(this.varnish.uri("/"))).purge(List.of("a", "b", "a"), false));
		assertThat(this.varnish.requests()).singleElement()
			.satisfies((request) -> assertThat(request.header("xkey-purge")).isEqualTo("a b"));
	}

	@Test
	void tagsAreSplitSoThatEachHeaderStaysWithinTheLimit() {
		// 2,000 tags of 9 bytes: 19,999 bytes joined, over three 7,000-byte headers
		List<String> tags = new ArrayList<>();
		for (int i = 0; i < 2000; i++) {
			tags.add(String.format("tag-%05d", i));
		}
		join(new VarnishTagPurger(List.of(this.varnish.uri("/"))).purge(tags, false));
		List<String> headers = this.varnish.requests().stream().map((request) -> request.header("xkey-purge")).toList();
		assertThat(headers).hasSize(3).allSatisfy((header) -> assertThat(header.length()).isLessThanOrEqualTo(7000));
		assertThat(headers.stream().flatMap((header) -> Arrays.stream(header.split(" ")))).containsExactlyInAnyOrderElementsOf(tags);
	}

	@Test
	void aHeaderExactlyAtTheLimitIsOneRequest() {
		VarnishTagPurger purger = new VarnishTagPurger(List.of(this.varnish.uri("/")), null, 9);
		join(purger.purge(List.of("abcd", "efgh", "i"), false));
		assertThat(this.varnish.requests()).extracting((request) -> request.header("xkey-purge"))
			.containsExactlyInAnyOrder("abcd efgh", "i");
	}

	@Test
	void aTagLongerThanTheLimitIsRefusedAndTheOthersArePurged() {
		VarnishTagPurger purger = new VarnishTagPurger(List.of(this.varnish.uri("/")), null, 10);
		String tooLong = "x".repeat(11);
		Throwable failure = catchThrowable(() -> join(purger.purge(List.of("a", tooLong, "b"), false)));
		assertThat(failure).isInstanceOf(UnpurgeableTagsException.class)
			.hasMessageContaining("varnish cannot purge 1 tag(s)")
			.hasMessageContaining("is 11 bytes, longer than the xkey header limit of 10 bytes")
			.hasMessageContaining("http_req_hdr_len");
		assertThat(((UnpurgeableTagsException) failure).getTags()).containsExactly(tooLong);
		assertThat(this.varnish.requests()).extracting((request) -> request.header("xkey-purge"))
			.containsExactly("a b");
	}

	@Test
	void tagsAHeaderCannotCarryAreRefused() {
		VarnishTagPurger purger = new VarnishTagPurger(List.of(this.varnish.uri("/")));
		Throwable failure = catchThrowable(() -> join(purger.purge(List.of("a b", "a,b", "é", "", "ok"), false)));
		assertThat(failure).isInstanceOf(UnpurgeableTagsException.class)
			.hasMessageContaining("'a b' holds a character that is not visible ASCII (U+0020)")
			.hasMessageContaining("'a,b' holds ','")
			.hasMessageContaining("U+00E9")
			.hasMessageContaining("'' is empty");
		assertThat(this.varnish.requests()).extracting((request) -> request.header("xkey-purge"))
			.containsExactly("ok");
	}

	@Test
	void aServerErrorFailsThePurge() {
		this.varnish.answer(503, "Backend fetch failed");
		Throwable failure = catchThrowable(
				() -> join(new VarnishTagPurger(List.of(this.varnish.uri("/purge"))).purge(List.of("a"), false)));
		assertThat(failure).isInstanceOf(TagPurgeException.class)
			.hasMessage("Purge request PURGE " + this.varnish.uri("/purge")
					+ " was refused by varnish: answered 503 Backend fetch failed");
		assertThat(((TagPurgeException) failure).getStatus()).isEqualTo(503);
		assertThat(((TagPurgeException) failure).getPurger()).isEqualTo("varnish");
	}

	@Test
	void aForbiddenPurgeFails() {
		this.varnish.answer(403, "Forbidden");
		assertThat(catchThrowable(
				() -> join(new VarnishTagPurger(List.of(this.varnish.uri("/"))).purge(List.of("a"), false))))
			.isInstanceOf(TagPurgeException.class)
			.hasMessageContaining("answered 403");
	}

	@Test
	void oneVarnishFailingFailsThePurgeAfterTheOthersWereSent() {
		this.otherVarnish.answer(500, "");
		VarnishTagPurger purger = new VarnishTagPurger(List.of(this.varnish.uri("/"), this.otherVarnish.uri("/")));
		assertThat(catchThrowable(() -> join(purger.purge(List.of("a"), false))))
			.isInstanceOf(TagPurgeException.class);
		assertThat(this.varnish.requests()).hasSize(1);
	}

	@Test
	void aRefusedConnectionFailsThePurge() {
		URI nowhere = RecordingHttpServer.refusingUri();
		assertThat(catchThrowable(() -> join(new VarnishTagPurger(List.of(nowhere)).purge(List.of("a"), false))))
			.isInstanceOf(TagPurgeException.class)
			.hasMessageStartingWith("Purge request PURGE " + nowhere + " to varnish failed: ConnectException");
	}

	@Test
	void purgeUrlsAreChecked() {
		assertThatIllegalArgumentException().isThrownBy(() -> new VarnishTagPurger(List.of()))
			.withMessage("At least one Varnish purge URL is needed");
		assertThatIllegalArgumentException().isThrownBy(() -> new VarnishTagPurger(List.of(URI.create("/purge"))))
			.withMessage("Varnish purge URL '/purge' must be an absolute http or https URL");
	}

	/** Wait for the purge and throw what it failed with, unwrapped. */
	static void join(CompletableFuture<Void> purge) {
		try {
			purge.get(10, TimeUnit.SECONDS);
		}
		catch (java.util.concurrent.ExecutionException ex) {
			Throwable cause = ex.getCause();
			while (cause instanceof CompletionException && cause.getCause() != null) {
				cause = cause.getCause();
			}
			if (cause instanceof RuntimeException runtime) {
				throw runtime;
			}
			throw new IllegalStateException(cause);
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
	}

}
