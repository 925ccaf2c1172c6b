package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.Function;

import io.lettuce.core.Range;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * The {@link RedisTaggedCacheWriter} on Lettuce: the only class that sends commands to Redis (the
 * subscriptions of near caches are {@link InvalidationChannel}'s) and the owner of the Lua scripts.
 *
 * <p>Design: a hit is one plain {@code GET} of the entry string (a header line with the type hint
 * and tags, then the value; see {@link StoredEntry}), no script, so it costs Redis what any cache
 * read costs. Everything that must stay consistent runs as one script on the cache's hash slot: a
 * put writes the value, its tag list and every tag-index record, and checks the fence (a put with
 * many tags writes its records in chunks first, and its last script checks they are all there
 * before it writes the entry); an invalidation removes entries, their index records and the tag
 * index, and raises the fence.
 * Scripts run with {@code EVALSHA}; Lettuce does not recover from {@code NOSCRIPT} (after a
 * restart or {@code SCRIPT FLUSH}), so each call falls back once to {@code EVAL} with the source,
 * routed by the same key to the node that answered, which also caches the script there again.
 *
 * <p>Its parts, each a class of its own: {@link RedisCommandRunner} runs the commands on one
 * connection (timeouts, {@code NOSCRIPT}, the listener), {@link RedisErrors} turns failures into
 * Spring {@link DataAccessException}s ({@link RedisTaggedCache} decides which to absorb),
 * {@link StoredEntry} is the entry's encoding, {@link CacheRegistry} the registry of a prefix, and
 * {@code PROTOCOL.md} beside the scripts what Java and Lua agree on. Scripts for several caches are
 * issued before any reply is awaited, so a cross-cache invalidation costs one round trip, not one
 * per cache.
 */
final class DefaultRedisTaggedCacheWriter implements RedisTaggedCacheWriter {

	private static final byte[] EMPTY = new byte[0];

	private static final byte[] ONE = CacheKeyspace.bytes("1");

	/**
	 * Most tags a put writes in one script; a put with more is split (see {@link #chunkedPutAsync}). A
	 * tag costs a put about four Redis calls, about 10 us on 2 loaded cores (BENCHMARKS.md, "Puts with
	 * many tags"), so a chunk holds Redis for about 1-2 ms, near the bound every script stays in.
	 */
	static final int TAGS_PER_SCRIPT = 128;

	/** How often a put with many tags is sent again when records went missing before its last step. */
	static final int CHUNKED_PUT_ATTEMPTS = 3;

	/** How long the entries of an abandoned soft invalidation stay marked at most (the default stale-while-revalidate). */
	private static final Duration ABANDONED_SOFT_KEPT_FOR = Duration.ofMinutes(1);

	/** Most entries one drain call removes, whatever its time budget. */
	private static final int DRAIN_CHUNK_LIMIT = 2000;

	private final RedisCommandRunner redis;

	private final CacheRegistry registry;

	private final Duration fenceRetention;

	private final int inlineInvalidationLimit;

	private final long drainBudgetMicros;


	/** Test seam: runs after the chunks of a put with many tags were sent, before its last step. */
	private volatile Runnable beforePutCheck = () -> {
	};

	DefaultRedisTaggedCacheWriter(LettuceConnectionFactory connectionFactory, Duration fenceRetention,
			int inlineInvalidationLimit, Duration drainBudget, RedisOperationListener listener) {
		this.redis = new RedisCommandRunner(connectionFactory, listener);
		this.registry = new CacheRegistry(this.redis);
		this.fenceRetention = fenceRetention;
		this.inlineInvalidationLimit = inlineInvalidationLimit;
		this.drainBudgetMicros = Math.max(1, drainBudget.toNanos() / 1000);
	}

	@Override
	public int register(String keyPrefix, String cacheName, int shards) {
		return this.registry.register(keyPrefix, cacheName, shards);
	}

	@Override
	public CompletableFuture<Integer> registerAsync(String keyPrefix, String cacheName, int shards) {
		return this.registry.registerAsync(keyPrefix, cacheName, shards);
	}

	@Override
	public Map<String, Integer> registeredCaches(String keyPrefix) {
		return this.registry.registeredCaches(keyPrefix);
	}

	/** Read an entry: one {@code GET}, no script. */
	@Override
	public @Nullable StoredEntry read(CacheKeyspace keyspace, String key) {
		return execute("get", commands -> readAsync(commands, keyspace, key));
	}

	/** Read an entry without blocking. */
	@Override
	public CompletableFuture<@Nullable StoredEntry> readAsync(CacheKeyspace keyspace, String key) {
		return executeAsync("get", commands -> readAsync(commands, keyspace, key));
	}

	private CompletableFuture<@Nullable StoredEntry> readAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			CacheKeyspace keyspace, String key) {
		return commands.get(keyspace.entryKey(key))
			.toCompletableFuture()
			.thenApply(DefaultRedisTaggedCacheWriter::decode);
	}

	/**
	 * An entry as read. One written by an earlier version of tagcache (without the fixed-width fields)
	 * is a miss, which the next put overwrites; a string that is no entry at all (something else
	 * writes under the prefix) fails the read, see {@link StoredEntry#decode}.
	 */
	private static @Nullable StoredEntry decode(byte @Nullable [] stored) {
		return (stored != null && !StoredEntry.isEarlierFormat(stored)) ? StoredEntry.decode(stored) : null;
	}

	/** Read the cache's generation, {@code 0} when it was never invalidated. */
	@Override
	public long readGeneration(CacheKeyspace keyspace) {
		return execute("fence", commands -> commands.get(keyspace.generationKey())
			.toCompletableFuture()
			.thenApply(DefaultRedisTaggedCacheWriter::toGeneration));
	}

	/**
	 * Write an entry with its tags in one script: the value, its tag list and every index record
	 * together, after the fence check when the mode carries a fence.
	 */
	@Override
	public PutResult put(CacheKeyspace keyspace, String key, NewEntry entry, PutMode mode) {
		return execute("put", commands -> putAsync(commands, keyspace, key, entry, mode));
	}

	/** Write an entry with its tags without blocking; see {@link #put}. */
	@Override
	public CompletableFuture<PutResult> putAsync(CacheKeyspace keyspace, String key, NewEntry entry, PutMode mode) {
		return executeAsync("put", commands -> putAsync(commands, keyspace, key, entry, mode));
	}

	private CompletableFuture<PutResult> putAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			CacheKeyspace keyspace, String key, NewEntry entry, PutMode mode) {
		Collection<String> tags = entry.tags();
		if (tags.size() > TAGS_PER_SCRIPT && !entry.timeToLive().isZero() && !mode.onlyIfAbsent()) {
			return chunkedPutAsync(commands, keyspace, key, entry, List.copyOf(tags), mode, 1, false);
		}
		byte[][] keys = new byte[3 + tags.size()][];
		keys[0] = keyspace.entryKey(key);
		keys[1] = keyspace.fenceKey();
		keys[2] = keyspace.generationKey();
		byte[][] args = new byte[6 + tags.size()][];
		args[0] = keyspace.baseBytes();
		args[1] = CacheKeyspace.bytes(key);
		args[2] = entry.encode(currentTimeMillis());
		args[3] = ttlMillis(entry.storedFor());
		args[4] = fence(mode);
		args[5] = mode.onlyIfAbsent() ? ONE : EMPTY;
		int i = 0;
		for (String tag : tags) {
			keys[3 + i] = keyspace.indexKey(tag);
			args[6 + i] = CacheKeyspace.bytes(tag);
			i++;
		}
		return this.<List<Object>>script(commands, TagCacheScript.PUT, ScriptOutputType.MULTI, keys, args)
			.thenApply(DefaultRedisTaggedCacheWriter::toPutResult);
	}

	/**
	 * A put with more tags than one script should write: {@code put-records.lua} checks the fence and
	 * writes the key's index records, {@value #TAGS_PER_SCRIPT} tags per script, then
	 * {@code put-checked.lua} writes the entry. Every script is sent before any reply is awaited (one
	 * round trip); Redis runs them in order, other clients' commands in between. Every script's work is
	 * bounded, whatever the number of tags: the last one does not look at the records again, it checks in
	 * O(1) that nothing could have removed one or raised a fence since the first chunk. The first chunk
	 * opens a marker of the put in Redis (this attempt's token, the slot's generation, the expiry every
	 * record and the entry get), each chunk adds the records it wrote. Everything that raises a fence
	 * (invalidation, eviction, clear) raises the generation too; the scripts that remove a record of the
	 * key, or score one earlier, without raising it (another put of the key, which unlinks the tags its
	 * entry no longer carries; a drain or clear() removing the entry) delete the marker. So the last
	 * step writes only when the marker is still this attempt's, counts every record and holds the
	 * current generation. Otherwise nothing was written and the whole put is sent again, up to
	 * {@value #CHUNKED_PUT_ATTEMPTS} times in all, then refused (counted as a refused put): an
	 * invalidation of an unrelated tag of the slot also costs a retry, the price of not looking at every
	 * record (the old last step looked, with one {@code ZINTERSTORE} of every index, about 1.2 us per tag:
	 * 12 ms at 10,000 tags). A chunk that fails (an error, {@code NOSCRIPT}) leaves the count short, so
	 * the last step refuses too. Entries without TTL, whose records could never expire if the put were
	 * refused, and absent-only puts always use {@code put.lua}.
	 */
	private CompletableFuture<PutResult> chunkedPutAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			CacheKeyspace keyspace, String key, NewEntry entry, List<String> tags, PutMode mode, int attempt,
			boolean fenceCreated) {
		byte[] keyBytes = CacheKeyspace.bytes(key);
		byte[] ttl = ttlMillis(entry.storedFor());
		byte[] marker = keyspace.pendingPutKey(key);
		byte[] token = CacheKeyspace.bytes(UUID.randomUUID().toString());
		List<CompletableFuture<List<Object>>> chunks = new ArrayList<>();
		for (int from = 0; from < tags.size(); from += TAGS_PER_SCRIPT) {
			int to = Math.min(from + TAGS_PER_SCRIPT, tags.size());
			byte[][] keys = new byte[3 + to - from][];
			keys[0] = marker;
			keys[1] = keyspace.fenceKey();
			keys[2] = keyspace.generationKey();
			byte[][] args = new byte[5 + to - from][];
			args[0] = keyBytes;
			args[1] = ttl;
			args[2] = fence(mode);
			args[3] = token;
			args[4] = (from == 0) ? ONE : EMPTY;
			for (int i = from; i < to; i++) {
				keys[3 + i - from] = keyspace.indexKey(tags.get(i));
				args[5 + i - from] = CacheKeyspace.bytes(tags.get(i));
			}
			chunks.add(script(commands, TagCacheScript.PUT_RECORDS, ScriptOutputType.MULTI, keys, args));
		}
		this.beforePutCheck.run();
		byte[][] keys = { keyspace.entryKey(key), keyspace.fenceKey(), keyspace.generationKey(), marker };
		byte[][] args = { keyspace.baseBytes(), keyBytes, entry.encode(currentTimeMillis()), token,
				number(tags.size()) };
		CompletableFuture<List<Object>> checked = script(commands, TagCacheScript.PUT_CHECKED, ScriptOutputType.MULTI,
				keys, args);
		return checked.thenCompose(reply -> {
			// A chunk that created the fence state also refused or cut this attempt short: report it all the same.
			boolean created = fenceCreated || (Long) reply.get(1) == 1L || chunks.stream()
				.anyMatch(chunk -> chunk.isDone() && !chunk.isCompletedExceptionally() && (Long) chunk.join().get(1) == 1L);
			boolean incomplete = (Long) reply.get(0) == 3L;
			if (incomplete && attempt < CHUNKED_PUT_ATTEMPTS) {
				return chunkedPutAsync(commands, keyspace, key, entry, tags, mode, attempt + 1, created);
			}
			return CompletableFuture.completedFuture(new PutResult((Long) reply.get(0) == 1L, null, created));
		});
	}

	/** Test seam: run the action after the chunks of every put with many tags were sent. */
	void beforePutCheck(Runnable action) {
		this.beforePutCheck = action;
	}

	private static byte[] ttlMillis(Duration timeToLive) {
		return number(timeToLive.isZero() ? 0 : Math.max(1, timeToLive.toMillis()));
	}

	private static byte[] fence(PutMode mode) {
		return (mode.fence() != null) ? number(mode.fence()) : EMPTY;
	}

	private static PutResult toPutResult(List<Object> reply) {
		long status = (Long) reply.get(0);
		boolean created = (Long) reply.get(1) == 1L;
		if (status == 2) {
			return new PutResult(false, StoredEntry.decode((byte[]) reply.get(2)), created);
		}
		return new PutResult(status == 1, null, created);
	}

	/** Read the cache's generation without blocking; see {@link #readGeneration}. */
	@Override
	public CompletableFuture<Long> readGenerationAsync(CacheKeyspace keyspace) {
		return executeAsync("fence", commands -> commands.get(keyspace.generationKey())
			.toCompletableFuture()
			.thenApply(DefaultRedisTaggedCacheWriter::toGeneration));
	}

	/**
	 * Create the fence state of a cache slot when it is missing (the generation was not found: the
	 * slot was never used, or lost its data) and return the generation; see {@code ensure_fence} in
	 * {@code lib.lua}.
	 */
	@Override
	public long initFence(CacheKeyspace keyspace) {
		return execute("fence", commands -> initFenceAsync(commands, keyspace));
	}

	/** {@link #initFence} without blocking. */
	@Override
	public CompletableFuture<Long> initFenceAsync(CacheKeyspace keyspace) {
		return executeAsync("fence", commands -> initFenceAsync(commands, keyspace));
	}

	private CompletableFuture<Long> initFenceAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			CacheKeyspace keyspace) {
		byte[][] keys = { keyspace.generationKey(), keyspace.fenceKey() };
		return this.<List<Object>>script(commands, TagCacheScript.INIT_FENCE, ScriptOutputType.MULTI, keys,
				new byte[0][])
			.thenApply(reply -> toGeneration((byte[]) reply.get(0)));
	}

	private static long toGeneration(byte @Nullable [] generation) {
		return (generation != null) ? Long.parseLong(new String(generation, StandardCharsets.US_ASCII)) : 0;
	}

	/** Remove an entry and fence its key; returns whether it existed. */
	@Override
	public CompletableFuture<LeaseResult> leaseAsync(CacheKeyspace keyspace, String key, String token,
			Duration leaseTime, boolean orFreshEntry) {
		byte[][] keys = { keyspace.entryKey(key), keyspace.leaseKey(key) };
		byte[][] args = { CacheKeyspace.bytes(token), ttlMillis(leaseTime), orFreshEntry ? ONE : EMPTY };
		return this.<List<Object>>executeAsync("lease",
				commands -> script(commands, TagCacheScript.LEASE, ScriptOutputType.MULTI, keys, args))
			.thenApply(reply -> switch (((Long) reply.get(0)).intValue()) {
				case 1 -> new LeaseResult(true, null, Duration.ZERO);
				case 2 -> new LeaseResult(false, StoredEntry.decode((byte[]) reply.get(1)), Duration.ZERO);
				default -> new LeaseResult(false, null, Duration.ofMillis(Math.max(0, (Long) reply.get(1))));
			});
	}

	@Override
	public CompletableFuture<Void> releaseLeaseAsync(CacheKeyspace keyspace, String key, String token) {
		return this.<Long>executeAsync("lease", commands -> script(commands, TagCacheScript.RELEASE_LEASE,
				ScriptOutputType.INTEGER, new byte[][] { keyspace.leaseKey(key) },
				new byte[][] { CacheKeyspace.bytes(token) }))
			.thenApply(released -> null);
	}

	@Override
	public boolean evict(CacheKeyspace keyspace, String key) {
		byte[][] keys = { keyspace.entryKey(key), keyspace.generationKey(), keyspace.fenceKey() };
		byte[][] args = { keyspace.baseBytes(), CacheKeyspace.bytes(key), retentionMicros() };
		Long removed = execute("evict", commands -> script(commands, TagCacheScript.EVICT, ScriptOutputType.INTEGER, keys, args));
		return removed == 1L;
	}

	/**
	 * Remove entries and fence their keys, one script per key, all issued before any reply is
	 * awaited (for a replay of queued evictions).
	 */
	@Override
	public void evictAll(List<CacheKeyspace> keyspaces, List<String> keys) {
		execute("evict", commands -> {
			List<CompletableFuture<Long>> futures = new ArrayList<>(keys.size());
			for (int i = 0; i < keys.size(); i++) {
				CacheKeyspace keyspace = keyspaces.get(i);
				byte[][] scriptKeys = { keyspace.entryKey(keys.get(i)), keyspace.generationKey(), keyspace.fenceKey() };
				byte[][] args = { keyspace.baseBytes(), CacheKeyspace.bytes(keys.get(i)), retentionMicros() };
				futures.add(script(commands, TagCacheScript.EVICT, ScriptOutputType.INTEGER, scriptKeys, args));
			}
			return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
		});
	}

	/**
	 * Invalidate tags in each of the caches: one script per cache, all issued before any reply is
	 * awaited, then every tag index too large to remove inline is drained chunk by chunk, and so is
	 * any index detached over a minute ago whose drain never finished (its process stopped). Held
	 * tags have their fence records raised {@code hold} ahead of the generation.
	 */
	@Override
	public long[] invalidate(List<CacheKeyspace> keyspaces, Collection<String> tags, Duration hold) {
		if (keyspaces.isEmpty() || tags.isEmpty()) {
			return new long[keyspaces.size()];
		}
		byte[] holdMicros = number(hold.toNanos() / 1000);
		List<List<Object>> replies = execute("invalidate", commands -> {
			List<CompletableFuture<List<Object>>> futures = new ArrayList<>(keyspaces.size());
			for (CacheKeyspace keyspace : keyspaces) {
				futures.add(invalidateAsync(commands, keyspace, tags, holdMicros));
			}
			return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
				.thenApply(done -> futures.stream().map(CompletableFuture::join).toList());
		});
		long[] removed = new long[keyspaces.size()];
		List<CompletableFuture<Void>> drains = new ArrayList<>();
		for (int i = 0; i < replies.size(); i++) {
			List<Object> reply = replies.get(i);
			removed[i] = (Long) reply.get(0);
			int ownDrainsEnd = 2 + 2 * ((Long) reply.get(1)).intValue();
			for (int d = 2; d + 1 < reply.size(); d += 2) {
				int cache = i;
				CompletableFuture<Long> drain = drainAsync(keyspaces.get(i), (byte[]) reply.get(d),
						(byte[]) reply.get(d + 1), 0);
				// an abandoned drain this call finishes removes entries of an earlier invalidation
				drains.add((d < ownDrainsEnd) ? drain.thenAccept(count -> addTo(removed, cache, count))
						: drain.thenAccept(count -> { }));
			}
		}
		if (!drains.isEmpty()) {
			awaitAll(drains);
		}
		return removed;
	}

	private static void addTo(long[] counts, int index, long count) {
		synchronized (counts) {
			counts[index] += count;
		}
	}

	private CompletableFuture<List<Object>> invalidateAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			CacheKeyspace keyspace, Collection<String> tags, byte[] holdMicros) {
		byte[][] keys = new byte[4 + tags.size()][];
		keys[0] = keyspace.generationKey();
		keys[1] = keyspace.fenceKey();
		keys[2] = keyspace.detachedKey();
		keys[3] = keyspace.softKey();
		byte[][] args = new byte[4 + tags.size()][];
		args[0] = keyspace.baseBytes();
		args[1] = retentionMicros();
		args[2] = number(this.inlineInvalidationLimit);
		args[3] = holdMicros;
		int i = 0;
		for (String tag : tags) {
			keys[4 + i] = keyspace.indexKey(tag);
			args[4 + i] = CacheKeyspace.bytes(tag);
			i++;
		}
		return script(commands, TagCacheScript.INVALIDATE, ScriptOutputType.MULTI, keys, args);
	}

	/**
	 * Soft-invalidate tags in each of the caches: one script per cache, all issued before any reply is
	 * awaited, marking the entries of tags up to the inline limit; then every index too large to mark
	 * inline is marked chunk by chunk, as a detached index is drained.
	 */
	@Override
	public long[] softInvalidate(List<CacheKeyspace> keyspaces, Collection<String> tags, List<Duration> keptFor,
			Duration hold) {
		if (keyspaces.isEmpty() || tags.isEmpty()) {
			return new long[keyspaces.size()];
		}
		byte[] holdMicros = number(hold.toNanos() / 1000);
		List<List<Object>> replies = execute("invalidate", commands -> {
			List<CompletableFuture<List<Object>>> futures = new ArrayList<>(keyspaces.size());
			for (int k = 0; k < keyspaces.size(); k++) {
				CacheKeyspace keyspace = keyspaces.get(k);
				byte[][] keys = new byte[3 + tags.size()][];
				keys[0] = keyspace.generationKey();
				keys[1] = keyspace.fenceKey();
				keys[2] = keyspace.softKey();
				byte[][] args = new byte[5 + tags.size()][];
				args[0] = keyspace.baseBytes();
				args[1] = retentionMicros();
				args[2] = number(this.inlineInvalidationLimit);
				args[3] = holdMicros;
				args[4] = keptMillis(keptFor.get(k));
				int i = 0;
				for (String tag : tags) {
					keys[3 + i] = keyspace.indexKey(tag);
					args[5 + i] = CacheKeyspace.bytes(tag);
					i++;
				}
				futures.add(script(commands, TagCacheScript.SOFT_INVALIDATE, ScriptOutputType.MULTI, keys, args));
			}
			return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
				.thenApply(done -> futures.stream().map(CompletableFuture::join).toList());
		});
		long[] marked = new long[keyspaces.size()];
		List<CompletableFuture<Void>> drains = new ArrayList<>();
		for (int k = 0; k < replies.size(); k++) {
			List<Object> reply = replies.get(k);
			marked[k] = (Long) reply.get(0);
			int cache = k;
			for (int d = 1; d + 2 < reply.size(); d += 3) {
				drains.add(softDrainAsync(keyspaces.get(k), (byte[]) reply.get(d), (byte[]) reply.get(d + 1),
						(byte[]) reply.get(d + 2), keptMillis(keptFor.get(k)), 0)
					.thenAccept(count -> addTo(marked, cache, count)));
			}
		}
		if (!drains.isEmpty()) {
			awaitAll(drains);
		}
		return marked;
	}

	private static byte[] keptMillis(Duration keptFor) {
		return number(Math.max(1, keptFor.toMillis()));
	}

	/** Mark the entries of a soft-detached tag index in chunks, as {@link #drainAsync} removes a detached one's. */
	private CompletableFuture<Long> softDrainAsync(CacheKeyspace keyspace, byte[] snapshot, byte[] tag, byte[] member,
			byte[] keptMillis, long marked) {
		byte[][] keys = { snapshot, keyspace.softKey() };
		byte[][] args = { keyspace.baseBytes(), tag, number(DRAIN_CHUNK_LIMIT), number(this.drainBudgetMicros),
				keptMillis, member };
		return this.<List<Long>>executeAsync("drain",
				commands -> script(commands, TagCacheScript.SOFT_DRAIN, ScriptOutputType.MULTI, keys, args))
			.thenCompose(reply -> {
				long total = marked + reply.get(0);
				return (reply.get(1) > 0) ? softDrainAsync(keyspace, snapshot, tag, member, keptMillis, total)
						: CompletableFuture.completedFuture(total);
			});
	}

	/**
	 * Drain a detached tag index in chunks, each one short script that stops after about the drain
	 * budget of Redis time, so that Redis serves other clients between the chunks. The chunks of one
	 * index follow each other; the indexes of different caches and shards drain side by side, on
	 * their own nodes.
	 */
	private CompletableFuture<Long> drainAsync(CacheKeyspace keyspace, byte[] detachedIndex, byte[] tag, long removed) {
		byte[][] keys = { detachedIndex, keyspace.detachedKey() };
		byte[][] args = { keyspace.baseBytes(), tag, number(DRAIN_CHUNK_LIMIT),
				number(this.drainBudgetMicros) };
		return this.<List<Long>>executeAsync("drain",
				commands -> script(commands, TagCacheScript.DRAIN, ScriptOutputType.MULTI, keys, args))
			.thenCompose(reply -> {
				long total = removed + reply.get(0);
				return (reply.get(1) > 0) ? drainAsync(keyspace, detachedIndex, tag, total)
						: CompletableFuture.completedFuture(total);
			});
	}

	private static void awaitAll(List<? extends CompletableFuture<?>> futures) {
		RedisCommandRunner.awaitAll(futures);
	}

	/**
	 * Remove every entry of the cache: fence the whole cache first (so no value loaded before the
	 * clear is stored after it), then remove the entries found by {@code SCAN}, page by page, each
	 * page with its index records in one script. Entries written after the fence are not touched
	 * unless the scan meets them, and are then removed with their index records, never apart.
	 * @return the number of entries removed
	 */
	@Override
	public long clear(CacheKeyspace keyspace) {
		return fenceAndRemove(keyspace, keyspace.entryPattern(), "clear");
	}

	/**
	 * Remove the entries of the cache whose key matches a glob, as {@link #clear} removes them all: the
	 * whole cache is fenced first, then the matching entries found by {@code SCAN} (on a cluster, on
	 * the node of the slot) are removed page by page with their index records.
	 */
	@Override
	public long evictByPattern(CacheKeyspace keyspace, String keyPattern) {
		return fenceAndRemove(keyspace, keyspace.entryPattern(keyPattern), "evict");
	}

	private long fenceAndRemove(CacheKeyspace keyspace, String scanPattern, String operation) {
		byte[][] fenceKeys = { keyspace.generationKey(), keyspace.fenceKey() };
		execute(operation, commands -> script(commands, TagCacheScript.FENCE_CACHE, ScriptOutputType.INTEGER,
				fenceKeys, new byte[][] { retentionMicros(), keyspace.baseBytes() }));
		long[] removed = new long[1];
		scan(scanPattern, operation, page -> {
			byte[][] args = new byte[1 + page.size()][];
			args[0] = keyspace.baseBytes();
			for (int i = 0; i < page.size(); i++) {
				args[1 + i] = CacheKeyspace.bytes(keyspace.keyOfEntry(new String(page.get(i), StandardCharsets.UTF_8)));
			}
			removed[0] += this.<Long>execute(operation, commands -> script(commands, TagCacheScript.REMOVE_ENTRIES,
					ScriptOutputType.INTEGER, new byte[][] { keyspace.generationKey() }, args));
		});
		return removed[0];
	}

	@Override
	public long countEntries(CacheKeyspace keyspace) {
		return count(keyspace.entryPattern());
	}

	@Override
	public long countTags(CacheKeyspace keyspace) {
		return count(keyspace.indexPattern());
	}

	/** Count the keys matching a pattern with {@code SCAN}, without holding them in memory. */
	private long count(String pattern) {
		long[] count = new long[1];
		scan(pattern, "count", page -> count[0] += page.size());
		return count[0];
	}

	/** Count the live (not yet expired) entries in a tag's index: {@code ZCOUNT} from now on. */
	@Override
	public long countTagged(CacheKeyspace keyspace, String tag) {
		Range<Long> live = Range.from(Range.Boundary.including(System.currentTimeMillis()), Range.Boundary.unbounded());
		return execute("count", commands -> commands.zcount(keyspace.indexKey(tag), live).toCompletableFuture());
	}

	/**
	 * Load every script into the script cache of every node ({@code SCRIPT LOAD}; on a cluster
	 * Lettuce sends it to every node), so that the first put or invalidation on a fresh Redis does not
	 * compile its script in the middle of serving. Without it the first {@code EVALSHA} of each
	 * script falls back to {@code EVAL}, which is correct too.
	 */
	@Override
	public CompletableFuture<Void> prepare() {
		return executeAsync("load", commands -> {
			List<CompletableFuture<String>> loads = new ArrayList<>();
			for (TagCacheScript script : TagCacheScript.values()) {
				loads.add(commands.scriptLoad(script.source()).toCompletableFuture());
			}
			return CompletableFuture.allOf(loads.toArray(CompletableFuture[]::new));
		});
	}

	/**
	 * The {@code maxmemory-policy} of every master, read from {@code INFO memory} (which managed Redis
	 * services allow where {@code CONFIG} is disabled).
	 * @return the policies found, one per node answering
	 */
	@Override
	public CompletableFuture<List<String>> evictionPolicies() {
		return executeAsync("info", commands -> {
			List<CompletableFuture<String>> infos = new ArrayList<>();
			if (commands instanceof RedisAdvancedClusterAsyncCommands<byte[], byte[]> cluster) {
				cluster.masters().commands().info("memory").forEach(info -> infos.add(info.toCompletableFuture()));
			}
			else {
				infos.add(commands.info("memory").toCompletableFuture());
			}
			return CompletableFuture.allOf(infos.toArray(CompletableFuture[]::new))
				.thenApply(done -> infos.stream()
					.map(CompletableFuture::join)
					.map(DefaultRedisTaggedCacheWriter::evictionPolicy)
					.toList());
		});
	}

	private static String evictionPolicy(String info) {
		for (String line : info.split("\r?\n")) {
			if (line.startsWith("maxmemory_policy:")) {
				return line.substring("maxmemory_policy:".length()).trim();
			}
		}
		return "unknown";
	}

	/** {@code PING} the node of the cache registry. */
	@Override
	public String ping() {
		return execute("ping", commands -> commands.ping().toCompletableFuture());
	}

	/**
	 * Finish the drains of detached tag indexes abandoned (detached longer ago than {@code age}) in
	 * the given cache slots: one script per slot lists them, then each is drained in chunks.
	 * @return the number of entries removed
	 */
	@Override
	public long finishAbandonedDrains(List<CacheKeyspace> keyspaces, Duration age) {
		byte[] ageMicros = number(age.toNanos() / 1000);
		List<List<Object>> replies = execute("drain", commands -> {
			List<CompletableFuture<List<Object>>> futures = new ArrayList<>(keyspaces.size());
			for (CacheKeyspace keyspace : keyspaces) {
				futures.add(script(commands, TagCacheScript.ABANDONED_DRAINS, ScriptOutputType.MULTI,
						new byte[][] { keyspace.detachedKey() }, new byte[][] { keyspace.baseBytes(), ageMicros }));
			}
			return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
				.thenApply(done -> futures.stream().map(CompletableFuture::join).toList());
		});
		long[] removed = new long[1];
		List<CompletableFuture<Void>> drains = new ArrayList<>();
		for (int i = 0; i < replies.size(); i++) {
			List<Object> reply = replies.get(i);
			for (int d = 0; d + 1 < reply.size(); d += 2) {
				drains.add(drainAsync(keyspaces.get(i), (byte[]) reply.get(d), (byte[]) reply.get(d + 1), 0)
					.thenAccept(count -> addTo(removed, 0, count)));
			}
		}
		awaitAll(drains);
		return removed[0] + finishAbandonedSoftDrains(keyspaces, ageMicros);
	}

	/**
	 * Finish the marking of soft-detached indexes abandoned in the given slots; their entries are
	 * kept at most the stale-while-revalidate default, as the settings of their caches are not known
	 * here.
	 * @return the number of entries marked
	 */
	private long finishAbandonedSoftDrains(List<CacheKeyspace> keyspaces, byte[] ageMicros) {
		List<List<Object>> replies = execute("drain", commands -> {
			List<CompletableFuture<List<Object>>> futures = new ArrayList<>(keyspaces.size());
			for (CacheKeyspace keyspace : keyspaces) {
				futures.add(script(commands, TagCacheScript.ABANDONED_SOFT_DRAINS, ScriptOutputType.MULTI,
						new byte[][] { keyspace.softKey() }, new byte[][] { keyspace.baseBytes(), ageMicros }));
			}
			return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
				.thenApply(done -> futures.stream().map(CompletableFuture::join).toList());
		});
		long[] marked = new long[1];
		byte[] kept = keptMillis(ABANDONED_SOFT_KEPT_FOR);
		List<CompletableFuture<Void>> drains = new ArrayList<>();
		for (int i = 0; i < replies.size(); i++) {
			List<Object> reply = replies.get(i);
			for (int d = 0; d + 2 < reply.size(); d += 3) {
				drains.add(softDrainAsync(keyspaces.get(i), (byte[]) reply.get(d), (byte[]) reply.get(d + 1),
						(byte[]) reply.get(d + 2), kept, 0).thenAccept(count -> addTo(marked, 0, count)));
			}
		}
		awaitAll(drains);
		return marked[0];
	}


	private void scan(String pattern, String operation, Consumer<List<byte[]>> pages) {
		this.redis.scan(pattern, operation, pages);
	}

	private <T> CompletableFuture<T> script(RedisClusterAsyncCommands<byte[], byte[]> commands, TagCacheScript script,
			ScriptOutputType type, byte[][] keys, byte[][] args) {
		return RedisCommandRunner.script(commands, script, type, keys, args);
	}

	private <T> T execute(String operation,
			Function<RedisClusterAsyncCommands<byte[], byte[]>, CompletableFuture<T>> action) {
		return this.redis.execute(operation, action);
	}

	private <T> CompletableFuture<T> executeAsync(String operation,
			Function<RedisClusterAsyncCommands<byte[], byte[]>, CompletableFuture<T>> action) {
		return this.redis.executeAsync(operation, action);
	}

	/** Whether the server has sharded pub/sub; {@code false} once {@code SPUBLISH} was refused as unknown (Redis 6.2). */
	private volatile boolean shardedPublish = true;

	/**
	 * Publish a message on a channel: sharded ({@code SPUBLISH}, routed to the master of the channel's
	 * slot on a cluster) where the server has it, as {@link InvalidationChannel} subscribes.
	 * @return the number of subscribers that received it
	 */
	CompletableFuture<Long> publishAsync(String channel, byte[] message) {
		byte[] name = channel.getBytes(StandardCharsets.UTF_8);
		if (!this.shardedPublish) {
			return executeAsync("publish", commands -> commands.publish(name, message).toCompletableFuture());
		}
		return this.<Long>executeAsync("publish", commands -> commands.spublish(name, message).toCompletableFuture())
			.exceptionallyCompose(ex -> {
				String error = RedisErrors.unwrap(ex).getMessage();
				if (error == null || !error.toLowerCase(java.util.Locale.ROOT).contains("unknown command")) {
					return CompletableFuture.failedFuture(ex);
				}
				this.shardedPublish = false;
				return publishAsync(channel, message);
			});
	}

	/** Close the connection the writer kept for itself, if any (when the manager stops). */
	@Override
	public void close() {
		this.redis.close();
	}

	private byte[] retentionMicros() {
		return number(this.fenceRetention.toNanos() / 1000);
	}

	private static byte[] number(long value) {
		return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
	}

}
