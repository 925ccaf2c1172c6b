package io.tagcache.http;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.util.Assert;

/**
 * Purges tags from a Cloudflare zone through its purge by cache-tags:
 * {@code POST {baseUrl}/zones/{zoneId}/purge_cache} with {@code Authorization: Bearer <token>} and
 * the body {@code {"tags":["a","b"]}}. An answer is accepted only when its status is 2xx and its JSON
 * says {@code "success": true}; Cloudflare's {@code errors} are quoted otherwise. A rate-limited call
 * (429) is a failure like any other and retried by {@link TagPurgeQueue} with backoff.
 *
 * <p>Cloudflare has no soft purge: a soft purge is sent as a purge (the objects are removed rather
 * than marked stale, which costs a miss, never a stale read).
 *
 * <p>Limits, as Cloudflare documents them (verified when this was written): at most 100 operations,
 * here tags, per purge request on every plan, within a per-account rate limit that depends on the plan
 * (https://developers.cloudflare.com/cache/how-to/purge-cache/); the default
 * {@value #DEFAULT_MAX_TAGS_PER_REQUEST} is a constructor argument, for when that changes. Individual
 * tags have no maximum length, only the {@code Cache-Tag} response header as a whole (16 KB), and the
 * minimum length of a tag is one byte
 * (https://developers.cloudflare.com/cache/how-to/purge-cache/purge-by-tags/): only an empty tag is
 * refused ({@link UnpurgeableTagsException}). Purge by tag is available on the plans that page names.
 */
public final class CloudflareTagPurger implements TagPurger {

	/** Cloudflare's API. */
	public static final URI DEFAULT_BASE_URL = URI.create("https://api.cloudflare.com/client/v4");

	/** The default most tags in one purge request. */
	public static final int DEFAULT_MAX_TAGS_PER_REQUEST = 100;

	private static final JsonMapper JSON = JsonMapper.builder().build();

	private final URI purgeUrl;

	private final String apiToken;

	private final HttpClient client;

	private final int maxTagsPerRequest;

	/**
	 * Create a purger for Cloudflare's API with its own HTTP client.
	 * @param zoneId the zone to purge
	 * @param apiToken an API token allowed to purge the zone's cache
	 */
	public CloudflareTagPurger(String zoneId, String apiToken) {
		this(DEFAULT_BASE_URL, zoneId, apiToken, null);
	}

	/**
	 * Create a purger with the default limit of tags per request.
	 * @param baseUrl the API's base URL, {@link #DEFAULT_BASE_URL} but in tests
	 * @param zoneId the zone to purge
	 * @param apiToken an API token allowed to purge the zone's cache
	 * @param client the client to send the requests with, or {@code null} for one of its own
	 */
	public CloudflareTagPurger(URI baseUrl, String zoneId, String apiToken, @Nullable HttpClient client) {
		this(baseUrl, zoneId, apiToken, client, DEFAULT_MAX_TAGS_PER_REQUEST);
	}

	/**
	 * Create a purger.
	 * @param baseUrl the API's base URL, {@link #DEFAULT_BASE_URL} but in tests
	 * @param zoneId the zone to purge
	 * @param apiToken an API token allowed to purge the zone's cache
	 * @param client the client to send the requests with, or {@code null} for one of its own
	 * @param maxTagsPerRequest the most tags in one purge request
	 */
	public CloudflareTagPurger(URI baseUrl, String zoneId, String apiToken, @Nullable HttpClient client,
			int maxTagsPerRequest) {
		Assert.hasText(apiToken, "A Cloudflare API token is needed");
		Assert.isTrue(maxTagsPerRequest > 0,
				() -> "The most tags in a Cloudflare purge request must be positive, not " + maxTagsPerRequest);
		this.purgeUrl = ApiUrls.resolve("Cloudflare", baseUrl, "zones", "zone id", zoneId, "purge_cache");
		this.apiToken = apiToken;
		this.client = (client != null) ? client : PurgeExchange.defaultClient();
		this.maxTagsPerRequest = maxTagsPerRequest;
	}

	@Override
	public String name() {
		return "cloudflare";
	}

	/**
	 * Where purges are sent.
	 * @return the purge URL of the zone
	 */
	public URI getPurgeUrl() {
		return this.purgeUrl;
	}

	/**
	 * The most tags in one purge request.
	 * @return the limit a batch stays within
	 */
	public int getMaxTagsPerRequest() {
		return this.maxTagsPerRequest;
	}

	/**
	 * Purge the tags; Cloudflare has no soft purge, so {@code soft} is ignored and the objects are
	 * removed.
	 */
	@Override
	public CompletableFuture<Void> purge(List<String> tags, boolean soft) {
		try {
			PurgeExchange.Selection selection = PurgeExchange.select(name(), tags,
					(tag) -> tag.isEmpty() ? "is empty" : null);
			List<HttpRequest> requests = new ArrayList<>();
			for (List<String> batch : TagBatches.split(selection.accepted(), this.maxTagsPerRequest,
					TagBatches.UNLIMITED)) {
				requests.add(HttpRequest.newBuilder(this.purgeUrl)
					.POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(Map.of("tags", batch))))
					.header("Authorization", "Bearer " + this.apiToken)
					.header("Content-Type", "application/json")
					.header("Accept", "application/json")
					.timeout(PurgeExchange.REQUEST_TIMEOUT)
					.build());
			}
			return selection.complete(PurgeExchange.sendAll(this.client, name(), requests,
					CloudflareTagPurger::refusal));
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	private static @Nullable String refusal(HttpResponse<String> response) {
		int status = response.statusCode();
		JsonNode answer = parse(response.body());
		boolean success = answer != null && answer.get("success") != null && answer.get("success").isBoolean()
				&& answer.get("success").booleanValue();
		if (status >= 200 && status < 300 && success) {
			return null;
		}
		String errors = (answer != null && answer.get("errors") != null) ? " errors " + answer.get("errors")
				: PurgeExchange.bodyExcerpt(response.body());
		String verdict = (answer == null) ? " with a body that is not Cloudflare's JSON answer"
				: (success ? "" : " without \"success\": true");
		return "answered " + status + verdict + errors;
	}

	private static @Nullable JsonNode parse(@Nullable String body) {
		if (body == null || body.isBlank()) {
			return null;
		}
		try {
			JsonNode node = JSON.readTree(body);
			return (node != null && node.isObject()) ? node : null;
		}
		catch (RuntimeException ex) {
			return null;
		}
	}

}
