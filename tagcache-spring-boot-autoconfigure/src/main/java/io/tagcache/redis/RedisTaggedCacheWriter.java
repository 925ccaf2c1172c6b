package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Pattern;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.Range;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisAdvancedClusterAsyncCommands;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.InvalidDataAccessResourceUsageException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Byte-level access to Redis for tagged caches; the only class that talks to Redis and the owner
 * of the Lua scripts.
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
 * <p>Commands go through Lettuce's asynchronous API of the connection factory's native connection,
 * the same on a standalone server and on a cluster (where Lettuce routes each command by its first
 * key). Scripts for several caches are issued before any reply is awaited, so a cross-cache
 * invalidation costs one round trip, not one per cache.
 *
 * <p>Failures surface as Spring {@link DataAccessException}s; {@link RedisTaggedCache} decides
 * which of them to absorb.
 */
final class RedisTaggedCacheWriter {

	private static final byte[] EMPTY = new byte[0];

	private static final byte[] ONE = CacheKeyspace.bytes("1");

	/** The field that marks a registry as complete; no cache name holds '#'. */
	private static final String REGISTRY_COMPLETE = "#complete";

	private static final Pattern UNAVAILABLE = Pattern
		.compile("(^|: )(OOM|BUSY|LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF)\\b");

	/**
	 * Most tags a put writes in one script; a put with more is split (see {@link #chunkedPutAsync}). A
	 * tag costs a put about four Redis calls, about 10 us on 2 loaded cores (BENCHMARKS.md, "Puts with
	 * many tags"), so a chunk holds Redis for about 1-2 ms, near the bound every script stays in.
	 */
	static final int TAGS_PER_SCRIPT = 128;

	/** How often a put with many tags is sent again when records went missing before its last step. */
	static final int CHUNKED_PUT_ATTEMPTS = 3;

	/** Most entries one drain call removes, whatever its time budget. */
	private static final int DRAIN_CHUNK_LIMIT = 2000;

	private final LettuceConnectionFactory connectionFactory;

	private final Duration timeout;

	private final Duration fenceRetention;

	private final int inlineInvalidationLimit;

	private final long drainBudgetMicros;

	private final RedisOperationListener listener;

	private volatile @Nullable RedisClusterAsyncCommands<byte[], byte[]> sharedCommands;

	/** Without a shared native connection: the factory's connection the writer keeps open for itself. */
	private @Nullable RedisConnection ownConnection;

	/** Test seam: runs after the chunks of a put with many tags were sent, before its last step. */
	private volatile Runnable beforePutCheck = () -> {
	};

	RedisTaggedCacheWriter(LettuceConnectionFactory connectionFactory, Duration fenceRetention,
			int inlineInvalidationLimit, Duration drainBudget, RedisOperationListener listener) {
		this.listener = listener;
		this.connectionFactory = connectionFactory;
		this.timeout = connectionFactory.getClientConfiguration().getCommandTimeout();
		this.fenceRetention = fenceRetention;
		this.inlineInvalidationLimit = inlineInvalidationLimit;
		this.drainBudgetMicros = Math.max(1, drainBudget.toNanos() / 1000);
	}

	/**
	 * An entry as stored in its Redis string: a header line, then the serialized value. The header is
	 * {@code '0'} (the entry expires) or {@code '1'} (it never does), the type hint ({@code ""} for a
	 * null value), then {@code '\t'} and each tag; {@code '\n'} ends it. Tags and type hints hold no
	 * control character ({@link TagRules}), so the header needs no escaping. The scripts read the tags
	 * of an entry from its header when they remove or rewrite it.
	 * @param bytes the stored string
	 * @param valueOffset where the serialized value starts in {@code bytes}
	 * @param typeHint the type hint, {@code ""} for a null value
	 */
	record StoredEntry(byte[] bytes, int valueOffset, String typeHint) {

		private static final byte EXPIRING = '0';

		private static final byte ETERNAL = '1';

		private static final byte TAG_SEPARATOR = '\t';

		private static final byte END_OF_HEADER = '\n';

		boolean isNull() {
			return this.typeHint.isEmpty();
		}

		int valueLength() {
			return this.bytes.length - this.valueOffset;
		}

		static byte[] encode(byte[] value, String typeHint, boolean eternal, Collection<String> tags) {
			int headerLength = 2 + utf8Length(typeHint);
			for (String tag : tags) {
				headerLength += 1 + utf8Length(tag);
			}
			byte[] stored = new byte[headerLength + value.length];
			stored[0] = eternal ? ETERNAL : EXPIRING;
			int at = put(stored, 1, typeHint);
			for (String tag : tags) {
				stored[at++] = TAG_SEPARATOR;
				at = put(stored, at, tag);
			}
			stored[at++] = END_OF_HEADER;
			System.arraycopy(value, 0, stored, at, value.length);
			return stored;
		}

		static StoredEntry decode(byte[] stored) {
			int hintEnd = 1;
			while (hintEnd < stored.length && stored[hintEnd] != TAG_SEPARATOR && stored[hintEnd] != END_OF_HEADER) {
				hintEnd++;
			}
			int valueOffset = hintEnd;
			while (valueOffset < stored.length && stored[valueOffset] != END_OF_HEADER) {
				valueOffset++;
			}
			if (stored.length == 0 || valueOffset == stored.length) {
				throw new IllegalStateException("Not a tagcache entry: no header line in " + stored.length + " bytes");
			}
			return new StoredEntry(stored, valueOffset + 1,
					new String(stored, 1, hintEnd - 1, StandardCharsets.UTF_8));
		}

		private static int utf8Length(String text) {
			int length = text.length();
			for (int i = 0; i < text.length(); i++) {
				if (text.charAt(i) >= 0x80) {
					return text.getBytes(StandardCharsets.UTF_8).length;
				}
			}
			return length;
		}

		private static int put(byte[] target, int at, String text) {
			byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
			System.arraycopy(bytes, 0, target, at, bytes.length);
			return at + bytes.length;
		}

	}

	/** Read an entry: one {@code GET}, no script. */
	@Nullable StoredEntry read(CacheKeyspace keyspace, String key) {
		return execute("get", commands -> readAsync(commands, keyspace, key));
	}

	/** Read an entry without blocking. */
	CompletableFuture<@Nullable StoredEntry> readAsync(CacheKeyspace keyspace, String key) {
		return executeAsync("get", commands -> readAsync(commands, keyspace, key));
	}

	private CompletableFuture<@Nullable StoredEntry> readAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			CacheKeyspace keyspace, String key) {
		return commands.get(keyspace.entryKey(key))
			.toCompletableFuture()
			.thenApply(stored -> (stored != null) ? StoredEntry.decode(stored) : null);
	}

	/** Read the cache's generation, {@code 0} when it was never invalidated. */
	long readGeneration(CacheKeyspace keyspace) {
		return execute("fence", commands -> commands.get(keyspace.generationKey())
			.toCompletableFuture()
			.thenApply(RedisTaggedCacheWriter::toGeneration));
	}

	/**
	 * What a put did: written, refused by the fence, or (absent-only puts) found an existing entry.
	 * {@code fenceCreated} tells that the slot's fence state was missing (lost with the slot's data, or
	 * never created) and was created by this put: the cache registers itself again.
	 */
	record PutResult(boolean written, @Nullable StoredEntry existing, boolean fenceCreated) {

	}

	/** How a put treats existing entries and concurrent invalidations. */
	record PutMode(@Nullable Long fence, boolean onlyIfAbsent) {

		static final PutMode ALWAYS = new PutMode(null, false);

		static final PutMode IF_ABSENT = new PutMode(null, true);

		static PutMode fenced(long fence) {
			return new PutMode(fence, false);
		}

	}

	/**
	 * Write an entry with its tags in one script: the value, its tag list and every index record
	 * together, after the fence check when the mode carries a fence.
	 */
	PutResult put(CacheKeyspace keyspace, String key, byte[] value, String typeHint, Duration timeToLive,
			Collection<String> tags, PutMode mode) {
		return execute("put", commands -> putAsync(commands, keyspace, key, value, typeHint, timeToLive, tags, mode));
	}

	/** Write an entry with its tags without blocking; see {@link #put}. */
	CompletableFuture<PutResult> putAsync(CacheKeyspace keyspace, String key, byte[] value, String typeHint,
			Duration timeToLive, Collection<String> tags, PutMode mode) {
		return executeAsync("put", commands -> putAsync(commands, keyspace, key, value, typeHint, timeToLive, tags, mode));
	}

	private CompletableFuture<PutResult> putAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			CacheKeyspace keyspace, String key, byte[] value, String typeHint, Duration timeToLive,
			Collection<String> tags, PutMode mode) {
		if (tags.size() > TAGS_PER_SCRIPT && !timeToLive.isZero() && !mode.onlyIfAbsent()) {
			return chunkedPutAsync(commands, keyspace, key, value, typeHint, timeToLive, List.copyOf(tags), mode, 1,
					false);
		}
		byte[][] keys = new byte[3 + tags.size()][];
		keys[0] = keyspace.entryKey(key);
		keys[1] = keyspace.fenceKey();
		keys[2] = keyspace.generationKey();
		byte[][] args = new byte[6 + tags.size()][];
		args[0] = keyspace.baseBytes();
		args[1] = CacheKeyspace.bytes(key);
		args[2] = StoredEntry.encode(value, typeHint, timeToLive.isZero(), tags);
		args[3] = ttlMillis(timeToLive);
		args[4] = fence(mode);
		args[5] = mode.onlyIfAbsent() ? ONE : EMPTY;
		int i = 0;
		for (String tag : tags) {
			keys[3 + i] = keyspace.indexKey(tag);
			args[6 + i] = CacheKeyspace.bytes(tag);
			i++;
		}
		return this.<List<Object>>script(commands, TagCacheScript.PUT, ScriptOutputType.MULTI, keys, args)
			.thenApply(RedisTaggedCacheWriter::toPutResult);
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
			CacheKeyspace keyspace, String key, byte[] value, String typeHint, Duration timeToLive, List<String> tags,
			PutMode mode, int attempt, boolean fenceCreated) {
		byte[] keyBytes = CacheKeyspace.bytes(key);
		byte[] ttl = ttlMillis(timeToLive);
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
		byte[][] args = { keyspace.baseBytes(), keyBytes, StoredEntry.encode(value, typeHint, false, tags), token,
				number(tags.size()) };
		CompletableFuture<List<Object>> checked = script(commands, TagCacheScript.PUT_CHECKED, ScriptOutputType.MULTI,
				keys, args);
		return checked.thenCompose(reply -> {
			// A chunk that created the fence state also refused or cut this attempt short: report it all the same.
			boolean created = fenceCreated || (Long) reply.get(1) == 1L || chunks.stream()
				.anyMatch(chunk -> chunk.isDone() && !chunk.isCompletedExceptionally() && (Long) chunk.join().get(1) == 1L);
			boolean incomplete = (Long) reply.get(0) == 3L;
			if (incomplete && attempt < CHUNKED_PUT_ATTEMPTS) {
				return chunkedPutAsync(commands, keyspace, key, value, typeHint, timeToLive, tags, mode, attempt + 1,
						created);
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
	CompletableFuture<Long> readGenerationAsync(CacheKeyspace keyspace) {
		return executeAsync("fence", commands -> commands.get(keyspace.generationKey())
			.toCompletableFuture()
			.thenApply(RedisTaggedCacheWriter::toGeneration));
	}

	/**
	 * Create the fence state of a cache slot when it is missing (the generation was not found: the
	 * slot was never used, or lost its data) and return the generation; see {@code ensure_fence} in
	 * {@code lib.lua}.
	 */
	long initFence(CacheKeyspace keyspace) {
		return execute("fence", commands -> initFenceAsync(commands, keyspace));
	}

	/** {@link #initFence} without blocking. */
	CompletableFuture<Long> initFenceAsync(CacheKeyspace keyspace) {
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
	boolean evict(CacheKeyspace keyspace, String key) {
		byte[][] keys = { keyspace.entryKey(key), keyspace.generationKey(), keyspace.fenceKey() };
		byte[][] args = { keyspace.baseBytes(), CacheKeyspace.bytes(key), retentionMicros() };
		Long removed = execute("evict", commands -> script(commands, TagCacheScript.EVICT, ScriptOutputType.INTEGER, keys, args));
		return removed == 1L;
	}

	/**
	 * Remove entries and fence their keys, one script per key, all issued before any reply is
	 * awaited (for a replay of queued evictions).
	 */
	void evictAll(List<CacheKeyspace> keyspaces, List<String> keys) {
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
	 * any index detached over a minute ago whose drain never finished (its process stopped).
	 * @return the number of entries removed in each cache, in the order of {@code keyspaces}
	 */
	long[] invalidate(List<CacheKeyspace> keyspaces, Collection<String> tags) {
		return invalidate(keyspaces, tags, Duration.ZERO);
	}

	/**
	 * Invalidate tags as {@link #invalidate(List, Collection)} does, and hold them: their fence records
	 * are raised {@code hold} ahead of the generation, so that no write of them is stored until an
	 * invalidation of them without hold (or the end of the hold).
	 */
	long[] invalidate(List<CacheKeyspace> keyspaces, Collection<String> tags, Duration hold) {
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
		byte[][] keys = new byte[3 + tags.size()][];
		keys[0] = keyspace.generationKey();
		keys[1] = keyspace.fenceKey();
		keys[2] = keyspace.detachedKey();
		byte[][] args = new byte[4 + tags.size()][];
		args[0] = keyspace.baseBytes();
		args[1] = retentionMicros();
		args[2] = number(this.inlineInvalidationLimit);
		args[3] = holdMicros;
		int i = 0;
		for (String tag : tags) {
			keys[3 + i] = keyspace.indexKey(tag);
			args[4 + i] = CacheKeyspace.bytes(tag);
			i++;
		}
		return script(commands, TagCacheScript.INVALIDATE, ScriptOutputType.MULTI, keys, args);
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

	/** Waits for futures that each time out on their own (every command has the command timeout). */
	private static void awaitAll(List<? extends CompletableFuture<?>> futures) {
		try {
			CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
		}
		catch (CompletionException ex) {
			throw translate(unwrap(ex));
		}
	}

	/**
	 * Remove every entry of the cache: fence the whole cache first (so no value loaded before the
	 * clear is stored after it), then remove the entries found by {@code SCAN}, page by page, each
	 * page with its index records in one script. Entries written after the fence are not touched
	 * unless the scan meets them, and are then removed with their index records, never apart.
	 * @return the number of entries removed
	 */
	long clear(CacheKeyspace keyspace) {
		byte[][] fenceKeys = { keyspace.generationKey(), keyspace.fenceKey() };
		execute("clear", commands -> script(commands, TagCacheScript.FENCE_CACHE, ScriptOutputType.INTEGER, fenceKeys,
				new byte[][] { retentionMicros() }));
		long[] removed = new long[1];
		scan(keyspace.entryPattern(), "clear", page -> {
			byte[][] args = new byte[1 + page.size()][];
			args[0] = keyspace.baseBytes();
			for (int i = 0; i < page.size(); i++) {
				args[1 + i] = CacheKeyspace.bytes(keyspace.keyOfEntry(new String(page.get(i), StandardCharsets.UTF_8)));
			}
			removed[0] += this.<Long>execute("clear", commands -> script(commands, TagCacheScript.REMOVE_ENTRIES,
					ScriptOutputType.INTEGER, new byte[][] { keyspace.generationKey() }, args));
		});
		return removed[0];
	}

	/** Count the keys matching a pattern with {@code SCAN}, without holding them in memory. */
	long count(String pattern) {
		long[] count = new long[1];
		scan(pattern, "count", page -> count[0] += page.size());
		return count[0];
	}

	/** Count the live (not yet expired) entries in a tag's index: {@code ZCOUNT} from now on. */
	long countTagged(CacheKeyspace keyspace, String tag) {
		Range<Long> live = Range.from(Range.Boundary.including(System.currentTimeMillis()), Range.Boundary.unbounded());
		return execute("count", commands -> commands.zcount(keyspace.indexKey(tag), live).toCompletableFuture());
	}

	/**
	 * Load every script into the script cache of every node ({@code SCRIPT LOAD}; on a cluster
	 * Lettuce sends it to every node), so that the first put or invalidation on a fresh Redis does not
	 * compile its script in the middle of serving. Without it the first {@code EVALSHA} of each
	 * script falls back to {@code EVAL}, which is correct too.
	 */
	CompletableFuture<Void> loadScripts() {
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
	CompletableFuture<List<String>> evictionPolicies() {
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
					.map(RedisTaggedCacheWriter::evictionPolicy)
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
	String ping() {
		return execute("ping", commands -> commands.ping().toCompletableFuture());
	}

	/**
	 * Record a cache and its number of shards in the registry of the prefix, so invalidations from
	 * any instance reach every shard of it. The registry keeps the largest number of shards any
	 * instance registered.
	 * @return the number of shards registered before, {@code 0} when the cache was not registered
	 */
	int register(String keyPrefix, String cacheName, int shards) {
		return execute("registry", commands -> registerAsync(commands, keyPrefix, false, Map.of(cacheName, shards)))
			.get(0);
	}

	/** {@link #register} without blocking. */
	CompletableFuture<Integer> registerAsync(String keyPrefix, String cacheName, int shards) {
		return executeAsync("registry",
				commands -> registerAsync(commands, keyPrefix, false, Map.of(cacheName, shards)))
			.thenApply(previous -> previous.get(0));
	}

	private CompletableFuture<List<Integer>> registerAsync(RedisClusterAsyncCommands<byte[], byte[]> commands,
			String keyPrefix, boolean complete, Map<String, Integer> caches) {
		byte[][] args = new byte[1 + 2 * caches.size()][];
		args[0] = complete ? ONE : EMPTY;
		int i = 1;
		for (Map.Entry<String, Integer> cache : caches.entrySet()) {
			args[i++] = CacheKeyspace.bytes(cache.getKey());
			args[i++] = number(cache.getValue());
		}
		return this.<List<Long>>script(commands, TagCacheScript.REGISTER, ScriptOutputType.MULTI,
				new byte[][] { registryKey(keyPrefix) }, args)
			.thenApply(previous -> previous.stream().map(Long::intValue).toList());
	}

	/**
	 * Every cache that an instance with this prefix registered, with its number of shards. A registry
	 * that is not marked complete was lost (a restart, a flush, an eviction) or never built: it is
	 * rebuilt first from the fence state every used cache slot holds, found with {@code SCAN} (on a
	 * cluster, on every master), then marked complete. Caches registered meanwhile are kept.
	 */
	Map<String, Integer> registeredCaches(String keyPrefix) {
		Map<byte[], byte[]> entries = execute("registry",
				commands -> commands.hgetall(registryKey(keyPrefix)).toCompletableFuture());
		Map<String, Integer> caches = new TreeMap<>();
		boolean complete = false;
		for (Map.Entry<byte[], byte[]> entry : entries.entrySet()) {
			String name = new String(entry.getKey(), StandardCharsets.UTF_8);
			if (name.equals(REGISTRY_COMPLETE)) {
				complete = true;
			}
			else {
				caches.put(name, Integer.parseInt(new String(entry.getValue(), StandardCharsets.US_ASCII)));
			}
		}
		if (!complete) {
			Map<String, Integer> found = findCaches(keyPrefix);
			found.forEach((name, shards) -> caches.merge(name, shards, Math::max));
			execute("registry", commands -> registerAsync(commands, keyPrefix, true, found));
		}
		return caches;
	}

	/** The caches whose fence state is in Redis, with the highest shard found plus one. */
	private Map<String, Integer> findCaches(String keyPrefix) {
		String start = keyPrefix + ":{";
		Map<String, Integer> caches = new TreeMap<>();
		scan(CacheKeyspace.escapeGlob(start) + "*}:gen", "registry", page -> {
			for (byte[] key : page) {
				String text = new String(key, StandardCharsets.UTF_8);
				String slot = text.substring(start.length(), text.length() - "}:gen".length());
				int hash = slot.lastIndexOf('#');
				String name = (hash >= 0) ? slot.substring(0, hash) : slot;
				int shards = (hash >= 0) ? Integer.parseInt(slot.substring(hash + 1)) + 1 : 1;
				if (!name.isEmpty() && name.indexOf('{') < 0 && name.indexOf('}') < 0) {
					caches.merge(name, shards, Math::max);
				}
			}
		});
		return caches;
	}

	/**
	 * Finish the drains of detached tag indexes abandoned (detached longer ago than {@code age}) in
	 * the given cache slots: one script per slot lists them, then each is drained in chunks.
	 * @return the number of entries removed
	 */
	long finishAbandonedDrains(List<CacheKeyspace> keyspaces, Duration age) {
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
		return removed[0];
	}

	static byte[] registryKey(String keyPrefix) {
		return CacheKeyspace.bytes(keyPrefix + ":caches");
	}

	/**
	 * Scan keys matching the pattern and hand them over a page ({@code COUNT 1000}) at a time,
	 * holding no more than a page in memory; on a cluster, Lettuce walks every master. Never
	 * {@code KEYS}, which blocks Redis for the whole keyspace.
	 */
	private void scan(String pattern, String operation, Consumer<List<byte[]>> pages) {
		ScanArgs args = ScanArgs.Builder.matches(pattern).limit(1000);
		KeyScanCursor<byte[]> cursor = null;
		do {
			ScanCursor from = (cursor != null) ? cursor : ScanCursor.INITIAL;
			cursor = execute(operation, commands -> commands.scan(from, args).toCompletableFuture());
			if (!cursor.getKeys().isEmpty()) {
				pages.accept(cursor.getKeys());
			}
		}
		while (!cursor.isFinished());
	}

	private <T> CompletableFuture<T> script(RedisClusterAsyncCommands<byte[], byte[]> commands, TagCacheScript script,
			ScriptOutputType type, byte[][] keys, byte[][] args) {
		return commands.<T>evalsha(script.sha1(), type, keys, args)
			.toCompletableFuture()
			.exceptionallyCompose(ex -> (unwrap(ex) instanceof RedisNoScriptException)
					? commands.<T>eval(script.source(), type, keys, args).toCompletableFuture()
					: CompletableFuture.failedFuture(unwrap(ex)));
	}

	private <T> T execute(String operation,
			Function<RedisClusterAsyncCommands<byte[], byte[]>, CompletableFuture<T>> action) {
		long started = System.nanoTime();
		boolean failed = true;
		try {
			T result = await(withCommands(action));
			failed = false;
			return result;
		}
		finally {
			this.listener.onOperation(operation, System.nanoTime() - started, failed);
		}
	}

	private <T> CompletableFuture<T> executeAsync(String operation,
			Function<RedisClusterAsyncCommands<byte[], byte[]>, CompletableFuture<T>> action) {
		long started = System.nanoTime();
		CompletableFuture<T> future;
		try {
			future = withCommands(action).orTimeout(this.timeout.toMillis(), TimeUnit.MILLISECONDS)
				.exceptionallyCompose(ex -> CompletableFuture.failedFuture(translate(unwrap(ex))));
		}
		catch (RuntimeException ex) {
			future = CompletableFuture.failedFuture(ex);
		}
		return future.whenComplete((result, ex) -> this.listener.onOperation(operation, System.nanoTime() - started,
				ex != null));
	}

	/**
	 * Apply the action to the asynchronous commands of the connection the writer uses, resolved once
	 * and again only when it was closed (the factory was stopped or reset). That is the factory's
	 * shared native connection; without one (a factory with {@code shareNativeConnection=false},
	 * pooled or not), a connection of the factory that the writer keeps for itself, so that the replies
	 * of its asynchronous commands always arrive on an open connection, and a dedicated connection is
	 * not opened per command. Lettuce reconnects either by itself when Redis comes back.
	 */
	private <T> CompletableFuture<T> withCommands(
			Function<RedisClusterAsyncCommands<byte[], byte[]>, CompletableFuture<T>> action) {
		RedisClusterAsyncCommands<byte[], byte[]> commands = this.sharedCommands;
		if (commands == null || !commands.isOpen()) {
			commands = resolveCommands();
		}
		return action.apply(commands);
	}

	private synchronized RedisClusterAsyncCommands<byte[], byte[]> resolveCommands() {
		RedisClusterAsyncCommands<byte[], byte[]> commands = this.sharedCommands;
		if (commands != null && commands.isOpen()) {
			return commands;
		}
		closeOwnConnection();
		RedisConnection connection = this.connectionFactory.getConnection();
		try {
			commands = nativeCommands(connection);
		}
		catch (RuntimeException ex) {
			connection.close();
			throw ex;
		}
		if (this.connectionFactory.getShareNativeConnection()) {
			// closing the wrapper leaves the shared native connection open
			connection.close();
		}
		else {
			this.ownConnection = connection;
		}
		this.sharedCommands = commands;
		return commands;
	}

	/** Close the connection the writer kept for itself, if any (when the manager stops). */
	synchronized void close() {
		closeOwnConnection();
		this.sharedCommands = null;
	}

	private void closeOwnConnection() {
		RedisConnection own = this.ownConnection;
		this.ownConnection = null;
		if (own != null) {
			try {
				own.close();
			}
			catch (RuntimeException ex) {
				// already closed with its factory
			}
		}
	}

	@SuppressWarnings("unchecked")
	private static RedisClusterAsyncCommands<byte[], byte[]> nativeCommands(RedisConnection connection) {
		return ((LettuceConnection) connection).getNativeConnection();
	}

	private <T> T await(CompletableFuture<T> future) {
		try {
			return future.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			future.cancel(true);
			throw new RedisSystemException("Interrupted while waiting for Redis", ex);
		}
		catch (TimeoutException ex) {
			future.cancel(true);
			throw new QueryTimeoutException("Redis did not answer within " + this.timeout, ex);
		}
		catch (ExecutionException ex) {
			throw translate(unwrap(ex));
		}
	}

	private static Throwable unwrap(Throwable ex) {
		Throwable cause = ex;
		while ((cause instanceof ExecutionException || cause instanceof CompletionException)
				&& cause.getCause() != null) {
			cause = cause.getCause();
		}
		return cause;
	}

	private static RuntimeException translate(Throwable ex) {
		if (ex instanceof DataAccessException dataAccess) {
			return dataAccess;
		}
		if (ex instanceof io.lettuce.core.RedisCommandTimeoutException || ex instanceof TimeoutException) {
			return new QueryTimeoutException("Redis did not answer in time: " + ex.getMessage(), ex);
		}
		if (ex instanceof io.lettuce.core.RedisConnectionException) {
			return new RedisConnectionFailureException("Cannot reach Redis: " + ex.getMessage(), ex);
		}
		if (ex instanceof io.lettuce.core.RedisCommandExecutionException && !(ex instanceof RedisNoScriptException)
				&& !isUnavailable(ex.getMessage())) {
			return new InvalidDataAccessResourceUsageException("Redis refused the command: " + ex.getMessage(), ex);
		}
		if (ex instanceof RuntimeException runtime && !(ex instanceof io.lettuce.core.RedisException)) {
			// not Redis failing: e.g. an entry that is not in tagcache's format, reported as such
			return runtime;
		}
		return new RedisSystemException("Redis command failed: " + ex.getMessage(), ex);
	}

	/**
	 * Whether an error reply says that Redis cannot serve for now (out of memory, busy with a script,
	 * loading, a replica or a cluster without its master, ...), as opposed to refusing this command
	 * (a key of the wrong type, a script error, a missing permission), which a retry would not fix.
	 * Inside a script the code follows the script's own prefix.
	 */
	static boolean isUnavailable(@Nullable String error) {
		return error != null && UNAVAILABLE.matcher(error).find();
	}

	private byte[] retentionMicros() {
		return number(this.fenceRetention.toNanos() / 1000);
	}

	private static byte[] number(long value) {
		return Long.toString(value).getBytes(StandardCharsets.US_ASCII);
	}

}
