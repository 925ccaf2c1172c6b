/**
 * The tagged cache on Redis: {@link io.tagcache.redis.RedisTaggedCacheManager} and its caches,
 * over a byte-level writer that owns the Lua scripts.
 */
@NullMarked
package io.tagcache.redis;

import org.jspecify.annotations.NullMarked;
