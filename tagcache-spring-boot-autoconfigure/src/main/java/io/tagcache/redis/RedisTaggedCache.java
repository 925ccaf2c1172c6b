package io.tagcache.redis;

import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.DoubleSupplier;
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
import io.tagcache.redis.RedisTaggedCacheWriter.LeaseResult;
import io.tagcache.redis.RedisTaggedCacheWriter.NewEntry;
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
 * stored in the header. The header's fixed-width fields tell, without a script, whether the entry
 * expired (it may outlive its expiry for stale-if-error), was soft-invalidated, or is due for an
 * early refresh.</li>
 * <li><b>Writes</b> are one script that writes the value, its tag list and every tag-index record
 * together, so no entry ever exists that its tags cannot reach. Loads ({@link #get(Object, Callable)},
 * the annotations) are fenced: the cache's generation is read on the miss, before the loader runs,
 * and the write is refused if any of the entry's tags, its key or the whole cache was invalidated
 * since (the stale-set race).</li>
 * <li><b>One load path</b> ({@link #get(Object, Type, boolean, TaggedLoader)} and its non-blocking
 * twin) serves {@code get(key, Callable)}, {@code retrieve(key, Supplier)} and the annotations. With
 * {@code sync}, concurrent loads of a key in this JVM share one loader call, and its leader takes a
 * lease on the key in Redis, so one load runs across instances; early refreshes and reloads of
 * soft-invalidated entries take the same lease, and everyone else is served the entry meanwhile.</li>
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

	/** Uniform in [0, 1), for early refresh; a test seam. */
	private volatile DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

	private final AtomicBoolean shardMismatchWarned = new AtomicBoolean();

	/** Values kept in this JVM in front of Redis; {@code null} without a near cache. */
	private final @Nullable NearCache near;

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
		this.near = configuration.isNearCache() ? manager.openNearCache(this.keyspaces) : null;
		if (this.near != null) {
			this.counters.nearCache(this.near);
		}
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

	/** The near cache, {@code null} without. */
	@Nullable NearCache nearCache() {
		return this.near;
	}

	/**
	 * Whether the cache's near cache serves values: it has one, the subscription that tells it of other
	 * instances' changes is up (after a loss, once it is subscribed again), and its heartbeat confirmed
	 * lately that the messages published before were applied.
	 * @return whether near hits are possible now
	 */
	public boolean isNearCacheServing() {
		NearCache near = this.near;
		return near != null && near.isLive();
	}

	/** Test seam: the uniform random numbers early refresh draws, in [0, 1). */
	void random(DoubleSupplier random) {
		this.random = random;
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
		NearCache near = this.near;
		if (near == null) {
			return toWrapper(readStored(keyspaceOf(key), key), type);
		}
		NearCache.Entry kept = nearHit(near, key, type, 0);
		if (kept != null) {
			return new SimpleValueWrapper(kept.value());
		}
		long token = near.startRead();
		return toKeptWrapper(token, key, readStored(keyspaceOf(key), key), type);
	}

	/** The entry the near cache serves, counted as a hit; {@code null} on a near miss. */
	private NearCache.@Nullable Entry nearHit(NearCache near, String key, @Nullable Type type, double marginFactor) {
		NearCache.Entry kept = near.get(key, type, marginFactor);
		if (kept != null) {
			this.counters.hits.increment();
		}
		return kept;
	}

	/** A plain lookup's value read from Redis (see {@link #toWrapper}), kept in the near cache when it is one. */
	private @Nullable ValueWrapper toKeptWrapper(long token, String key, @Nullable StoredEntry entry,
			@Nullable Type type) {
		ValueWrapper value = toWrapper(entry, type);
		if (value != null && entry != null) {
			keep(token, key, value.get(), type, entry);
		}
		return value;
	}

	/** Keep a fresh entry read from Redis in the near cache, unless anything was dropped since the read started. */
	private void keep(long token, String key, @Nullable Object value, @Nullable Type type, StoredEntry entry) {
		NearCache near = this.near;
		if (near != null && token != NearCache.NOT_SERVING) {
			near.put(token, key, value, type, entry.expiresAt(), entry.loadMillis(), entry.tags());
		}
	}

	/** Read an entry on the caller's thread; a failure is a miss (absorbed by the guard). */
	private @Nullable StoredEntry readStored(CacheKeyspace keyspace, String key) {
		return this.guard.call("get", this.name, this.counters, () -> this.writer.read(keyspace, key), () -> null);
	}

	private CompletableFuture<@Nullable ValueWrapper> lookupEntryAsync(String key, @Nullable Type type) {
		NearCache near = this.near;
		long token = NearCache.NOT_SERVING;
		if (near != null) {
			NearCache.Entry kept = nearHit(near, key, type, 0);
			if (kept != null) {
				return CompletableFuture.completedFuture(new SimpleValueWrapper(kept.value()));
			}
			token = near.startRead();
		}
		long read = token;
		return this.guard.callAsync("get", this.name, this.counters, () -> this.writer.readAsync(keyspaceOf(key), key))
			.thenApply(entry -> toKeptWrapper(read, key, entry, type));
	}

	/** A plain lookup's value: a stale entry (expired, kept for stale-if-error, or soft-invalidated) is a miss. */
	private @Nullable ValueWrapper toWrapper(@Nullable StoredEntry entry, @Nullable Type type) {
		ValueWrapper value = (entry != null && isFresh(entry, this.writer.currentTimeMillis())) ? toValue(entry, type)
				: null;
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
				Thread.currentThread(), this.blocking, invoke, NearCache.NOT_SERVING));
		// Redis was reached and the loader called on this thread; what is left is waiting for a load
		// another caller runs (single flight)
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
		return load(new LoadRequest<>(key, redisKey(key), valueType, sync, loader, null, this.nonBlocking, invoke,
				NearCache.NOT_SERVING));
	}

	/**
	 * One call of the load path.
	 * @param owner the thread that waits for the load (blocking calls), {@code null} for non-blocking ones
	 * @param io how Redis is reached: on the caller's thread, or without blocking
	 * @param invoke calls the loader, timing it
	 * @param nearToken the near cache's token of the read from Redis ({@link NearCache#startRead()})
	 * @param served the tags of the value the call returns, once known (for callers that join its load)
	 */
	private record LoadRequest<T>(Object key, String redisKey, @Nullable Type valueType, boolean sync,
			LoadCallbacks callbacks, @Nullable Thread owner, Io io, Supplier<CompletableFuture<Loaded<T>>> invoke,
			long nearToken, Served served) {

		LoadRequest(Object key, String redisKey, @Nullable Type valueType, boolean sync, LoadCallbacks callbacks,
				@Nullable Thread owner, Io io, Supplier<CompletableFuture<Loaded<T>>> invoke, long nearToken) {
			this(key, redisKey, valueType, sync, callbacks, owner, io, invoke, nearToken, new Served());
		}

		boolean untyped() {
			return this.valueType == null;
		}

		LoadRequest<T> withNearToken(long token) {
			return new LoadRequest<>(this.key, this.redisKey, this.valueType, this.sync, this.callbacks, this.owner,
					this.io, this.invoke, token, this.served);
		}

	}

	/** An entry the load path found, and its value. */
	private record Found(StoredEntry entry, @Nullable Object value) {

	}

	/**
	 * The load path. A fresh entry is a hit, and may be refreshed early (XFetch) by the caller that
	 * wins the key's lease; a soft-invalidated one is served stale while the caller that wins the lease
	 * reloads it. Anything else is a miss: the fence is read, then (with {@code sync}) the caller joins
	 * a running load of the key or leads one, which takes the key's lease across instances, calls the
	 * loader and stores its value, fenced. When the loader throws, an entry that became stale shortly
	 * before (stale-if-error) is returned instead.
	 */
	@SuppressWarnings("unchecked")
	private <T> CompletableFuture<@Nullable T> load(LoadRequest<T> call) {
		LoadRequest<T> request = call;
		NearCache near = this.near;
		if (near != null) {
			// within the window of early refresh an entry is Redis's to decide about
			NearCache.Entry kept = nearHit(near, call.redisKey(), call.valueType(),
					this.configuration.getEarlyRefreshBeta() * MAX_XFETCH_FACTOR);
			if (kept != null) {
				served(call, kept.tags, false);
				return CompletableFuture.completedFuture((T) kept.value());
			}
			request = call.withNearToken(near.startRead());
		}
		return loadFromRedis(request);
	}

	private <T> CompletableFuture<@Nullable T> loadFromRedis(LoadRequest<T> request) {
		CacheKeyspace keyspace = keyspaceOf(request.redisKey());
		return request.io().read(keyspace, request.redisKey()).thenCompose(entry -> {
			long now = this.writer.currentTimeMillis();
			Found found = readEntry(entry, request);
			if (found != null && isFresh(found.entry(), now)) {
				if (refreshesEarly(found.entry(), now)) {
					return refresh(request, keyspace, found, false);
				}
				this.counters.hits.increment();
				keep(request.nearToken(), request.redisKey(), found.value(), request.valueType(), found.entry());
				return CompletableFuture.completedFuture(serve(request, found, false));
			}
			if (found != null && found.entry().isSoftInvalidated() && now < found.entry().softInvalidatedAt()
					+ this.configuration.getStaleWhileRevalidate().toMillis()) {
				return refresh(request, keyspace, found, true);
			}
			this.counters.misses.increment();
			Found stale = (found != null && isStaleIfError(found.entry(), now)) ? found : null;
			// The fence first: it decides whether a running load is recent enough to join.
			return request.io()
				.fence(keyspace)
				.thenCompose(fence -> request.sync() ? loadOnce(request, keyspace, fence, stale)
						: loadAndStore(request, fence, stale));
		});
	}

	/**
	 * The value of an entry the call returns, its tags reported to the caller (read from the entry only
	 * when someone wants them: not on every hit).
	 * @param stale whether the entry is served stale (soft-invalidated or expired)
	 */
	@SuppressWarnings("unchecked")
	private <T> @Nullable T serve(LoadRequest<?> request, Found found, boolean stale) {
		request.served().set(found.entry(), null, stale);
		report(request, request.served());
		return (T) found.value();
	}

	/** Report the tags of a value the call returns, known already (see {@link LoadCallbacks#served}). */
	private static void served(LoadRequest<?> request, List<String> tags, boolean stale) {
		request.served().set(null, tags, stale);
		report(request, request.served());
	}

	/** Tell the caller the tags of what it gets, if it wants them (see {@link LoadCallbacks#wantsServedTags()}). */
	private static void report(LoadRequest<?> request, Served served) {
		List<String> tags;
		if (request.callbacks().wantsServedTags() && (tags = served.tags()) != null) {
			request.callbacks().served(tags, served.stale);
		}
	}

	/** Whether an entry is served as is: neither expired nor soft-invalidated. */
	private static boolean isFresh(StoredEntry entry, long now) {
		return !entry.isSoftInvalidated() && !entry.isExpiredAt(now);
	}

	/** Whether a stale entry may still be returned when its reload throws. */
	private boolean isStaleIfError(StoredEntry entry, long now) {
		long window = this.configuration.getStaleIfError().toMillis();
		return window > 0 && entry.staleSince() != 0 && now < entry.staleSince() + window;
	}

	/**
	 * XFetch (Vattani, Chierichetti, Lowenstein, PVLDB 2015): refresh when {@code now - delta * beta *
	 * ln(u)} reaches the expiry, {@code delta} the time the last load took and {@code u} uniform in
	 * (0, 1]; the probability grows as expiry nears, sooner for slow loads and a larger beta.
	 */
	private boolean refreshesEarly(StoredEntry entry, long now) {
		double beta = this.configuration.getEarlyRefreshBeta();
		if (beta <= 0 || entry.expiresAt() == 0 || entry.loadMillis() == 0) {
			return false;
		}
		// -ln(u) is at most 53 ln 2 for a double u in (0, 1]: most hits are further from expiry than any
		// draw could reach, and skip the draw
		double widest = entry.loadMillis() * beta * MAX_XFETCH_FACTOR;
		if (now + widest < entry.expiresAt()) {
			return false;
		}
		double gap = -entry.loadMillis() * beta * Math.log(1 - this.random.getAsDouble());
		return now + gap >= entry.expiresAt();
	}

	/**
	 * Reload an entry that is still served: the caller that takes the key's lease loads (its fence read
	 * first) and stores, counted as a miss; every other caller, here or in another instance, gets the
	 * entry's value, a hit. A refresh near expiry that fails returns the value the entry still holds; a
	 * reload of a soft-invalidated entry that fails returns it only within stale-if-error.
	 */
	private <T> CompletableFuture<@Nullable T> refresh(LoadRequest<T> request, CacheKeyspace keyspace, Found found,
			boolean stale) {
		// the fence before the lease: the lease carries it, so that a caller missing meanwhile (the entry
		// expired while the refresh runs) waits for the refresh unless an invalidation came in between
		return request.io().fence(keyspace).thenCompose(fence -> refresh(request, keyspace, found, stale, fence));
	}

	private <T> CompletableFuture<@Nullable T> refresh(LoadRequest<T> request, CacheKeyspace keyspace, Found found,
			boolean stale, long fence) {
		if (fence == UNKNOWN_FENCE) {
			// nothing could be stored: serve the entry
			this.counters.hits.increment();
			return CompletableFuture.completedFuture(serve(request, found, stale));
		}
		String token = holder(fence);
		// a stale entry may have been reloaded since it was read: then the lease script returns it
		return request.io().lease(keyspace, request.redisKey(), token, stale).thenCompose(lease -> {
			Found reloaded = (lease != null && lease.entry() != null) ? readEntry(lease.entry(), request) : null;
			if (reloaded != null) {
				this.counters.hits.increment();
				return CompletableFuture.completedFuture(serve(request, reloaded, false));
			}
			if (lease == null || !lease.acquired()) {
				// served from the cache: a hit
				this.counters.hits.increment();
				if (stale) {
					this.counters.staleServedRevalidate.increment();
				}
				return CompletableFuture.completedFuture(serve(request, found, stale));
			}
			// the caller waits for the loader: a miss, as for Spring's cache meters a newly loaded value is
			this.counters.misses.increment();
			(stale ? this.counters.staleRefreshes : this.counters.earlyRefreshes).increment();
			CompletableFuture<@Nullable T> loaded = loadAndStore(request, fence, stale ? found : null);
			return release(loaded, keyspace, request.redisKey(), token).exceptionallyCompose(ex -> {
				if (stale) {
					return CompletableFuture.failedFuture(ex);
				}
				logger.debug("Early refresh of key '" + request.redisKey() + "' in cache '" + this.name
						+ "' failed; the entry is served until it expires", ex);
				return CompletableFuture.completedFuture(serve(request, found, false));
			});
		});
	}

	/**
	 * A holder of a key's lease: the fence its load (or refresh) read, so that a load with a newer fence
	 * takes the lease over instead of waiting for it (see {@code lease.lua}), and an id.
	 */
	private static String holder(long fence) {
		return fence + ":" + UUID.randomUUID();
	}

	/** Give the lease back once the load completed, whatever its outcome; the load's result is kept. */
	private <T> CompletableFuture<T> release(CompletableFuture<T> load, CacheKeyspace keyspace, String redisKey,
			String token) {
		return load.whenComplete((value, ex) -> this.guard.callAsync("lease", this.name, this.counters,
				() -> this.writer.releaseLeaseAsync(keyspace, redisKey, token)));
	}

	/**
	 * Single flight in this JVM: lead the key's load, or wait for a running one whose fence is at least
	 * the caller's (see {@link #joinOrLead}). The leader then takes the key's lease across instances
	 * (see {@link #loadLeased}).
	 */
	@SuppressWarnings("unchecked")
	private <T> CompletableFuture<@Nullable T> loadOnce(LoadRequest<T> request, CacheKeyspace keyspace, long fence,
			@Nullable Found stale) {
		Load load = new Load(request.owner(), fence, request.served());
		Load running = joinOrLead(request.redisKey(), load);
		if (running != null) {
			if (running.owner != null && running.owner == request.owner()) {
				return CompletableFuture.failedFuture(new IllegalStateException("Recursive load of key '"
						+ request.key() + "' in cache '" + this.name + "': the loader asked the cache for the key it "
						+ "is loading"));
			}
			this.counters.syncWaits.increment();
			return running.result.thenApply(value -> {
				report(request, running.served);
				return (T) value;
			});
		}
		CompletableFuture<@Nullable T> value;
		try {
			value = loadLeased(request, keyspace, fence, stale, Duration.ofMillis(FIRST_LEASE_POLL_MILLIS),
					System.nanoTime() + this.manager.syncTimeout().toNanos());
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

	/** The largest {@code -ln(u)} for a {@code double} u in (0, 1]: 53 ln 2. */
	private static final double MAX_XFETCH_FACTOR = 53 * Math.log(2);

	/** The first wait before a load looks again for the value another instance is loading. */
	private static final long FIRST_LEASE_POLL_MILLIS = 5;

	/** The longest wait between two looks. */
	private static final long LAST_LEASE_POLL_MILLIS = 100;

	/**
	 * Single flight across instances: take the key's lease, or find its entry fresh (a load that
	 * finished between the miss and now stored it). The holder loads, stores and gives the lease
	 * back. Another instance's caller looks again (a blocking caller on its own thread, so that the
	 * loader still runs there) after a wait that grows from
	 * {@value #FIRST_LEASE_POLL_MILLIS} ms by half each time up to {@value #LAST_LEASE_POLL_MILLIS} ms
	 * (one caller per key and JVM: the others wait for it in this JVM), until it finds the entry, takes
	 * the lease (the holder gave it back without storing, or died and the lease expired), or the sync
	 * timeout passed: then it loads without the lease. A caller whose fence is newer than the holder's
	 * (an invalidation of the slot came in between) does not wait: it takes the lease over, as a
	 * caller in this JVM does not join an older load. A value found was stored by a load whose fence
	 * check held against every invalidation of its tags since it started, so it is fresh for this
	 * caller too. When Redis cannot be reached the caller loads on its own.
	 */
	private <T> CompletableFuture<@Nullable T> loadLeased(LoadRequest<T> request, CacheKeyspace keyspace, long fence,
			@Nullable Found stale, Duration poll, long deadline) {
		if (fence == UNKNOWN_FENCE) {
			// Redis could not be reached, or invalidations of this JVM wait for their replay: no lease
			return loadAndStore(request, fence, stale);
		}
		String token = holder(fence);
		boolean first = poll.toMillis() == FIRST_LEASE_POLL_MILLIS;
		return request.io().lease(keyspace, request.redisKey(), token, true).thenCompose(lease -> {
			if (lease == null) {
				return loadAndStore(request, fence, stale);
			}
			if (lease.entry() != null) {
				Found found = readEntry(lease.entry(), request);
				if (found != null) {
					if (!first) {
						this.counters.syncWaits.increment();
					}
					return CompletableFuture.completedFuture(serve(request, found, false));
				}
				// unreadable as the requested type: load and store it anew, without the lease
				return loadAndStore(request, fence, stale);
			}
			if (lease.acquired()) {
				return release(loadAndStore(request, fence, stale), keyspace, request.redisKey(), token);
			}
			if (System.nanoTime() - deadline >= 0) {
				return loadAndStore(request, fence, stale);
			}
			Duration next = Duration.ofMillis(Math.min(LAST_LEASE_POLL_MILLIS, poll.toMillis() * 3 / 2));
			return request.io()
				.delay(poll)
				.thenCompose(waited -> loadLeased(request, keyspace, fence, stale, next, deadline));
		});
	}

	/**
	 * Call the loader and store what it returns, fenced; the value is returned once it is stored or
	 * refused. When the loader throws and a stale entry may be served (stale-if-error), it is returned.
	 */
	private <T> CompletableFuture<@Nullable T> loadAndStore(LoadRequest<T> request, long fence,
			@Nullable Found stale) {
		long start = this.writer.currentTimeMillis();
		// a load costs at least a round trip: recorded as a millisecond at least, so early refresh has a delta
		CompletableFuture<@Nullable T> value = request.invoke().get().thenCompose(loaded -> store(request, loaded, fence,
				Duration.ofMillis(Math.max(1, this.writer.currentTimeMillis() - start))).thenApply(stored -> loaded.value()));
		if (stale == null) {
			return value;
		}
		return value.exceptionallyCompose(ex -> {
			if (!isStaleIfError(stale.entry(), this.writer.currentTimeMillis())) {
				return CompletableFuture.failedFuture(ex);
			}
			this.counters.staleServedError.increment();
			if (logger.isDebugEnabled()) {
				logger.debug("Reload of key '" + request.redisKey() + "' in cache '" + this.name
						+ "' failed; serving the stale entry (stale-if-error)", ex);
			}
			return CompletableFuture.completedFuture(serve(request, stale, true));
		});
	}

	private CompletableFuture<Boolean> store(LoadRequest<?> request, Loaded<?> loaded, long fence, Duration loadTime) {
		if (!loaded.isStored()) {
			return CompletableFuture.completedFuture(false);
		}
		Serialized serialized;
		List<String> tags;
		try {
			tags = validTags(loaded.tags());
			served(request, tags, false);
			serialized = serialize(loaded.value(), request.untyped());
		}
		catch (ValueRefusedException ex) {
			request.callbacks().refused(ex);
			return CompletableFuture.completedFuture(false);
		}
		if (serialized == null || !mayStoreLoad(fence)) {
			return CompletableFuture.completedFuture(false);
		}
		NewEntry entry = newEntry(serialized, tags, loaded.timeToLive(), loadTime);
		long storedAt = this.writer.currentTimeMillis();
		return request.io().put(request.redisKey(), entry, PutMode.fenced(fence)).thenApply(result -> {
			boolean written = result != null && result.written();
			NearCache near = this.near;
			if (written && near != null && request.nearToken() != NearCache.NOT_SERVING) {
				// the entry's expiry is at least this late: the writer stamps it after this instant
				long expiresAt = entry.timeToLive().isZero() ? 0 : storedAt + entry.timeToLive().toMillis();
				near.put(request.nearToken(), request.redisKey(), loaded.value(), request.valueType(), expiresAt,
						loadTime.toMillis(), tags);
			}
			return written;
		});
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
	 * The entry the load path found and its value; {@code null} when there is none, or when it cannot
	 * be read as the requested type (after the loader was told).
	 */
	private @Nullable Found readEntry(@Nullable StoredEntry entry, LoadRequest<?> request) {
		if (entry == null) {
			return null;
		}
		try {
			ValueWrapper value = toValue(entry, request.valueType());
			return (value != null) ? new Found(entry, value.get()) : null;
		}
		catch (IllegalStateException ex) {
			request.callbacks().unreadable(ex);
			return null;
		}
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
	 * a failed read is a miss, a failed fence read {@link #UNKNOWN_FENCE}, a failed put or lease
	 * {@code null}.
	 */
	private interface Io {

		CompletableFuture<@Nullable StoredEntry> read(CacheKeyspace keyspace, String redisKey);

		CompletableFuture<Long> fence(CacheKeyspace keyspace);

		CompletableFuture<@Nullable PutResult> put(String redisKey, NewEntry entry, PutMode mode);

		CompletableFuture<@Nullable LeaseResult> lease(CacheKeyspace keyspace, String redisKey, String token,
				boolean orFreshEntry);

		/** Completes after the delay: the blocking twin waits on the caller's thread, so that the steps after it run there. */
		CompletableFuture<Void> delay(Duration delay);

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
		public CompletableFuture<@Nullable PutResult> put(String redisKey, NewEntry entry, PutMode mode) {
			return CompletableFuture.completedFuture(write(redisKey, entry, mode));
		}

		@Override
		public CompletableFuture<@Nullable LeaseResult> lease(CacheKeyspace keyspace, String redisKey, String token,
				boolean orFreshEntry) {
			RedisTaggedCache cache = RedisTaggedCache.this;
			return CompletableFuture.completedFuture(cache.guard.call("lease", cache.name, cache.counters,
					() -> join(cache.writer.leaseAsync(keyspace, redisKey, token, cache.manager.syncTimeout(),
							orFreshEntry)),
					() -> null));
		}

		@Override
		public CompletableFuture<Void> delay(Duration delay) {
			RedisTaggedCache.this.manager.delay(delay).join();
			return CompletableFuture.completedFuture(null);
		}

	};

	/** Wait for a writer's future on the caller's thread; its failure is thrown as it is, for the guard. */
	private static <T> T join(CompletableFuture<T> future) {
		try {
			return future.join();
		}
		catch (CompletionException ex) {
			if (ex.getCause() instanceof RuntimeException failure) {
				throw failure;
			}
			throw ex;
		}
	}

	private final Io nonBlocking = new Io() {

		@Override
		public CompletableFuture<@Nullable StoredEntry> read(CacheKeyspace keyspace, String redisKey) {
			RedisTaggedCache cache = RedisTaggedCache.this;
			return cache.guard.callAsync("get", cache.name, cache.counters,
					() -> cache.writer.readAsync(keyspace, redisKey));
		}

		@Override
		public CompletableFuture<Long> fence(CacheKeyspace keyspace) {
			return readFenceAsync(keyspace);
		}

		@Override
		public CompletableFuture<@Nullable PutResult> put(String redisKey, NewEntry entry, PutMode mode) {
			return writeAsync(redisKey, entry, mode);
		}

		@Override
		public CompletableFuture<@Nullable LeaseResult> lease(CacheKeyspace keyspace, String redisKey, String token,
				boolean orFreshEntry) {
			RedisTaggedCache cache = RedisTaggedCache.this;
			return cache.guard.callAsync("lease", cache.name, cache.counters,
					() -> cache.writer.leaseAsync(keyspace, redisKey, token, cache.manager.syncTimeout(), orFreshEntry));
		}

		@Override
		public CompletableFuture<Void> delay(Duration delay) {
			return RedisTaggedCache.this.manager.delay(delay);
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
		String redisKey = redisKey(key);
		try {
			write(redisKey, value, List.of(), null, PutMode.ALWAYS, true);
		}
		finally {
			dropNear(redisKey);
		}
	}

	@Override
	public void put(Object key, @Nullable Object value, Collection<String> tags) {
		String redisKey = redisKey(key);
		try {
			write(redisKey, value, validTags(tags), null, PutMode.ALWAYS, false);
		}
		finally {
			dropNear(redisKey);
		}
	}

	/**
	 * After this instance changed or removed the key's entry (or tried to): the near cache drops what
	 * it kept, so that this instance reads the change at once (other instances when its message arrives).
	 */
	private void dropNear(String redisKey) {
		NearCache near = this.near;
		if (near != null) {
			near.dropKeys(List.of(redisKey));
		}
	}

	/** After this instance cleared the cache, or evicted keys by a pattern. */
	private void clearNear() {
		NearCache near = this.near;
		if (near != null) {
			near.clear();
		}
	}

	/** After this instance invalidated tags in this cache (or tried to). */
	void dropNearTags(Collection<String> tags) {
		NearCache near = this.near;
		if (near != null) {
			near.dropTags(tags);
		}
	}

	@Override
	public boolean putFenced(Object key, @Nullable Object value, Collection<String> tags,
			@Nullable Duration timeToLive, long fence) {
		List<String> valid = validTags(tags);
		if (!mayStoreLoad(fence)) {
			return false;
		}
		String redisKey = redisKey(key);
		try {
			PutResult result = write(redisKey, value, valid, timeToLive, PutMode.fenced(fence), false);
			return result != null && result.written();
		}
		finally {
			dropNear(redisKey);
		}
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
		return writeAsync(redisKey, newEntry(serialized, valid, timeToLive, Duration.ZERO), PutMode.fenced(fence))
			.whenComplete((result, ex) -> dropNear(redisKey))
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

	/**
	 * What a put writes: the value with its tags and time to live (the cache's default when
	 * {@code null}), kept after expiry for stale-if-error, and how long its load took.
	 */
	private NewEntry newEntry(Serialized serialized, List<String> tags, @Nullable Duration timeToLive,
			Duration loadTime) {
		return new NewEntry(serialized.json(), serialized.typeHint(), tags,
				(timeToLive != null) ? timeToLive : this.configuration.getTimeToLive(),
				this.configuration.getStaleIfError(), loadTime);
	}

	@Override
	public @Nullable ValueWrapper putIfAbsent(Object key, @Nullable Object value) {
		String redisKey = redisKey(key);
		PutResult result;
		try {
			result = write(redisKey, value, List.of(), null, PutMode.IF_ABSENT, true);
		}
		finally {
			dropNear(redisKey);
		}
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
		return (serialized != null) ? write(redisKey, newEntry(serialized, tags, timeToLive, Duration.ZERO), mode)
				: null;
	}

	/** Write on the caller's thread; returns {@code null} when Redis failed (absorbed). */
	private @Nullable PutResult write(String redisKey, NewEntry entry, PutMode mode) {
		PutResult result = this.guard.call("put", this.name, this.counters, () -> {
			ensureRegistered();
			PutResult written = this.writer.put(keyspaceOf(redisKey), redisKey, entry, mode);
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

	/** {@link #write(String, NewEntry, PutMode)} without blocking. */
	private CompletableFuture<@Nullable PutResult> writeAsync(String redisKey, NewEntry entry, PutMode mode) {
		return this.guard
			.callAsync("put", this.name, this.counters, () -> ensureRegisteredAsync()
				.thenCompose(registered -> this.writer.putAsync(keyspaceOf(redisKey), redisKey, entry, mode))
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
		boolean removed;
		try {
			removed = this.guard.invalidation("evict", this.name, this.counters,
					PendingInvalidations.eviction(this.name, redisKey),
					() -> this.writer.evict(keyspaceOf(redisKey), redisKey), false);
		}
		finally {
			dropNear(redisKey);
		}
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
		long removed;
		try {
			removed = this.guard.invalidation("clear", this.name, this.counters, PendingInvalidations.clear(this.name),
					this::clearShards, 0L);
		}
		finally {
			clearNear();
		}
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

	/**
	 * {@inheritDoc}
	 * <p>Inside a Spring transaction the tags are held until it completes, then soft-invalidated again;
	 * see {@link RedisTaggedCacheManager#softInvalidate(Collection)}.
	 */
	@Override
	public long softInvalidateTags(Collection<String> tags) {
		List<String> valid = TagRules.validateTags(tags, this.name);
		return valid.isEmpty() ? 0 : this.manager.softInvalidate(this.name, valid, this);
	}

	/**
	 * {@inheritDoc}
	 * <p>When Redis cannot be reached, the eviction is queued as a {@link #clear()} of the cache (the
	 * pattern is not kept: removing more is safe, less is not), and {@code 0} is returned.
	 */
	@Override
	public long evictByPattern(String keyPattern) {
		if (keyPattern == null || keyPattern.isBlank()) {
			throw new IllegalArgumentException("Cache '" + this.name + "' cannot evict by a blank key pattern; "
					+ "use clear() to remove every entry");
		}
		long removed;
		try {
			removed = this.guard.invalidation("evict", this.name, this.counters, PendingInvalidations.clear(this.name),
					() -> this.manager.invalidationKeyspaces(this)
						.stream()
						.mapToLong(keyspace -> this.writer.evictByPattern(keyspace, keyPattern))
						.sum(),
					0L);
		}
		finally {
			// the pattern is Redis's to match: the whole near cache goes
			clearNear();
		}
		this.counters.evictions.add(removed);
		return removed;
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

		/** The tags of the value its leader returns, for the callers that join it. */
		final Served served;

		Load(@Nullable Thread owner, long fence, Served served) {
			this.owner = owner;
			this.fence = fence;
			this.served = served;
		}

		/** Whether a caller that read {@code callerFence} may take this load's value. */
		boolean isFreshFor(long callerFence) {
			return this.fence != UNKNOWN_FENCE && callerFence != UNKNOWN_FENCE && this.fence >= callerFence;
		}

	}

	/**
	 * The value a call returns, once known, for its caller and the callers that join its load: the entry
	 * it came from or the tags of the value loaded, and whether it is stale.
	 */
	private static final class Served {

		private volatile @Nullable StoredEntry entry;

		private volatile @Nullable List<String> tags;

		volatile boolean stale;

		void set(@Nullable StoredEntry entry, @Nullable List<String> tags, boolean stale) {
			this.stale = stale;
			this.tags = tags;
			this.entry = entry;
		}

		/** The tags, read from the entry the first time they are asked for; {@code null} while unknown. */
		@Nullable List<String> tags() {
			List<String> tags = this.tags;
			StoredEntry entry = this.entry;
			if (tags == null && entry != null) {
				tags = entry.tags();
				this.tags = tags;
			}
			return tags;
		}

	}

}
