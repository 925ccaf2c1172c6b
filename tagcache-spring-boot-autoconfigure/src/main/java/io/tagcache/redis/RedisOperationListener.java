package io.tagcache.redis;

/**
 * Told about every Redis round trip of a {@link RedisTaggedCacheManager}, for latency metrics.
 * Called on the thread that completes the operation (possibly a Lettuce I/O thread): it must be
 * fast and must not block.
 */
@FunctionalInterface
public interface RedisOperationListener {

	/**
	 * Called when a Redis operation completed.
	 * @param operation one of {@code get}, {@code fence}, {@code put}, {@code evict},
	 * {@code invalidate}, {@code drain}, {@code clear}, {@code scan}, {@code registry},
	 * {@code count}, {@code ping}, {@code load}, {@code lease}
	 * @param durationNanos how long it took, from sending to the reply
	 * @param failed whether it failed
	 */
	void onOperation(String operation, long durationNanos, boolean failed);

}
