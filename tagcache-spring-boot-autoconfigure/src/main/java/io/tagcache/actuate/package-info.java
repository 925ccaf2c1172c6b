/**
 * Spring Boot Actuator support for tagged caches: the {@code tagcache} endpoint
 * ({@link io.tagcache.actuate.TagCacheEndpoint}) to inspect caches and invalidate a tag by hand,
 * and a health indicator ({@link io.tagcache.actuate.TagCacheHealthIndicator}) that reports a
 * Redis outage as {@code DEGRADED} rather than {@code DOWN}. Plain components: the
 * auto-configuration creates them.
 */
@NullMarked
package io.tagcache.actuate;

import org.jspecify.annotations.NullMarked;
