/**
 * Purging tags from the HTTP caches in front of the application: the {@link io.tagcache.http.TagPurger}
 * SPI with implementations for Varnish ({@link io.tagcache.http.VarnishTagPurger}, vmod xkey), Fastly
 * ({@link io.tagcache.http.FastlyTagPurger}) and Cloudflare ({@link io.tagcache.http.CloudflareTagPurger}),
 * and {@link io.tagcache.http.TagPurgeQueue}, which sends each invalidation to one purger asynchronously,
 * merged, bounded and retried, so that a CDN never fails or slows an invalidation. Plain JDK HTTP
 * ({@link java.net.http.HttpClient}); no Spring MVC, Micrometer, actuator or Redis here: the
 * auto-configuration creates these components and exposes their counts.
 */
@NullMarked
package io.tagcache.http;

import org.jspecify.annotations.NullMarked;
