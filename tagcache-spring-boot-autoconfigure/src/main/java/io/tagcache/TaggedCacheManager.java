package io.tagcache;

import org.jspecify.annotations.Nullable;

import org.springframework.cache.CacheManager;

/**
 * A {@link CacheManager} whose caches are {@link TaggedCache tagged} and which can invalidate
 * tags across all of them.
 */
public interface TaggedCacheManager extends CacheManager, TagInvalidator {

	/**
	 * Return the tagged cache of that name, creating it when the manager allows caches to be
	 * created on demand.
	 * @param name the cache name
	 * @return the cache, or {@code null} when it does not exist and cannot be created
	 */
	@Override
	@Nullable TaggedCache getCache(String name);

}
