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
 * Purges tags from Varnish through vmod xkey: for each purge URL (one per Varnish), a
 * {@code PURGE} request whose {@code xkey-purge} header lists the tags separated by spaces, or
 * {@code xkey-softpurge} for a soft purge. Any answer other than 2xx is a failure. The VCL must hand
 * the header to {@code xkey.purge()} or {@code xkey.softpurge()} and answer with a synthetic 200; a
 * complete VCL is the sample's ({@code sample-app/varnish/sample.vcl}):
 * <pre class="code">
 * if (req.method == "PURGE") {
 *     if (client.ip !~ purgers) { return (synth(403, "Forbidden")); }
 *     if (req.http.xkey-purge) { set req.http.n-gone = xkey.purge(req.http.xkey-purge); }
 *     else { set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge); }
 *     return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
 * }
 * </pre>
 *
 * <p>Limits: Varnish refuses a request header longer than its {@code http_req_hdr_len} parameter
 * (8k by default, {@code varnishd -x parameter}) with {@code 400 Bad Request}, so the tags are split
 * into as many requests as needed for each header value to stay within {@code maxHeaderBytes}
 * (default {@value #DEFAULT_MAX_HEADER_BYTES}, leaving room for the header name and the request's
 * other headers). A tag that does not fit alone, or that a space-separated header cannot carry
 * (anything but visible ASCII, or a comma, which xkey also splits on), is never sent: the purge
 * completes with an {@link UnpurgeableTagsException} naming it once the other tags were purged, since
 * Varnish would refuse it on every retry. Raise {@code maxHeaderBytes} together with
 * {@code http_req_hdr_len} for longer tags.
 */
public final class VarnishTagPurger implements TagPurger {

	/** The default most bytes of one {@code xkey-purge} header value: under Varnish's default 8k. */
	public static final int DEFAULT_MAX_HEADER_BYTES = 7_000;

	/** The header naming the tags of a purge. */
	public static final String PURGE_HEADER = "xkey-purge";

	/** The header naming the tags of a soft purge. */
	public static final String SOFT_PURGE_HEADER = "xkey-softpurge";

	/** The request method. */
	public static final String PURGE_METHOD = "PURGE";

	private final List<URI> purgeUrls;

	private final HttpClient client;

	private final int maxHeaderBytes;

	/**
	 * Create a purger with its own HTTP client and the default header limit.
	 * @param purgeUrls where to send each purge: one URL per Varnish
	 */
	public VarnishTagPurger(List<URI> purgeUrls) {
		this(purgeUrls, null);
	}

	/**
	 * Create a purger with the default header limit.
	 * @param purgeUrls where to send each purge: one URL per Varnish
	 * @param client the client to send them with, or {@code null} for one of its own
	 */
	public VarnishTagPurger(List<URI> purgeUrls, @Nullable HttpClient client) {
		this(purgeUrls, client, DEFAULT_MAX_HEADER_BYTES);
	}

	/**
	 * Create a purger.
	 * @param purgeUrls where to send each purge: one URL per Varnish
	 * @param client the client to send them with, or {@code null} for one of its own
	 * @param maxHeaderBytes the most bytes of one {@code xkey-purge} header value; keep it under
	 * Varnish's {@code http_req_hdr_len}
	 */
	public VarnishTagPurger(List<URI> purgeUrls, @Nullable HttpClient client, int maxHeaderBytes) {
		Assert.notEmpty(purgeUrls, "At least one Varnish purge URL is needed");
		for (URI url : purgeUrls) {
			Assert.isTrue(url.isAbsolute() && ("http".equals(url.getScheme()) || "https".equals(url.getScheme())),
					() -> "Varnish purge URL '" + url + "' must be an absolute http or https URL");
		}
		Assert.isTrue(maxHeaderBytes > 0,
				() -> "The most bytes of an xkey-purge header must be positive, not " + maxHeaderBytes);
		this.purgeUrls = List.copyOf(purgeUrls);
		this.client = (client != null) ? client : PurgeExchange.defaultClient();
		this.maxHeaderBytes = maxHeaderBytes;
	}

	@Override
	public String name() {
		return "varnish";
	}

	/**
	 * The URLs purges are sent to.
	 * @return one URL per Varnish
	 */
	public List<URI> getPurgeUrls() {
		return this.purgeUrls;
	}

	/**
	 * The most bytes of one header value.
	 * @return the limit a batch of tags stays within
	 */
	public int getMaxHeaderBytes() {
		return this.maxHeaderBytes;
	}

	@Override
	public CompletableFuture<Void> purge(List<String> tags, boolean soft) {
		try {
			PurgeExchange.Selection selection = PurgeExchange.select(name(), tags, this::refusal);
			String header = soft ? SOFT_PURGE_HEADER : PURGE_HEADER;
			List<HttpRequest> requests = new ArrayList<>();
			for (List<String> batch : TagBatches.split(selection.accepted(), TagBatches.UNLIMITED,
					this.maxHeaderBytes)) {
				String value = String.join(" ", batch);
				for (URI url : this.purgeUrls) {
					requests.add(HttpRequest.newBuilder(url)
						.method(PURGE_METHOD, HttpRequest.BodyPublishers.noBody())
						.header(header, value)
						.timeout(PurgeExchange.REQUEST_TIMEOUT)
						.build());
				}
			}
			return selection.complete(PurgeExchange.sendAll(this.client, name(), requests,
					PurgeExchange::requireSuccessStatus));
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	private @Nullable String refusal(String tag) {
		String refusal = PurgeExchange.headerRefusal(tag, ",");
		if (refusal != null) {
			return refusal;
		}
		int length = TagBatches.utf8Length(tag);
		return (length > this.maxHeaderBytes) ? "is " + length + " bytes, longer than the xkey header limit of "
				+ this.maxHeaderBytes + " bytes (raise it together with Varnish's http_req_hdr_len, "
				+ "over which Varnish answers 400)" : null;
	}

}
