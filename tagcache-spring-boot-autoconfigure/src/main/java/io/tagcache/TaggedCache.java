package io.tagcache;

import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Collection;
import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;

import org.springframework.cache.Cache;

/**
 * A {@link Cache} whose entries carry tags: the identities of everything an entry contains
 * ({@code user-1}, {@code loc-1}). Invalidating a tag removes every entry that carries it, whatever
 * its key.
 *
 * <h2>Fenced writes</h2>
 * A value computed from data read before an invalidation must not be stored after that
 * invalidation (the stale-set race). Callers that load values themselves use the fence protocol:
 * <ol>
 * <li>{@link #readFence(Object) readFence(key)} <em>before</em> reading the source data;</li>
 * <li>compute the value;</li>
 * <li>{@link #putFenced putFenced(key, value, tags, ttl, fence)}, which stores nothing when any of the
 * tags, the key, or the whole cache was invalidated after the fence was read.</li>
 * </ol>
 * {@link #get(Object, java.util.concurrent.Callable)} and the annotation support follow it.
 *
 * <h2>Loads</h2>
 * {@link #get(Object, Type, boolean, TaggedLoader)} and its non-blocking twin
 * {@link #retrieve(Object, Type, boolean, AsyncTaggedLoader)} are the cache's one load path, used by
 * {@code Cache.get(key, Callable)}, {@code Cache.retrieve(key, Supplier)} and the annotations alike: a
 * hit returns the stored value; a miss reads the fence, calls the loader and stores what it returns
 * with the tags and time to live it names, fenced. With {@code sync}, concurrent loads of a key share
 * one loader call.
 */
public interface TaggedCache extends Cache {

	/**
	 * The fence value that stands for "the fence could not be read"; a fenced put with it stores
	 * nothing, because it cannot prove its value is fresh.
	 */
	long UNKNOWN_FENCE = -1;

	/**
	 * Associate the value with the key and replace the entry's previous tags with the given ones.
	 * The value and every tag-index record are written together (atomically), immediately.
	 * @param key the key
	 * @param value the value, {@code null} only if the cache allows null values
	 * @param tags the entry's tags; each must be non-blank and at most 1 KiB
	 * @throws IllegalArgumentException for a {@code null} value in a cache that does not store
	 * nulls, an invalid tag, or a value that cannot be serialized (nothing is written then)
	 */
	void put(Object key, @Nullable Object value, Collection<String> tags);

	/**
	 * Remove every entry of this cache that carries at least one of the tags; other caches are not
	 * touched. Atomic up to the inline bound; see {@link TagInvalidator}.
	 * @param tags the tags to invalidate
	 * @return the number of entries removed
	 */
	long invalidateTags(Collection<String> tags);

	/**
	 * Remove the entries of this cache whose key matches a Redis glob ({@code "session:*"},
	 * {@code "user-?"}), as spring-data-redis's {@code RedisCache.clear(String)}: with {@code SCAN}, on
	 * every node of a cluster, never {@code KEYS}; each batch is removed with its tag-index records.
	 * Loads of this cache in flight are refused as after {@link #clear()}. The keys are the cache's own
	 * (what the key generator or the key expression produced), not Redis key names.
	 * @param keyPattern a Redis glob over the cache's keys; non-blank
	 * @return the number of entries removed
	 * @throws IllegalArgumentException for a blank pattern
	 */
	long evictByPattern(String keyPattern);

	/**
	 * Mark every entry of this cache that carries at least one of the tags stale, rather than remove
	 * it; see {@link TagInvalidator#softInvalidate(Collection)}. Other caches are not touched.
	 * @param tags the tags to soft-invalidate
	 * @return the number of entries marked
	 */
	long softInvalidateTags(Collection<String> tags);

	/**
	 * Read the invalidation fence that covers the key: a generation that later invalidations of
	 * this cache (of the key's shard, for a cache spread over several hash slots) exceed. Costs one
	 * Redis round trip; call it on a miss, before loading the value.
	 * @param key the key the loaded value will be stored under
	 * @return the fence, or {@link #UNKNOWN_FENCE} when Redis could not be reached
	 */
	long readFence(Object key);

	/**
	 * Store the entry unless one of its tags, its key, or the whole cache was invalidated after
	 * {@code fence} was read. The check and the write are one atomic script.
	 * @param key the key
	 * @param value the value, {@code null} only if the cache allows null values
	 * @param tags the entry's tags
	 * @param timeToLive the entry's time to live, or {@code null} for the cache's default
	 * @param fence the value {@link #readFence(Object)} returned for the key before the value's data
	 * was read
	 * @return whether the entry was stored
	 */
	boolean putFenced(Object key, @Nullable Object value, Collection<String> tags, @Nullable Duration timeToLive,
			long fence);

	/**
	 * Look an entry up and read its value as the given (possibly generic) type, rather than as the
	 * type recorded when it was written.
	 * @param key the key
	 * @param valueType the type to read the value as, such as a method's generic return type
	 * @return the wrapped value, or {@code null} on a miss
	 */
	@Nullable ValueWrapper lookup(Object key, Type valueType);

	/**
	 * Look the key up and, on a miss, load it with the loader on the caller's thread and store what it
	 * returns, fenced (a value whose tags, key or cache were invalidated while it loaded is returned
	 * but not stored).
	 * @param <T> the value's type
	 * @param key the key
	 * @param valueType the type to read a stored value as, {@code null} for the type it was written as
	 * (allow-listed)
	 * @param sync whether concurrent loads of the key share one loader call
	 * @param loader computes the value and names its tags
	 * @return the stored or loaded value
	 * @throws ValueRetrievalException when the loader throws (its exception is the cause)
	 */
	<T> @Nullable T get(Object key, @Nullable Type valueType, boolean sync, TaggedLoader<T> loader);

	/**
	 * {@link #get(Object, Type, boolean, TaggedLoader)} without blocking: Redis is reached
	 * asynchronously and the loader's future is stored when it completes.
	 * @param <T> the value's type
	 * @param key the key
	 * @param valueType the type to read a stored value as, {@code null} for the type it was written as
	 * @param sync whether concurrent loads of the key share one loader call
	 * @param loader starts computing the value and names its tags
	 * @return the stored or loaded value
	 */
	<T> CompletableFuture<@Nullable T> retrieve(Object key, @Nullable Type valueType, boolean sync,
			AsyncTaggedLoader<T> loader);

	/**
	 * {@link #readFence(Object)} without blocking.
	 * @param key the key the loaded value will be stored under
	 * @return the fence, or {@link #UNKNOWN_FENCE} when Redis could not be reached
	 */
	CompletableFuture<Long> readFenceAsync(Object key);

	/**
	 * {@link #putFenced} without blocking.
	 * @param key the key
	 * @param value the value, {@code null} only if the cache allows null values
	 * @param tags the entry's tags
	 * @param timeToLive the entry's time to live, or {@code null} for the cache's default
	 * @param fence the fence read for the key before the value's data was read
	 * @return whether the entry was stored
	 * @throws ValueRefusedException (at once, not through the future) for a value the cache refuses
	 */
	CompletableFuture<Boolean> putFencedAsync(Object key, @Nullable Object value, Collection<String> tags,
			@Nullable Duration timeToLive, long fence);

	/**
	 * Look an entry up without blocking, reading its value as the given type.
	 * @param key the key
	 * @param valueType the type to read the value as
	 * @return a future of the wrapped value, completing with {@code null} on a miss
	 */
	CompletableFuture<@Nullable ValueWrapper> lookupAsync(Object key, Type valueType);

	/**
	 * Return this instance's counters for the cache.
	 * @return the statistics
	 */
	TaggedCacheStatistics getStatistics();

}
