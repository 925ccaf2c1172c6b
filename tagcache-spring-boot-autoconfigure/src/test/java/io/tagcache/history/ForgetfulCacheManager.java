package io.tagcache.history;

import java.util.Collection;

import io.tagcache.TaggedCache;
import io.tagcache.TaggedCacheManager;
import org.jspecify.annotations.Nullable;

/**
 * A planted bug: a cache manager that caches as the real one but forgets every invalidation.
 * A history recorded through it must be judged stale, or the checker proves nothing.
 */
final class ForgetfulCacheManager implements TaggedCacheManager {

	private final TaggedCacheManager delegate;

	ForgetfulCacheManager(TaggedCacheManager delegate) {
		this.delegate = delegate;
	}

	@Override
	public @Nullable TaggedCache getCache(String name) {
		return this.delegate.getCache(name);
	}

	@Override
	public Collection<String> getCacheNames() {
		return this.delegate.getCacheNames();
	}

	@Override
	public long invalidate(Collection<String> tags) {
		return 0;
	}

	@Override
	public long softInvalidate(Collection<String> tags) {
		return 0;
	}

}
