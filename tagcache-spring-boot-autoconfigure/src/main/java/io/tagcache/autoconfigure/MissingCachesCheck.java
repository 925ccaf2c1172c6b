package io.tagcache.autoconfigure;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.tagcache.TagCacheConfigurationException;
import io.tagcache.TaggedCacheManager;
import io.tagcache.interceptor.TagCacheOperationSource;

import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * With {@code tagcache.create-missing-caches=false}, fails start-up when a {@code @CacheableTagged}
 * method names a cache the configuration does not provide, instead of its first call. Runs once
 * every singleton exists, when every annotated bean has been proxied and its annotations parsed.
 */
final class MissingCachesCheck implements SmartInitializingSingleton {

	private final TagCacheOperationSource operationSource;

	private final Supplier<TaggedCacheManager> cacheManager;

	MissingCachesCheck(TagCacheOperationSource operationSource, Supplier<TaggedCacheManager> cacheManager) {
		this.operationSource = operationSource;
		this.cacheManager = cacheManager;
	}

	@Override
	public void afterSingletonsInstantiated() {
		Map<String, List<String>> cacheNamesByMethod = this.operationSource.getCacheNamesByMethod();
		if (cacheNamesByMethod.isEmpty()) {
			return;
		}
		TaggedCacheManager manager = this.cacheManager.get();
		cacheNamesByMethod.forEach((method, cacheNames) -> {
			for (String name : cacheNames) {
				if (manager.getCache(name) == null) {
					throw new TagCacheConfigurationException("@CacheableTagged on " + method + " names the cache '"
							+ name + "', which is not configured, and tagcache.create-missing-caches is false",
							"Configure the cache (tagcache.caches." + name + ".time-to-live=...), or set "
									+ "tagcache.create-missing-caches=true");
				}
			}
		});
	}

}
