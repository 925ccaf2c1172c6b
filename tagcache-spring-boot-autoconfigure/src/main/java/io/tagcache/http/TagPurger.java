package io.tagcache.http;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Purges tags from an HTTP cache (a CDN, a reverse proxy) in front of the application: the SPI
 * behind {@link TagPurgeQueue}. Implementations: {@link VarnishTagPurger}, {@link FastlyTagPurger},
 * {@link CloudflareTagPurger}.
 *
 * <p>A purge is idempotent: the queue retries a failed purge whole, so an implementation need not
 * remember which of its requests were accepted.
 */
public interface TagPurger {

	/**
	 * A short name for logs and meters: {@code "varnish"}, {@code "fastly"}, {@code "cloudflare"}.
	 * @return the name of this purger
	 */
	String name();

	/**
	 * Purge the tags, splitting them into as many requests as the cache's limits need.
	 * @param tags the tags to purge
	 * @param soft whether to mark the objects stale instead of removing them, where the cache can
	 * @return a future that completes when every request the purge needs was accepted; it completes
	 * exceptionally otherwise: with an {@link UnpurgeableTagsException} when the other tags were
	 * purged but some can never be (the caller should not retry those), with any other exception
	 * (typically a {@link TagPurgeException}) when the purge should be retried whole
	 */
	CompletableFuture<Void> purge(List<String> tags, boolean soft);

}
