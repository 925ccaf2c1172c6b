package io.tagcache.http;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import static io.tagcache.http.VarnishTagPurgerTests.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * {@link CloudflareTagPurger} against a recording server standing in for Cloudflare's API.
 */
class CloudflareTagPurgerTests {

	private static final String SUCCESS = "{\"success\":true,\"errors\":[],\"messages\":[],\"result\":{\"id\":\"x\"}}";

	private final JsonMapper json = JsonMapper.builder().build();

	private final RecordingHttpServer cloudflare = new RecordingHttpServer();

	private final CloudflareTagPurger purger = new CloudflareTagPurger(this.cloudflare.uri("/client/v4/"),
			"023e105f4ecef8ad9ca31a8372d0c353", "secret-token", null);

	CloudflareTagPurgerTests() {
		this.cloudflare.answer(200, SUCCESS);
	}

	@AfterEach
	void stop() {
		this.cloudflare.close();
	}

	@Test
	void purgePostsTheTagsToTheZonesPurgeCache() {
		join(this.purger.purge(List.of("user-1", "users"), false));
		assertThat(this.cloudflare.requests()).singleElement().satisfies((request) -> {
			assertThat(request.method()).isEqualTo("POST");
			assertThat(request.path()).isEqualTo("/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/purge_cache");
			assertThat(request.header("Authorization")).isEqualTo("Bearer secret-token");
			assertThat(request.header("Content-Type")).isEqualTo("application/json");
			assertThat(tags(request.body())).containsExactly("user-1", "users");
		});
	}

	@Test
	void aSoftPurgeIsAPurge() {
		join(this.purger.purge(List.of("user-1"), true));
		assertThat(this.cloudflare.requests()).singleElement()
			.satisfies((request) -> assertThat(this.json.readTree(request.body()).properties())
				.extracting(java.util.Map.Entry::getKey)
				.containsExactly("tags"));
	}

	@Test
	void atMost100TagsPerCall() {
		List<String> tags = new ArrayList<>();
		for (int i = 0; i < 101; i++) {
			tags.add("tag-" + i);
		}
		join(this.purger.purge(tags, false));
		List<List<String>> calls = this.cloudflare.requests().stream().map((request) -> tags(request.body())).toList();
		assertThat(calls).extracting(List::size).containsExactlyInAnyOrder(100, 1);
		assertThat(calls.stream().flatMap(List::stream)).containsExactlyInAnyOrderElementsOf(tags);
	}

	@Test
	void theLimitPerCallIsASetting() {
		CloudflareTagPurger purger = new CloudflareTagPurger(this.cloudflare.uri("/"), "zone", "token", null, 30);
		List<String> tags = new ArrayList<>();
		for (int i = 0; i < 61; i++) {
			tags.add("tag-" + i);
		}
		join(purger.purge(tags, false));
		assertThat(this.cloudflare.requests()).hasSize(3);
	}

	@Test
	void successFalseFailsEvenOn200() {
		this.cloudflare.answer(200,
				"{\"success\":false,\"errors\":[{\"code\":1134,\"message\":\"Purge by tag not allowed\"}],\"messages\":[],\"result\":null}");
		Throwable failure = catchThrowable(() -> join(this.purger.purge(List.of("a"), false)));
		assertThat(failure).isInstanceOf(TagPurgeException.class)
			.hasMessageEndingWith(
					"was refused by cloudflare: answered 200 without \"success\": true errors [{\"code\":1134,\"message\":\"Purge by tag not allowed\"}]")
			.message()
			.doesNotContain("secret-token");
	}

	@Test
	void aBodyThatIsNotJsonFailsEvenOn200() {
		this.cloudflare.answer(200, "<html>maintenance</html>");
		assertThat(catchThrowable(() -> join(this.purger.purge(List.of("a"), false))))
			.isInstanceOf(TagPurgeException.class)
			.hasMessageContaining("answered 200 with a body that is not Cloudflare's JSON answer <html>");
	}

	@Test
	void rateLimitedFails() {
		this.cloudflare.answer(429, "{\"success\":false,\"errors\":[{\"code\":971,\"message\":\"Please wait\"}]}");
		Throwable failure = catchThrowable(() -> join(this.purger.purge(List.of("a"), false)));
		assertThat(failure).isInstanceOf(TagPurgeException.class).hasMessageContaining("answered 429");
		assertThat(((TagPurgeException) failure).getStatus()).isEqualTo(429);
	}

	@Test
	void aRefusedConnectionFailsThePurge() {
		CloudflareTagPurger nowhere = new CloudflareTagPurger(RecordingHttpServer.refusingUri(), "zone", "token", null);
		assertThat(catchThrowable(() -> join(nowhere.purge(List.of("a"), false))))
			.isInstanceOf(TagPurgeException.class)
			.hasMessageContaining("ConnectException");
	}

	@Test
	void anEmptyTagIsRefusedAndAnyOtherIsSent() {
		String unusual = "a tag, with \"quotes\" and é";
		Throwable failure = catchThrowable(() -> join(this.purger.purge(List.of("", unusual), false)));
		assertThat(failure).isInstanceOf(UnpurgeableTagsException.class).hasMessageContaining("'' is empty");
		assertThat(this.cloudflare.requests()).singleElement()
			.satisfies((request) -> assertThat(tags(request.body())).containsExactly(unusual));
	}

	@Test
	void theBaseUrlDefaultsToCloudflaresApi() {
		assertThat(new CloudflareTagPurger("023e105f4ecef8ad9ca31a8372d0c353", "token").getPurgeUrl()).isEqualTo(
				URI.create("https://api.cloudflare.com/client/v4/zones/023e105f4ecef8ad9ca31a8372d0c353/purge_cache"));
	}

	@Test
	void settingsAreChecked() {
		assertThatIllegalArgumentException()
			.isThrownBy(() -> new CloudflareTagPurger(CloudflareTagPurger.DEFAULT_BASE_URL, "zone", "token", null, 0))
			.withMessage("The most tags in a Cloudflare purge request must be positive, not 0");
		assertThatIllegalArgumentException().isThrownBy(() -> new CloudflareTagPurger("zone/x", "token"))
			.withMessage("Cloudflare zone id 'zone/x' must be letters, digits, '-' or '_'");
	}

	private List<String> tags(String body) {
		JsonNode tags = this.json.readTree(body).get("tags");
		List<String> values = new ArrayList<>();
		tags.forEach((tag) -> values.add(tag.stringValue()));
		return values;
	}

}
