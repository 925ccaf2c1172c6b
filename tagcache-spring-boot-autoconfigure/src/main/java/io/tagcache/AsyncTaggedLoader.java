package io.tagcache;

import java.util.concurrent.CompletableFuture;

/**
 * Loads the value of a key without blocking, for
 * {@link TaggedCache#retrieve(Object, java.lang.reflect.Type, boolean, AsyncTaggedLoader)}, and says what
 * to store it with. It may be called on a thread of the Redis client: it must not block, and should
 * hand blocking work to an executor of its own.
 * @param <T> the value's type
 */
@FunctionalInterface
public interface AsyncTaggedLoader<T> extends LoadCallbacks {

	/**
	 * Start computing the value.
	 * @return the value, with the tags and time to live to store it with; completing exceptionally
	 * when it cannot be computed (nothing is stored then)
	 */
	CompletableFuture<Loaded<T>> load();

}
