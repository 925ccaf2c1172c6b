package io.tagcache.autoconfigure;

import io.tagcache.redis.RedisTaggedCacheManager;

/**
 * Adjusts the builder of the auto-configured {@link RedisTaggedCacheManager} after the
 * {@code tagcache.*} properties were applied. Customizers run in {@link org.springframework.core.Ordered order}.
 */
@FunctionalInterface
public interface TaggedCacheManagerCustomizer {

	/**
	 * Customize the builder.
	 * @param builder the builder, with the properties applied
	 */
	void customize(RedisTaggedCacheManager.Builder builder);

}
