package io.tagcache.redis;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import org.jspecify.annotations.Nullable;

/**
 * Byte-level storage of tagged caches: what {@link RedisTaggedCache} asks of Redis, and nothing
 * else. The cache decides what to store (serialization, refusals, single flight, counting, what to
 * do when Redis fails); the writer stores it and keeps each cache slot's entries, tag indexes and
 * fence consistent. Like spring-data-redis's {@code RedisCacheWriter}, it is the seam between the
 * two: {@link RedisTaggedCacheManager#builder(RedisTaggedCacheWriter)} takes one, so that a cache
 * can run on a writer that records or fakes what Redis does.
 *
 * <p>The contract every implementation keeps (the one on Redis keeps it with one Lua script per
 * step, see {@code PROTOCOL.md} beside the scripts):
 * <ul>
 * <li>An entry and its tag-index records are written and removed together; no entry exists that an
 * invalidation of one of its tags does not reach.</li>
 * <li>Every cache slot ({@link CacheKeyspace}) has a generation that only grows. Invalidating a tag,
 * evicting a key and clearing the slot raise it and record it as the fence of the tag, the key or
 * the whole slot ({@code *}); a {@linkplain PutMode#fenced(long) fenced} put whose fence is below any
 * of those records of its tags, its key or the slot is refused.</li>
 * <li>A slot whose fence state was lost is refused every fenced put until a new generation is read:
 * {@link #initFence} creates it above everything handed out before.</li>
 * </ul>
 * Failures are thrown as Spring {@code DataAccessException}s (or complete the futures with them);
 * the cache absorbs them.
 */
public interface RedisTaggedCacheWriter {

	/**
	 * Read an entry: on Redis, one {@code GET}, no script.
	 * @param keyspace the cache slot
	 * @param key the key within the cache
	 * @return the entry, or {@code null} when there is none
	 */
	@Nullable StoredEntry read(CacheKeyspace keyspace, String key);

	/**
	 * Read an entry without blocking; see {@link #read}.
	 * @param keyspace the cache slot
	 * @param key the key within the cache
	 * @return the entry, completing with {@code null} when there is none
	 */
	CompletableFuture<@Nullable StoredEntry> readAsync(CacheKeyspace keyspace, String key);

	/**
	 * Read the slot's generation.
	 * @param keyspace the cache slot
	 * @return the generation, {@code 0} when the slot's fence state does not exist (never used, or
	 * lost): call {@link #initFence} then
	 */
	long readGeneration(CacheKeyspace keyspace);

	/**
	 * Read the slot's generation without blocking; see {@link #readGeneration}.
	 * @param keyspace the cache slot
	 * @return the generation, {@code 0} when the slot's fence state does not exist
	 */
	CompletableFuture<Long> readGenerationAsync(CacheKeyspace keyspace);

	/**
	 * Create the slot's fence state when it is missing, with a generation above every generation
	 * handed out before, which is also the fence of the whole slot; return the generation.
	 * @param keyspace the cache slot
	 * @return the slot's generation
	 */
	long initFence(CacheKeyspace keyspace);

	/**
	 * {@link #initFence} without blocking.
	 * @param keyspace the cache slot
	 * @return the slot's generation
	 */
	CompletableFuture<Long> initFenceAsync(CacheKeyspace keyspace);

	/**
	 * Write an entry and its tag-index records together, replacing the key's previous entry and its
	 * records; checked against the fence first when the mode carries one.
	 * @param keyspace the cache slot
	 * @param key the key within the cache
	 * @param entry what to write
	 * @param mode fenced, absent-only, or neither
	 * @return what the put did
	 */
	PutResult put(CacheKeyspace keyspace, String key, NewEntry entry, PutMode mode);

	/**
	 * {@link #put} without blocking.
	 * @param keyspace the cache slot
	 * @param key the key within the cache
	 * @param entry what to write
	 * @param mode fenced, absent-only, or neither
	 * @return what the put did
	 */
	CompletableFuture<PutResult> putAsync(CacheKeyspace keyspace, String key, NewEntry entry, PutMode mode);

	/**
	 * Take the lease of a key, so that one load (or refresh) of it runs at a time across every
	 * instance; the lease expires on its own after {@code leaseTime}.
	 * @param keyspace the cache slot
	 * @param key the key within the cache
	 * @param token the holder: {@code <fence>:<id>}, the fence its load or refresh read first; a holder
	 * with a newer fence than the current one takes the lease over
	 * @param leaseTime how long the lease lasts unless given back
	 * @param orFreshEntry whether to return the key's entry instead, when it is fresh (neither expired
	 * nor soft-invalidated): a load that finds one need not run
	 * @return whether the lease was taken, or the fresh entry, or how long another holds it
	 */
	CompletableFuture<LeaseResult> leaseAsync(CacheKeyspace keyspace, String key, String token, Duration leaseTime,
			boolean orFreshEntry);

	/**
	 * Give a lease back, if it is still the holder's.
	 * @param keyspace the cache slot
	 * @param key the key within the cache
	 * @param token the holder's token
	 * @return completes when given back
	 */
	CompletableFuture<Void> releaseLeaseAsync(CacheKeyspace keyspace, String key, String token);

	/**
	 * Remove an entry with its records, and fence its key.
	 * @param keyspace the cache slot
	 * @param key the key within the cache
	 * @return whether an entry was removed
	 */
	boolean evict(CacheKeyspace keyspace, String key);

	/**
	 * Remove entries and fence their keys, each in its own slot (a replay of queued evictions).
	 * @param keyspaces the slot of each key
	 * @param keys the keys, in the order of {@code keyspaces}
	 */
	void evictAll(List<CacheKeyspace> keyspaces, List<String> keys);

	/**
	 * Invalidate tags in each slot: remove every entry that carries one of them with its records, and
	 * fence the tags. With a hold, the fence records are raised {@code hold} ahead, so that no write
	 * carrying one of the tags is stored until an invalidation of them without hold, or until the
	 * hold ends (an invalidation inside a transaction holds its tags until the transaction completes).
	 * @param keyspaces the slots, typically every slot of every cache of a key prefix
	 * @param tags the tags
	 * @param hold how long the tags stay held, {@link Duration#ZERO} for none
	 * @return the number of entries removed in each slot, in the order of {@code keyspaces}
	 */
	long[] invalidate(List<CacheKeyspace> keyspaces, Collection<String> tags, Duration hold);

	/**
	 * Soft-invalidate tags in each slot: every entry that carries one of them stays, marked stale at
	 * the time of the Redis server ({@link StoredEntry#softInvalidatedAt()}) and kept at most
	 * {@code keptFor} longer, and the tags are fenced as by {@link #invalidate}. An entry marked
	 * already keeps its first mark. A later invalidation of the tags removes the entries at once.
	 * @param keyspaces the slots
	 * @param tags the tags
	 * @param keptFor how long a marked entry of each slot stays in Redis at most (the longer of its
	 * cache's stale-while-revalidate and stale-if-error), in the order of {@code keyspaces}
	 * @param hold how long the tags stay held, {@link Duration#ZERO} for none
	 * @return the number of entries marked in each slot, in the order of {@code keyspaces}
	 */
	long[] softInvalidate(List<CacheKeyspace> keyspaces, Collection<String> tags, List<Duration> keptFor,
			Duration hold);

	/**
	 * Fence the whole slot, then remove every entry of it with its records.
	 * @param keyspace the cache slot
	 * @return the number of entries removed
	 */
	long clear(CacheKeyspace keyspace);

	/**
	 * Fence the whole slot, then remove the entries whose key matches a glob, with their records; as
	 * {@link #clear}, no value loaded before it is stored after it.
	 * @param keyspace the cache slot
	 * @param keyPattern a Redis glob over the keys within the cache
	 * @return the number of entries removed
	 */
	long evictByPattern(CacheKeyspace keyspace, String keyPattern);

	/**
	 * Count the slot's entries; a diagnostic that may walk the whole keyspace.
	 * @param keyspace the cache slot
	 * @return the number of entries
	 */
	long countEntries(CacheKeyspace keyspace);

	/**
	 * Count the slot's tags that have at least one entry; a diagnostic that may walk the keyspace.
	 * @param keyspace the cache slot
	 * @return the number of tags
	 */
	long countTags(CacheKeyspace keyspace);

	/**
	 * Count the live (not expired) entries of the slot that carry the tag.
	 * @param keyspace the cache slot
	 * @param tag the tag
	 * @return the number of entries
	 */
	long countTagged(CacheKeyspace keyspace, String tag);

	/**
	 * Record a cache and its number of shards in the registry of its key prefix, so that
	 * invalidations by every instance reach it; the registry keeps the largest number of shards
	 * registered.
	 * @param keyPrefix the key prefix
	 * @param cacheName the cache's name
	 * @param shards its number of shards
	 * @return the number of shards registered before, {@code 0} when the cache was not registered
	 */
	int register(String keyPrefix, String cacheName, int shards);

	/**
	 * {@link #register} without blocking.
	 * @param keyPrefix the key prefix
	 * @param cacheName the cache's name
	 * @param shards its number of shards
	 * @return the number of shards registered before
	 */
	CompletableFuture<Integer> registerAsync(String keyPrefix, String cacheName, int shards);

	/**
	 * Every cache registered with the key prefix and its number of shards; a registry that was lost
	 * is rebuilt from the slots in use first.
	 * @param keyPrefix the key prefix
	 * @return the caches by name
	 */
	Map<String, Integer> registeredCaches(String keyPrefix);

	/**
	 * Finish the removals of large invalidations that an instance began and never finished (it
	 * stopped): those begun longer ago than {@code age}.
	 * @param keyspaces the slots to look in
	 * @param age how old an unfinished removal must be to count as abandoned
	 * @return the number of entries removed
	 */
	long finishAbandonedDrains(List<CacheKeyspace> keyspaces, Duration age);

	/**
	 * Prepare the store so that the first writes do not pay for it (on Redis, load the scripts on
	 * every node).
	 * @return completes when prepared
	 */
	default CompletableFuture<Void> prepare() {
		return CompletableFuture.completedFuture(null);
	}

	/**
	 * The eviction policy of every node, so that a policy that may evict a tag index before its
	 * entries is reported at start-up.
	 * @return the policies, one per node answering ({@code maxmemory-policy} on Redis)
	 */
	default CompletableFuture<List<String>> evictionPolicies() {
		return CompletableFuture.completedFuture(List.of());
	}

	/**
	 * Check that the store answers, for health checks.
	 * @return the store's answer ({@code PONG} on Redis)
	 */
	default String ping() {
		return "PONG";
	}

	/**
	 * Release what the writer holds (its own connection, if any) when the manager stops.
	 */
	default void close() {
	}

	/**
	 * The writer's clock, which entries' expiry and staleness are measured with.
	 * @return the current time, epoch milliseconds
	 */
	default long currentTimeMillis() {
		return System.currentTimeMillis();
	}

	/**
	 * What a put writes.
	 * @param value the serialized value, empty for {@code null}
	 * @param typeHint the value's type hint, {@code ""} for {@code null}
	 * @param tags the entry's tags, valid per {@code TagRules}
	 * @param timeToLive the entry's time to live, {@link Duration#ZERO} for none
	 * @param keptAfterExpiry how long the entry stays stored after it expired, to be served when a
	 * reload fails (stale-if-error); invalidations reach it all that time
	 * @param loadTime how long the value took to load, recorded for early refresh
	 */
	record NewEntry(byte[] value, String typeHint, Collection<String> tags, Duration timeToLive,
			Duration keptAfterExpiry, Duration loadTime) {

		/**
		 * An entry kept no longer than its time to live, whose load took no time.
		 * @param value the serialized value
		 * @param typeHint the value's type hint
		 * @param tags the entry's tags
		 * @param timeToLive the entry's time to live
		 * @return the entry
		 */
		public static NewEntry of(byte[] value, String typeHint, Collection<String> tags, Duration timeToLive) {
			return new NewEntry(value, typeHint, tags, timeToLive, Duration.ZERO, Duration.ZERO);
		}

		/**
		 * How long the entry is stored: its time to live and the time it is kept after it.
		 * @return {@link Duration#ZERO} for an entry that never expires
		 */
		public Duration storedFor() {
			return this.timeToLive.isZero() ? Duration.ZERO : this.timeToLive.plus(this.keptAfterExpiry);
		}

		/**
		 * Encode the entry as stored, expiring {@code timeToLive} after {@code now}.
		 * @param now the writer's clock, epoch milliseconds
		 * @return the stored string
		 */
		public byte[] encode(long now) {
			return StoredEntry.encode(this.value, this.typeHint,
					this.timeToLive.isZero() ? 0 : now + Math.max(1, this.timeToLive.toMillis()),
					this.loadTime.toMillis(), this.tags);
		}

	}

	/**
	 * What taking a lease found.
	 * @param acquired whether the lease was taken
	 * @param entry the fresh entry found instead, when asked for
	 * @param heldFor how much longer another holder's lease lasts
	 */
	record LeaseResult(boolean acquired, @Nullable StoredEntry entry, Duration heldFor) {

	}

	/**
	 * How a put treats concurrent invalidations and existing entries.
	 * @param fence the fence read before the value's data was read, or {@code null} for an
	 * unfenced put
	 * @param onlyIfAbsent whether to write only when the key has no entry
	 */
	record PutMode(@Nullable Long fence, boolean onlyIfAbsent) {

		/** Write whatever was invalidated, replacing any entry. */
		public static final PutMode ALWAYS = new PutMode(null, false);

		/** Write only when the key has no entry. */
		public static final PutMode IF_ABSENT = new PutMode(null, true);

		/**
		 * Write unless the key, one of the tags or the whole slot was invalidated after the fence.
		 * @param fence the slot's generation read before the value's data was read
		 * @return the mode
		 */
		public static PutMode fenced(long fence) {
			return new PutMode(fence, false);
		}

	}

	/**
	 * What a put did.
	 * @param written whether the entry was written
	 * @param existing the entry found by an absent-only put that wrote nothing
	 * @param fenceCreated whether the slot's fence state was missing (lost, or never created) and
	 * this put created it: the cache registers itself again
	 */
	record PutResult(boolean written, @Nullable StoredEntry existing, boolean fenceCreated) {

	}

}
