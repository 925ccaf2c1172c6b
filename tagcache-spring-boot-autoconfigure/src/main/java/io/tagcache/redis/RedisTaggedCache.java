package io.tagcache.redis;

import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import io.tagcache.AsyncTaggedLoader;
import io.tagcache.LoadCallbacks;
import io.tagcache.Loaded;
import io.tagcache.TaggedCache;
import io.tagcache.TaggedLoader;
import io.tagcache.TaggedCacheStatistics;
import io.tagcache.UncachedCause;
import io.tagcache.ValueRefusedException;
import io.tagcache.redis.JsonValueSerializer.DisallowedTypeException;
import io.tagcache.redis.RedisTaggedCacheWriter.PutMode;
import io.tagcache.redis.RedisTaggedCacheWriter.PutResult;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.cache.support.NullValue;
import org.springframework.cache.support.SimpleValueWrapper;

/**
 * A {@link TaggedCache} stored in Redis.
 *
 * <p>Design notes:
 * <ul>
 * <li><b>Hits</b> are one {@code GET} of the entry string (a header line, then the JSON). The value is
 * read in place as the caller's type where one is given, otherwise as the allow-listed type hint
 * stored in the header.</li>
 * <li><b>Writes</b> are one script that writes the value, its tag list and every tag-index record
 * together, so no entry ever exists that its tags cannot reach. Loads ({@link #get(Object, Callable)},
 * the annotations) are fenced: the cache's generation is read on the miss, before the loader runs,
 * and the write is refused if any of the entry's tags, its key or the whole cache was invalidated
 * since (the stale-set race).</li>
 * <li><b>Single flight</b>: concurrent {@code get(key, loader)} calls for one key in this JVM share
 * one loader call; the others wait for its result.</li>
 * <li><b>Redis is a cache, not a dependency</b>: a failed read is a miss and a failed write is
 * skipped; both are counted and logged once per burst, and after repeated failures calls skip
 * Redis for a cool-down. Evictions, {@code clear} and invalidations that cannot reach Redis are
 * queued and replayed before Redis serves this instance again; see {@link RedisOutageGuard}.</li>
 * <li><b>Never a working call turned into an error</b>: the writes of Spring's {@code Cache}
 * contract ({@code put(key, value)}, {@code putIfAbsent}, {@code get(key, loader)}, used by
 * {@code @Cacheable}) are read back untyped. A value they could never read back (a type outside the
 * allow-list, or JSON Jackson cannot read back) is refused: counted, logged once per type, the
 * call unaffected. An entry of a disallowed type found by an untyped read is a miss. The tagged
 * writes ({@code put(key, value, tags)}, {@code putFenced}) are read back with the caller's type,
 * need no allow-list, and throw {@link ValueRefusedException} for what they refuse.</li>
 * </ul>
 */
public final class RedisTaggedCache implements TaggedCache {

	private static final Log logger = LogFactory.getLog(RedisTaggedCache.class);

	private final String name;

	private final List<CacheKeyspace> keyspaces;

	private final RedisTaggedCacheConfiguration configuration;

	private final RedisTaggedCacheManager manager;

	private final RedisTaggedCacheWriter writer;

	private final JsonValueSerializer serializer;

	private final CacheKeyConverter keyConverter;

	private final RedisOutageGuard guard;

	private final CacheCounters counters = new CacheCounters();

	private final ConcurrentMap<String, Load> loads = new ConcurrentHashMap<>();

	private volatile boolean registered;

	private final AtomicBoolean shardMismatchWarned = new AtomicBoolean();

	RedisTaggedCache(String name, RedisTaggedCacheConfiguration configuration, RedisTaggedCacheManager manager) {
		TagRules.validateCacheName(name);
		this.name = name;
		this.configuration = configuration;
		this.manager = manager;
		this.keyspaces = IntStream.range(0, configuration.getShards())
			.mapToObj(shard -> new CacheKeyspace(manager.getKeyPrefix(), name, shard))
			.toList();
		this.writer = manager.writer();
		this.serializer = manager.serializer();
		this.keyConverter = manager.keyConverter();
		this.guard = manager.guard();
	}

	@Override
	public String getName() {
		return this.name;
	}

	/** Returns the manager that created this cache. */
	@Override
	public RedisTaggedCacheManager getNativeCache() {
		return this.manager;
	}

	/** Returns the cache's settings. */
	public RedisTaggedCacheConfiguration getConfiguration() {
		return this.configuration;
	}

	@Override
	public TaggedCacheStatistics getStatistics() {
		return this.counters;
	}

	/** The keys of each shard; one for a cache in one hash slot. */
	List<CacheKeyspace> keyspaces() {
		return this.keyspaces;
	}

	/** The shard of a key: stable across JVMs, as {@link String#hashCode()} is specified. */
	CacheKeyspace keyspaceOf(String redisKey) {
		return (this.keyspaces.size() == 1) ? this.keyspaces.get(0)
				: this.keyspaces.get(Math.floorMod(redisKey.hashCode(), this.keyspaces.size()));
	}

	CacheCounters counters() {
		return this.counters;
	}

	// Reads

	@Override
	public @Nullable ValueWrapper get(Object key) {
		return lookupEntry(redisKey(key), null);
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T> @Nullable T get(Object key, @Nullable Class<T> type) {
		ValueWrapper wrapper = lookupEntry(redisKey(key), type);
		return (wrapper != null) ? (T) wrapper.get() : null;
	}

	@Override
	public @Nullable ValueWrapper lookup(Object key, Type valueType) {
		return lookupEntry(redisKey(key), valueType);
	}

	@Override
	public CompletableFuture<@Nullable ValueWrapper> lookupAsync(Object key, Type valueType) {
		return lookupEntryAsync(redisKey(key), valueType);
	}

	@Override
	public @Nullable CompletableFuture<?> retrieve(Object key) {
		return lookupEntryAsync(redisKey(key), null)
			.thenApply(wrapper -> (wrapper != null && wrapper.get() != null) ? wrapper.get() : wrapper);
	}

	private @Nullable ValueWrapper lookupEntry(String key, @Nullable Type type) {
		return toWrapper(readStored(keyspaceOf(key), key), type);
	}

	/** Read an entry on the caller's thread; a failure is a miss (absorbed by the guard). */
	private @Nullable StoredEntry readStored(CacheKeyspace keyspace, String key) {
		return this.guard.call("get", this.name, this.counters, () -> this.writer.read(keyspace, key), () -> null);
	}

	private CompletableFuture<@Nullable ValueWrapper> lookupEntryAsync(String key, @Nullable Type type) {
		return this.guard.callAsync("get", this.name, this.counters, () -> this.writer.readAsync(keyspaceOf(key), key))
			.thenApply(entry -> toWrapper(entry, type));
	}

	private @Nullable ValueWrapper toWrapper(@Nullable StoredEntry entry, @Nullable Type type) {
		ValueWrapper value = (entry != null) ? toValue(entry, type) : null;
		if (value == null) {
			this.counters.misses.increment();
			return null;
		}
		this.counters.hits.increment();
		return value;
	}

	/** The entry's value; {@code null} (a miss) for an untyped read of a type outside the allow-list. */
	private @Nullable ValueWrapper toValue(StoredEntry entry, @Nullable Type type) {
		if (entry.isNull()) {
			return new SimpleValueWrapper(null);
		}
		if (type != null) {
			return new SimpleValueWrapper(this.serializer.deserialize(entry.bytes(), entry.valueOffset(),
					entry.valueLength(), type, this.name));
		}
		try {
			return new SimpleValueWrapper(this.serializer.deserialize(entry.bytes(), entry.valueOffset(),
					entry.valueLength(), entry.typeHint(), this.name));
		}
		catch (DisallowedTypeException ex) {
			this.manager.refusedValues()
				.refused(UncachedCause.DISALLOWED_TYPE, ex.className, ex.getMessage() + "; reading it as a miss");
			return null;
		}
	}

	// Loads: one path for Cache.get(key, Callable), retrieve(key, Supplier) and the annotations

	@Override
	@SuppressWarnings("unchecked")
	public <T> @Nullable T get(Object key, Callable<T> valueLoader) {
		return get(key, null, true, new TaggedLoader<T>() {

			@Override
			public Loaded<T> load() throws Exception {
				return loadedUntagged(valueLoader.call());
			}

		});
	}

	@Override
	public <T> CompletableFuture<T> retrieve(Object key, Supplier<CompletableFuture<T>> valueLoader) {
		return retrieve(key, null, true, () -> valueLoader.get().thenApply(this::loadedUntagged));
	}

	/** A value of Spring's {@code Cache} contract: stored without tags, a {@code null} only if the cache stores them. */
	private <T> Loaded<T> loadedUntagged(@Nullable T value) {
		return (value != null || this.configuration.isCacheNullValues()) ? Loaded.of(value, List.of())
				: Loaded.uncached(null);
	}

	@Override
	@SuppressWarnings("unchecked")
	public <T> @Nullable T get(Object key, @Nullable Type valueType, boolean sync, TaggedLoader<T> loader) {
		Callable<Loaded<T>> call = loader::load;
		Supplier<CompletableFuture<Loaded<T>>> invoke = () -> {
			try {
				return CompletableFuture.completedFuture(call.call());
			}
			catch (Exception ex) {
				return CompletableFuture.failedFuture(new ValueRetrievalException(key, call, ex));
			}
		};
		CompletableFuture<@Nullable T> value = load(new LoadRequest<>(key, redisKey(key), valueType, sync, loader,
				Thread.currentThread()), this.blocking, invoke);
		// every step ran on this thread, a shared load's waiting included: the future is complete
		try {
			return value.join();
		}
		catch (CompletionException ex) {
			Throwable cause = (ex.getCause() != null) ? ex.getCause() : ex;
			if (cause instanceof RuntimeException runtime) {
				throw runtime;
			}
			if (cause instanceof Error error) {
				throw error;
			}
			throw ex;
		}
	}

	@Override
	public <T> CompletableFuture<@Nullable T> retrieve(Object key, @Nullable Type valueType, boolean sync,
			AsyncTaggedLoader<T> loader) {
		Supplier<CompletableFuture<Loaded<T>>> invoke = () -> {
			try {
				return loader.load();
			}
			catch (RuntimeException ex) {
				return CompletableFuture.failedFuture(ex);
			}
		};
		return load(new LoadRequest<>(key, redisKey(key), valueType, sync, loader, null), this.nonBlocking, invoke);
	}

	/**
	 * One call of the load path.
	 * @param owner the thread that waits for the load (blocking calls), {@code null} for non-blocking ones
	 */
	private record LoadRequest<T>(Object key, String redisKey, @Nullable Type valueType, boolean sync,
			LoadCallbacks callbacks, @Nullable Thread owner) {

		boolean untyped() {
			return this.valueType == null;
		}

	}

	/**
	 * The load path: a hit returns the stored value; a miss reads the fence, then (with {@code sync})
	 * joins a running load of the key or leads one, calls the loader and stores its value, fenced. The
	 * same steps serve blocking and non-blocking callers; {@code io} reaches Redis either on the
	 * caller's thread (every future is complete when returned) or asynchronously.
	 */
	private <T> CompletableFuture<@Nullable T> load(LoadRequest<T> request, Io io,
			Supplier<CompletableFuture<Loaded<T>>> invoke) {
		CacheKeyspace keyspace = keyspaceOf(request.redisKey());
		return io.read(keyspace, request.redisKey()).thenCompose(entry -> {
			ValueWrapper hit = readEntry(entry, request, true);
			if (hit != null) {
				return completed(hit);
			}
			// The fence first: it decides whether a running load is recent enough to join.
			return io.fence(keyspace)
				.thenCompose(fence -> request.sync() ? loadOnce(request, keyspace, fence, io, invoke)
						: loadAndStore(request, fence, io, invoke));
		});
	}

	@SuppressWarnings("unchecked")
	private static <T> CompletableFuture<@Nullable T> completed(ValueWrapper wrapper) {
		return CompletableFuture.completedFuture((T) wrapper.get());
	}

	/**
	 * Single flight: lead the key's load, or wait for a running one whose fence is at least the
	 * caller's (see {@link #joinOrLead}). The leader looks the entry up once more (uncounted): a load
	 * that finished between its miss and its registration stored it.
	 */
	@SuppressWarnings("unchecked")
	private <T> CompletableFuture<@Nullable T> loadOnce(LoadRequest<T> request, CacheKeyspace keyspace, long fence,
			Io io, Supplier<CompletableFuture<Loaded<T>>> invoke) {
		Load load = new Load(request.owner(), fence);
		Load running = joinOrLead(request.redisKey(), load);
		if (running != null) {
			if (running.owner != null && running.owner == request.owner()) {
				return CompletableFuture.failedFuture(new IllegalStateException("Recursive load of key '"
						+ request.key() + "' in cache '" + this.name + "': the loader asked the cache for the key it "
						+ "is loading"));
			}
			return running.result.thenApply(value -> (T) value);
		}
		CompletableFuture<@Nullable T> value;
		try {
			value = io.read(keyspace, request.redisKey()).thenCompose(entry -> {
				ValueWrapper stored = readEntry(entry, request, false);
				return (stored != null) ? completed(stored) : loadAndStore(request, fence, io, invoke);
			});
		}
		catch (RuntimeException | Error ex) {
			value = CompletableFuture.failedFuture(ex);
		}
		return value.whenComplete((loaded, ex) -> {
			this.loads.remove(request.redisKey(), load);
			if (ex != null) {
				load.result.completeExceptionally((ex instanceof CompletionException && ex.getCause() != null)
						? ex.getCause() : ex);
			}
			else {
				load.result.complete(loaded);
			}
		});
	}

	/** Call the loader and store what it returns, fenced; the value is returned once it is stored or refused. */
	private <T> CompletableFuture<@Nullable T> loadAndStore(LoadRequest<T> request, long fence, Io io,
			Supplier<CompletableFuture<Loaded<T>>> invoke) {
		return invoke.get().thenCompose(loaded -> store(request, loaded, fence, io).thenApply(stored -> loaded.value()));
	}

	private CompletableFuture<Boolean> store(LoadRequest<?> request, Loaded<?> loaded, long fence, Io io) {
		if (!loaded.isStored()) {
			return CompletableFuture.completedFuture(false);
		}
		Serialized serialized;
		List<String> tags;
		try {
			tags = validTags(loaded.tags());
			serialized = serialize(loaded.value(), request.untyped());
		}
		catch (ValueRefusedException ex) {
			request.callbacks().refused(ex);
			return CompletableFuture.completedFuture(false);
		}
		if (serialized == null || !mayStoreLoad(fence)) {
			return CompletableFuture.completedFuture(false);
		}
		return io.put(request.redisKey(), serialized, tags, timeToLive(loaded.timeToLive()), PutMode.fenced(fence))
			.thenApply(result -> result != null && result.written());
	}

	/**
	 * Whether a load fenced at {@code fence} may be stored: not when its fence is unknown (the read
	 * failed, which counted as an error already), nor inside a transaction that invalidated (the value
	 * may be its own uncommitted data).
	 */
	private boolean mayStoreLoad(long fence) {
		if (fence == UNKNOWN_FENCE) {
			return false;
		}
		if (this.manager.isInsideInvalidatingTransaction()) {
			this.counters.rejectedPuts.increment();
			return false;
		}
		return true;
	}

	/**
	 * The value of an entry read by the load path; counted as a hit or a miss when {@code counted}
	 * (the leader's second look is not). An entry that cannot be read as the requested type is a miss,
	 * after the loader was told.
	 */
	private @Nullable ValueWrapper readEntry(@Nullable StoredEntry entry, LoadRequest<?> request, boolean counted) {
		ValueWrapper value = null;
		if (entry != null) {
			try {
				value = toValue(entry, request.valueType());
			}
			catch (IllegalStateException ex) {
				request.callbacks().unreadable(ex);
			}
		}
		if (counted) {
			((value != null) ? this.counters.hits : this.counters.misses).increment();
		}
		return value;
	}

	/**
	 * Register the load as the key's running load, or find a running load to wait for. A running load
	 * is joined only if its fence is at least the caller's: no invalidation of the key's slot reached
	 * Redis between its fence read and the caller's, so it cannot return a value older than an
	 * invalidation acknowledged before the caller called. (An invalidation queued in this JVM makes
	 * every fence read unknown until it is replayed, and an unknown fence joins nothing.) Otherwise the
	 * caller's load replaces it for later callers, and the older one finishes for its own callers only.
	 * @return the running load to wait for, or {@code null} when the caller's load runs
	 */
	private @Nullable Load joinOrLead(String redisKey, Load load) {
		while (true) {
			Load running = this.loads.putIfAbsent(redisKey, load);
			if (running == null) {
				return null;
			}
			if (running.isFreshFor(load.fence)) {
				return running;
			}
			if (this.loads.replace(redisKey, running, load)) {
				return null;
			}
		}
	}

	/**
	 * How the load path reaches Redis: {@link #blocking} on the caller's thread (each future is
	 * complete when returned), or {@link #nonBlocking}. Failures are absorbed by the outage guard:
	 * a failed read is a miss, a failed fence read {@link #UNKNOWN_FENCE}, a failed put {@code null}.
	 */
	private interface Io {

		CompletableFuture<@Nullable StoredEntry> read(CacheKeyspace keyspace, String redisKey);

		CompletableFuture<Long> fence(CacheKeyspace keyspace);

		CompletableFuture<@Nullable PutResult> put(String redisKey, Serialized serialized, List<String> tags,
				Duration timeToLive, PutMode mode);

	}

	private final Io blocking = new Io() {

		@Override
		public CompletableFuture<@Nullable StoredEntry> read(CacheKeyspace keyspace, String redisKey) {
			return CompletableFuture.completedFuture(readStored(keyspace, redisKey));
		}

		@Override
		public CompletableFuture<Long> fence(CacheKeyspace keyspace) {
			return CompletableFuture.completedFuture(readFence(keyspace));
		}

		@Override
		public CompletableFuture<@Nullable PutResult> put(String redisKey, Serialized serialized, List<String> tags,
				Duration timeToLive, PutMode mode) {
			return CompletableFuture.completedFuture(write(redisKey, serialized, tags, timeToLive, mode));
		}

	};

	private final Io nonBlocking = new Io() {

		@Override
		public CompletableFuture<@Nullable StoredEntry> read(CacheKeyspace keyspace, String redisKey) {
			return RedisTaggedCache.this.guard.callAsync("get", RedisTaggedCache.this.name,
					RedisTaggedCache.this.counters, () -> RedisTaggedCache.this.writer.readAsync(keyspace, redisKey));
		}

		@Override
		public CompletableFuture<Long> fence(CacheKeyspace keyspace) {
			return readFenceAsync(keyspace);
		}

		@Override
		public CompletableFuture<@Nullable PutResult> put(String redisKey, Serialized serialized, List<String> tags,
				Duration timeToLive, PutMode mode) {
			return writeAsync(redisKey, serialized, tags, timeToLive, mode);
		}

	};

	@Override
	public long readFence(Object key) {
		String redisKey = redisKey(key);
		return readFence(keyspaceOf(redisKey));
	}

	@Override
	public CompletableFuture<Long> readFenceAsync(Object key) {
		String redisKey = redisKey(key);
		return readFenceAsync(keyspaceOf(redisKey));
	}

	/**
	 * Read the generation of the key's slot, after registering the cache (so that an invalidation by
	 * any instance that starts after this read reaches the slot). No generation means the slot was
	 * never used or lost its data, and the registry may have lost the cache too: the cache registers
	 * again, then creates the slot's fence state (which refuses every fence read before the loss).
	 */
	private long readFence(CacheKeyspace keyspace) {
		return this.guard.call("fence", this.name, this.counters, () -> {
			ensureRegistered();
			long generation = this.writer.readGeneration(keyspace);
			if (generation == 0) {
				register();
				generation = this.writer.initFence(keyspace);
			}
			return generation;
		}, () -> UNKNOWN_FENCE);
	}

	private CompletableFuture<Long> readFenceAsync(CacheKeyspace keyspace) {
		return this.guard
			.callAsync("fence", this.name, this.counters, () -> ensureRegisteredAsync()
				.thenCompose(registered -> this.writer.readGenerationAsync(keyspace))
				.thenCompose(generation -> (generation != 0) ? CompletableFuture.completedFuture(generation)
						: registerAsync().thenCompose(registered -> this.writer.initFenceAsync(keyspace))))
			.thenApply(generation -> (generation != null) ? generation : UNKNOWN_FENCE);
	}

	// Writes

	@Override
	public void put(Object key, @Nullable Object value) {
		write(redisKey(key), value, List.of(), null, PutMode.ALWAYS, true);
	}

	@Override
	public void put(Object key, @Nullable Object value, Collection<String> tags) {
		write(redisKey(key), value, validTags(tags), null, PutMode.ALWAYS, false);
	}

	@Override
	public boolean putFenced(Object key, @Nullable Object value, Collection<String> tags,
			@Nullable Duration timeToLive, long fence) {
		List<String> valid = validTags(tags);
		if (!mayStoreLoad(fence)) {
			return false;
		}
		PutResult result = write(redisKey(key), value, valid, timeToLive, PutMode.fenced(fence), false);
		return result != null && result.written();
	}

	@Override
	public CompletableFuture<Boolean> putFencedAsync(Object key, @Nullable Object value, Collection<String> tags,
			@Nullable Duration timeToLive, long fence) {
		String redisKey = redisKey(key);
		List<String> valid = validTags(tags);
		Serialized serialized = serialize(value, false);
		if (serialized == null || !mayStoreLoad(fence)) {
			return CompletableFuture.completedFuture(false);
		}
		return writeAsync(redisKey, serialized, valid, timeToLive(timeToLive), PutMode.fenced(fence))
			.thenApply(result -> result != null && result.written());
	}

	private List<String> validTags(Collection<String> tags) {
		try {
			return TagRules.validateTags(tags, this.name);
		}
		catch (IllegalArgumentException ex) {
			throw new ValueRefusedException(UncachedCause.INVALID_TAG, ex.getMessage(), ex);
		}
	}

	private Duration timeToLive(@Nullable Duration timeToLive) {
		return (timeToLive != null) ? timeToLive : this.configuration.getTimeToLive();
	}

	@Override
	public @Nullable ValueWrapper putIfAbsent(Object key, @Nullable Object value) {
		PutResult result = write(redisKey(key), value, List.of(), null, PutMode.IF_ABSENT, true);
		if (result == null || result.existing() == null) {
			return null;
		}
		return toWrapper(result.existing(), null);
	}

	/**
	 * Serialize and write; returns {@code null} when Redis failed (absorbed) or the value was refused
	 * (counted).
	 * @param untypedReads whether the value will be read back untyped (Spring's {@code Cache} contract)
	 */
	private @Nullable PutResult write(String redisKey, @Nullable Object value, List<String> tags,
			@Nullable Duration timeToLive, PutMode mode, boolean untypedReads) {
		Serialized serialized = serialize(value, untypedReads);
		return (serialized != null) ? write(redisKey, serialized, tags, timeToLive(timeToLive), mode) : null;
	}

	/** Write on the caller's thread; returns {@code null} when Redis failed (absorbed). */
	private @Nullable PutResult write(String redisKey, Serialized serialized, List<String> tags, Duration timeToLive,
			PutMode mode) {
		PutResult result = this.guard.call("put", this.name, this.counters, () -> {
			ensureRegistered();
			PutResult written = this.writer.put(keyspaceOf(redisKey), redisKey, serialized.json(),
					serialized.typeHint(), timeToLive, tags, mode);
			if (written.fenceCreated()) {
				// the slot had lost its data, and the registry may have lost this cache with it
				register();
			}
			return written;
		}, () -> null);
		if (result != null) {
			count(result);
		}
		return result;
	}

	/** {@link #write(String, Serialized, List, Duration, PutMode)} without blocking. */
	private CompletableFuture<@Nullable PutResult> writeAsync(String redisKey, Serialized serialized, List<String> tags,
			Duration timeToLive, PutMode mode) {
		return this.guard
			.callAsync("put", this.name, this.counters, () -> ensureRegisteredAsync()
				.thenCompose(registered -> this.writer.putAsync(keyspaceOf(redisKey), redisKey, serialized.json(),
						serialized.typeHint(), timeToLive, tags, mode))
				.thenCompose(result -> result.fenceCreated() ? registerAsync().thenApply(registered -> result)
						: CompletableFuture.completedFuture(result)))
			.thenApply(result -> {
				if (result != null) {
					count(result);
				}
				return result;
			});
	}

	private void count(PutResult result) {
		if (result.written()) {
			this.counters.puts.increment();
		}
		else if (result.existing() == null) {
			this.counters.rejectedPuts.increment();
		}
	}

	private record Serialized(byte[] json, String typeHint) {
	}

	/**
	 * Serialize a value, or refuse one that could not be read back: for untyped reads, counted and
	 * logged once ({@code null} is returned); for typed ones, thrown.
	 * @throws ValueRefusedException for a {@code null} the cache does not store, a value not writable
	 * as JSON, or a refused value that will be read back typed
	 */
	private @Nullable Serialized serialize(@Nullable Object value, boolean untypedReads) {
		// Spring's value-adapting caches hand NullValue around for a cached null: store it as one
		if (value == null || value instanceof NullValue) {
			if (!this.configuration.isCacheNullValues()) {
				throw new ValueRefusedException(UncachedCause.NULL_NOT_CACHED, "Cache '" + this.name
						+ "' does not store null values; skip them with unless = \"#result == null\" or enable "
						+ "tagcache.cache-null-values", null);
			}
			return new Serialized(new byte[0], "");
		}
		byte[] json;
		try {
			json = this.serializer.serialize(value, this.name);
		}
		catch (IllegalArgumentException ex) {
			throw new ValueRefusedException(UncachedCause.NOT_SERIALIZABLE, ex.getMessage(), ex.getCause());
		}
		String typeHint = this.serializer.typeHint(value);
		String unreadable = this.serializer.unreadableReason(value);
		if (unreadable != null) {
			refuse(UncachedCause.NOT_READABLE, typeHint, "Cache '" + this.name + "' refused a value of type " + typeHint
					+ ": " + unreadable + "; stored, it would miss on every read. Make the class readable as JSON: "
					+ "a record, or getters with a no-argument or @JsonCreator constructor", untypedReads);
			return null;
		}
		if (untypedReads) {
			String disallowed = this.serializer.disallowedClass(typeHint);
			if (disallowed != null) {
				refuse(UncachedCause.DISALLOWED_TYPE, disallowed, "Cache '" + this.name + "' refused a value of type "
						+ typeHint + " from Spring's Cache contract (@Cacheable, put(key, value)): its untyped reads may "
						+ "not instantiate " + disallowed + ", so every read would fail. Add its package to "
						+ "tagcache.allowed-types (or RedisTaggedCacheManager.builder(...).allowedTypes(...)), or cache "
						+ "it with @CacheableTagged, which reads with the method's return type", true);
				return null;
			}
		}
		return new Serialized(json, typeHint);
	}

	private void refuse(UncachedCause cause, String type, String message, boolean untypedReads) {
		if (!untypedReads) {
			throw new ValueRefusedException(cause, message, null);
		}
		this.manager.refusedValues().refused(cause, type, message);
	}

	/**
	 * Registers the cache in the prefix's registry before its first fence read or write, so that
	 * invalidations from any instance reach it; a failed registration fails the call, and is retried
	 * with the next. It registers again whenever its slot turns out to have lost its data.
	 */
	private void ensureRegistered() {
		if (!this.registered) {
			register();
		}
	}

	private void register() {
		registered(this.writer.register(this.manager.getKeyPrefix(), this.name, this.keyspaces.size()));
	}

	private CompletableFuture<Integer> ensureRegisteredAsync() {
		return this.registered ? CompletableFuture.completedFuture(this.keyspaces.size()) : registerAsync();
	}

	private CompletableFuture<Integer> registerAsync() {
		return this.writer.registerAsync(this.manager.getKeyPrefix(), this.name, this.keyspaces.size())
			.thenApply(previous -> {
				registered(previous);
				return previous;
			});
	}

	private void registered(int previousShards) {
		this.registered = true;
		int shards = this.keyspaces.size();
		if (previousShards != 0 && previousShards != shards && this.shardMismatchWarned.compareAndSet(false, true)) {
			logger.warn("Cache '" + this.name + "' has " + shards + " shard(s) here but " + previousShards
					+ " in the registry of prefix '" + this.manager.getKeyPrefix() + "': another instance is "
					+ "configured differently. Invalidations cover every shard either uses, but this instance "
					+ "misses the entries the other writes: configure the same tagcache.caches." + this.name
					+ ".shards everywhere");
		}
	}

	// Removal

	@Override
	public void evict(Object key) {
		evictIfPresent(key);
	}

	@Override
	public boolean evictIfPresent(Object key) {
		String redisKey = redisKey(key);
		boolean removed = this.guard.invalidation("evict", this.name, this.counters,
				PendingInvalidations.eviction(this.name, redisKey), () -> this.writer.evict(keyspaceOf(redisKey), redisKey),
				false);
		if (removed) {
			this.counters.evictions.increment();
		}
		return removed;
	}

	@Override
	public void clear() {
		invalidate();
	}

	@Override
	public boolean invalidate() {
		long removed = this.guard.invalidation("clear", this.name, this.counters,
				PendingInvalidations.clear(this.name), this::clearShards, 0L);
		this.counters.evictions.add(removed);
		return removed > 0;
	}

	/**
	 * {@inheritDoc}
	 * <p>Inside a Spring transaction the tags are held until it completes, then invalidated again; see
	 * {@link RedisTaggedCacheManager#invalidate(Collection)}.
	 */
	@Override
	public long invalidateTags(Collection<String> tags) {
		List<String> valid = TagRules.validateTags(tags, this.name);
		return valid.isEmpty() ? 0 : this.manager.invalidate(this.name, valid, this);
	}

	long clearShards() {
		return this.manager.invalidationKeyspaces(this).stream().mapToLong(this.writer::clear).sum();
	}

	/**
	 * Count the cache's entries with {@code SCAN} (never {@code KEYS}); a diagnostic that walks
	 * the keyspace, not for hot paths.
	 * @return the number of entries
	 */
	public long countEntries() {
		return this.keyspaces.stream().mapToLong(keyspace -> this.writer.countEntries(keyspace)).sum();
	}

	/**
	 * Count the cache's tag indexes with {@code SCAN}; a diagnostic that walks the keyspace.
	 * @return the number of tags with at least one entry
	 */
	public long countTags() {
		return this.keyspaces.stream().mapToLong(keyspace -> this.writer.countTags(keyspace)).sum();
	}

	/**
	 * Count the live entries of this cache that carry the tag.
	 * @param tag the tag
	 * @return the number of entries
	 */
	public long countEntriesWithTag(String tag) {
		TagRules.validateTag(tag, this.name);
		return this.keyspaces.stream().mapToLong(keyspace -> this.writer.countTagged(keyspace, tag)).sum();
	}

	void recordInvalidation(long removed) {
		this.counters.invalidations.increment();
		this.counters.invalidatedEntries.add(removed);
	}

	// Support

	private String redisKey(@Nullable Object key) {
		if (key == null) {
			throw new IllegalArgumentException("Cache '" + this.name + "' does not accept a null key");
		}
		return this.keyConverter.convert(key, this.name);
	}

	@Override
	public String toString() {
		return "RedisTaggedCache[" + this.name + "]";
	}

	/** One running load of a key; other callers wait for its result instead of loading again. */
	private static final class Load {

		/** The thread that runs the load, for blocking loads: it must not wait for itself. */
		final @Nullable Thread owner;

		/** The fence the load read before it ran. */
		final long fence;

		final CompletableFuture<Object> result = new CompletableFuture<>();

		Load(@Nullable Thread owner, long fence) {
			this.owner = owner;
			this.fence = fence;
		}

		/** Whether a caller that read {@code callerFence} may take this load's value. */
		boolean isFreshFor(long callerFence) {
			return this.fence != UNKNOWN_FENCE && callerFence != UNKNOWN_FENCE && this.fence >= callerFence;
		}

	}

}
