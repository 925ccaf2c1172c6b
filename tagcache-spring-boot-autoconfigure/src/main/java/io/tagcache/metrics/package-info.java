/**
 * Micrometer meters for tagged caches: Boot's standard cache meters plus the tag-specific
 * counters ({@link io.tagcache.metrics.TaggedCacheMeterBinderProvider}), the latency of every
 * Redis round trip ({@link io.tagcache.metrics.TagCacheRedisMetrics}) and the manager's outage
 * state ({@link io.tagcache.metrics.TaggedCacheManagerMetrics}). Plain components: the
 * auto-configuration creates and registers them. No meter is ever tagged with a cache key or a
 * tag value, whose number has no bound.
 */
@NullMarked
package io.tagcache.metrics;

import org.jspecify.annotations.NullMarked;
