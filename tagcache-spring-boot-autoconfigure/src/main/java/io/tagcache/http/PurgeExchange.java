package io.tagcache.http;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

import org.jspecify.annotations.Nullable;

/**
 * What every purger does around its own requests: leave out the tags the cache can never purge,
 * send the requests concurrently, tell an accepted answer from a refused one, and complete the purge
 * once all were answered. The API token a request carries never appears in a message: requests are
 * named by method and URI only.
 */
final class PurgeExchange {

	/** How long one purge request may take, connection included. */
	static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

	/** How long connecting to the cache may take. */
	static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);

	private static final int MAX_BODY_IN_MESSAGE = 200;

	private PurgeExchange() {
	}

	/**
	 * The client a purger uses when none is given: HTTP/1.1 (a purge is a few requests; no HTTP/2
	 * upgrade asked of a proxy that may not expect one), a connect timeout.
	 * @return a new client
	 */
	static HttpClient defaultClient() {
		return HttpClient.newBuilder()
			.version(HttpClient.Version.HTTP_1_1)
			.connectTimeout(CONNECT_TIMEOUT)
			.build();
	}

	/**
	 * Whether a tag can travel in a header as one of a list separated by spaces: visible ASCII only
	 * (what an HTTP header value carries unambiguously), no space.
	 * @param tag the tag
	 * @param separators further characters the cache splits on
	 * @return why it cannot, or {@code null} when it can
	 */
	static @Nullable String headerRefusal(String tag, String separators) {
		if (tag.isEmpty()) {
			return "is empty";
		}
		for (int i = 0; i < tag.length(); i++) {
			char c = tag.charAt(i);
			if (c < 0x21 || c > 0x7e) {
				return "holds a character that is not visible ASCII (" + String.format("U+%04X", (int) c)
						+ "), which a header list of tags cannot carry";
			}
			if (separators.indexOf(c) >= 0) {
				return "holds '" + c + "', which separates tags in the header";
			}
		}
		return null;
	}

	/**
	 * Deduplicate the tags and split off those the cache can never purge.
	 * @param purger the purger's name, for the message
	 * @param tags the tags to purge
	 * @param refusal why a tag cannot be purged, or {@code null} when it can
	 * @return the selection
	 */
	static Selection select(String purger, List<String> tags, Function<String, @Nullable String> refusal) {
		List<String> accepted = new ArrayList<>();
		List<String> refused = new ArrayList<>();
		StringBuilder reasons = new StringBuilder();
		for (String tag : new LinkedHashSet<>(tags)) {
			String reason = refusal.apply(tag);
			if (reason == null) {
				accepted.add(tag);
			}
			else {
				refused.add(tag);
				reasons.append((reasons.length() > 0) ? "; " : "")
					.append("'")
					.append(TagBatches.abbreviate(tag))
					.append("' ")
					.append(reason);
			}
		}
		String message = refused.isEmpty() ? ""
				: purger + " cannot purge " + refused.size() + " tag(s), left out: " + reasons;
		return new Selection(purger, accepted, refused, message);
	}

	/**
	 * Send the requests concurrently.
	 * @param client the client
	 * @param purger the purger's name, for the messages
	 * @param requests the requests
	 * @param check why an answer is a refusal, or {@code null} when it is accepted
	 * @return a future that completes when every request was accepted, exceptionally with a
	 * {@link TagPurgeException} (wrapped in a {@link CompletionException}) when one was not
	 */
	static CompletableFuture<Void> sendAll(HttpClient client, String purger, List<HttpRequest> requests,
			Function<HttpResponse<String>, @Nullable String> check) {
		CompletableFuture<?>[] answers = new CompletableFuture<?>[requests.size()];
		for (int i = 0; i < answers.length; i++) {
			HttpRequest request = requests.get(i);
			answers[i] = client.sendAsync(request, HttpResponse.BodyHandlers.ofString())
				.handle((response, failure) -> accept(purger, request, response, failure, check));
		}
		return CompletableFuture.allOf(answers);
	}

	private static @Nullable Void accept(String purger, HttpRequest request, @Nullable HttpResponse<String> response,
			@Nullable Throwable failure, Function<HttpResponse<String>, @Nullable String> check) {
		if (failure != null || response == null) {
			Throwable cause = (failure instanceof CompletionException && failure.getCause() != null)
					? failure.getCause() : failure;
			throw new TagPurgeException(purger,
					"Purge request " + describe(request) + " to " + purger + " failed: " + describe(cause), cause);
		}
		String refusal = check.apply(response);
		if (refusal != null) {
			throw new TagPurgeException(purger, response.statusCode(),
					"Purge request " + describe(request) + " was refused by " + purger + ": " + refusal);
		}
		return null;
	}

	/**
	 * The usual check: any 2xx status is accepted.
	 * @param response the answer
	 * @return why it is a refusal, or {@code null}
	 */
	static @Nullable String requireSuccessStatus(HttpResponse<String> response) {
		int status = response.statusCode();
		return (status >= 200 && status < 300) ? null : "answered " + status + bodyExcerpt(response.body());
	}

	static String bodyExcerpt(@Nullable String body) {
		if (body == null || body.isBlank()) {
			return "";
		}
		String trimmed = body.strip();
		return " " + ((trimmed.length() <= MAX_BODY_IN_MESSAGE) ? trimmed
				: trimmed.substring(0, MAX_BODY_IN_MESSAGE) + "…");
	}

	private static String describe(HttpRequest request) {
		return request.method() + " " + request.uri();
	}

	private static String describe(@Nullable Throwable failure) {
		if (failure == null) {
			return "no answer";
		}
		String message = failure.getMessage();
		return failure.getClass().getSimpleName() + ((message != null) ? ": " + message : "");
	}

	/**
	 * The tags of one purge, told apart.
	 * @param purger the purger's name
	 * @param accepted the tags to send, deduplicated, in their order
	 * @param refused the tags the cache can never purge
	 * @param refusal why, naming each refused tag and the limit at fault; empty when none is refused
	 */
	record Selection(String purger, List<String> accepted, List<String> refused, String refusal) {

		/**
		 * Complete the purge: as {@code sent} does when no tag was refused; otherwise, once
		 * {@code sent} succeeded, exceptionally with an {@link UnpurgeableTagsException}.
		 * @param sent the requests for the accepted tags
		 * @return the purge
		 */
		CompletableFuture<Void> complete(CompletableFuture<Void> sent) {
			if (this.refused.isEmpty()) {
				return sent;
			}
			return sent.thenCompose((done) -> CompletableFuture
				.failedFuture(new UnpurgeableTagsException(this.purger, this.refused, this.refusal)));
		}

	}

}
