package io.tagcache.http;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Purges tags from a Fastly service through its batch purge by surrogate key:
 * {@code POST {baseUrl}/service/{serviceId}/purge} with the API token in {@code Fastly-Key} and the
 * keys, separated by spaces, in {@code Surrogate-Key}; a soft purge (objects marked stale rather than
 * removed) adds {@code Fastly-Soft-Purge: 1}. Any answer other than 2xx is a failure.
 *
 * <p>Limits, as Fastly documents them (verified when this was written): a batch request purges at
 * most {@value #MAX_KEYS_PER_REQUEST} keys, given in the {@code Surrogate-Key} request header as an
 * alternative to a JSON body (API reference "Purge multiple surrogate key tags",
 * https://www.fastly.com/documentation/reference/api/purging/, as mirrored by Fastly's generated
 * clients, e.g. https://github.com/fastly/fastly-js/blob/main/docs/PurgeApi.md); the value of
 * {@code Fastly-Soft-Purge} does not matter, its presence makes the purge soft (same reference); a key
 * is at most {@value #MAX_KEY_BYTES} bytes, and purge requests citing a longer key fail
 * (https://www.fastly.com/documentation/reference/vcl/constraints-and-limitations/); the
 * {@code Surrogate-Key} response header is at most {@value #MAX_HEADER_BYTES} bytes, keys beyond it are
 * ignored (https://www.fastly.com/documentation/reference/http/http-headers/Surrogate-Key/). No limit
 * on the request header of a purge is documented; the same {@value #MAX_HEADER_BYTES} bytes are kept
 * to, so a batch is also split by bytes.
 *
 * <p>A key longer than {@value #MAX_KEY_BYTES} bytes can never be purged (nor could it have been
 * stored), and a key holding anything but visible ASCII cannot be carried in a space-separated header:
 * such keys are never sent, and the purge completes with an {@link UnpurgeableTagsException} naming
 * them once the other keys were purged.
 */
public final class FastlyTagPurger implements TagPurger {

	/** Fastly's API. */
	public static final URI DEFAULT_BASE_URL = URI.create("https://api.fastly.com");

	/** The most keys one batch purge request takes. */
	public static final int MAX_KEYS_PER_REQUEST = 256;

	/** The most bytes of one surrogate key. */
	public static final int MAX_KEY_BYTES = 1024;

	/** The most bytes of a {@code Surrogate-Key} header value. */
	public static final int MAX_HEADER_BYTES = 16_384;

	private final URI purgeUrl;

	private final String apiToken;

	private final HttpClient client;

	/**
	 * Create a purger for Fastly's API with its own HTTP client.
	 * @param serviceId the service to purge
	 * @param apiToken an API token with the {@code purge_select} scope
	 */
	public FastlyTagPurger(String serviceId, String apiToken) {
		this(DEFAULT_BASE_URL, serviceId, apiToken, null);
	}

	/**
	 * Create a purger.
	 * @param baseUrl the API's base URL, {@link #DEFAULT_BASE_URL} but in tests
	 * @param serviceId the service to purge
	 * @param apiToken an API token with the {@code purge_select} scope
	 * @param client the client to send the requests with, or {@code null} for one of its own
	 */
	public FastlyTagPurger(URI baseUrl, String serviceId, String apiToken, @Nullable HttpClient client) {
		Assert.hasText(apiToken, "A Fastly API token is needed");
		this.purgeUrl = ApiUrls.resolve("Fastly", baseUrl, "service", "service id", serviceId, "purge");
		this.apiToken = apiToken;
		this.client = (client != null) ? client : PurgeExchange.defaultClient();
	}

	@Override
	public String name() {
		return "fastly";
	}

	/**
	 * Where purges are sent.
	 * @return the batch purge URL of the service
	 */
	public URI getPurgeUrl() {
		return this.purgeUrl;
	}

	@Override
	public CompletableFuture<Void> purge(List<String> tags, boolean soft) {
		try {
			PurgeExchange.Selection selection = PurgeExchange.select(name(), tags, FastlyTagPurger::refusal);
			List<HttpRequest> requests = new ArrayList<>();
			for (List<String> batch : TagBatches.split(selection.accepted(), MAX_KEYS_PER_REQUEST,
					MAX_HEADER_BYTES)) {
				HttpRequest.Builder request = HttpRequest.newBuilder(this.purgeUrl)
					.POST(HttpRequest.BodyPublishers.noBody())
					.header("Fastly-Key", this.apiToken)
					.header("Surrogate-Key", String.join(" ", batch))
					.header("Accept", "application/json")
					.timeout(PurgeExchange.REQUEST_TIMEOUT);
				if (soft) {
					request.header("Fastly-Soft-Purge", "1");
				}
				requests.add(request.build());
			}
			return selection.complete(PurgeExchange.sendAll(this.client, name(), requests,
					PurgeExchange::requireSuccessStatus));
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	private static @Nullable String refusal(String key) {
		String refusal = PurgeExchange.headerRefusal(key, "");
		if (refusal != null) {
			return refusal;
		}
		int length = TagBatches.utf8Length(key);
		return (length > MAX_KEY_BYTES) ? "is " + length + " bytes, longer than Fastly's surrogate key limit of "
				+ MAX_KEY_BYTES + " bytes" : null;
	}

}
