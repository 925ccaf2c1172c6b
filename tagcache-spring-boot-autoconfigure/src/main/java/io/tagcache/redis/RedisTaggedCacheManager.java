package io.tagcache.redis;

import java.util.UUID;
import java.util.Arrays;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import io.tagcache.TaggedCacheManager;
import io.tagcache.TagsInvalidatedEvent;
import io.tagcache.UncachedCause;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.json.JsonMapper;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.ApplicationEventPublisherAware;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.util.Assert;
import org.springframework.util.ClassUtils;

/**
 * The {@link TaggedCacheManager} on Redis, and the application's {@code CacheManager}: plain
 * {@code @Cacheable}/{@code @CacheEvict} work on its caches too.
 *
 * <p>Caches configured on the builder exist from the start; others are created on first use with
 * the default configuration, unless {@link Builder#disableCreateOnMissingCache()} was called.
 * {@link #invalidate(Collection)} reaches every cache of the key prefix, including caches this
 * instance never opened: every cache registers its name in {@code <prefix>:caches} before its
 * first write, and an invalidation sends one script per registered cache, all at once.
 *
 * <pre class="code">
 * RedisTaggedCacheManager manager = RedisTaggedCacheManager.builder(connectionFactory)
 *     .keyPrefix("shop")
 *     .cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofMinutes(10)))
 *     .withCache("users", RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofHours(1)))
 *     .build();
 * </pre>
 */
public final class RedisTaggedCacheManager
		implements TaggedCacheManager, SmartInitializingSingleton, DisposableBean, ApplicationEventPublisherAware {

	private static final Log logger = LogFactory.getLog(RedisTaggedCacheManager.class);

	private final String keyPrefix;

	private final RedisTaggedCacheConfiguration defaults;

	private final boolean createOnMissingCache;

	private final RedisTaggedCacheWriter writer;

	private final JsonValueSerializer serializer;

	private final CacheKeyConverter keyConverter = new CacheKeyConverter();

	private final RefusedValues refusedValues = new RefusedValues();

	private final RedisOutageGuard guard;

	private final List<Consumer<? super RedisTaggedCache>> cacheCreationListeners;

	/** Told about every Redis round trip; more may be added after the manager was built. */
	private final List<RedisOperationListener> operationListeners = new CopyOnWriteArrayList<>();

	private final ConcurrentMap<String, RedisTaggedCache> caches = new ConcurrentHashMap<>();

	private final Duration transactionHold;

	private final Duration syncTimeout;

	/** Where {@link TagsInvalidatedEvent}s go: the application context, when the manager is a bean. */
	private volatile @Nullable ApplicationEventPublisher eventPublisher;

	/** Runs the replay of queued invalidations and the search for abandoned drains. */
	private final ScheduledThreadPoolExecutor maintenance;

	private static final int REPLAY_TAG_CHUNK = 500;

	/** Most entries each near cache keeps. */
	private final long nearCacheMaximumSize;

	/**
	 * The subscription near caches (and received events) use; {@code null} when no cache can have a
	 * near cache and events are not broadcast.
	 */
	private final @Nullable InvalidationChannel channel;

	/** Whether this instance publishes and receives invalidation events through Redis. */
	private final boolean broadcastEvents;

	/** Tells this instance's broadcast events from the others'. */
	private final String instanceId = UUID.randomUUID().toString();

	/** Detached tag indexes older than this were abandoned: a live drain takes about a second per 100,000 entries. */
	private static final Duration ABANDONED_DRAIN_AGE = Duration.ofMinutes(1);

	private RedisTaggedCacheManager(Builder builder) {
		this.keyPrefix = builder.keyPrefix;
		this.defaults = builder.defaults;
		this.createOnMissingCache = builder.createOnMissingCache;
		this.transactionHold = builder.transactionHold;
		this.syncTimeout = builder.syncTimeout;
		this.operationListeners.addAll(builder.operationListeners);
		this.writer = builder.writer(this::notifyOperation);
		this.maintenance = new ScheduledThreadPoolExecutor(1, runnable -> {
			Thread thread = new Thread(runnable, "tagcache-" + builder.keyPrefix + "-maintenance");
			thread.setDaemon(true);
			return thread;
		});
		this.maintenance.setKeepAliveTime(10, TimeUnit.SECONDS);
		this.maintenance.allowCoreThreadTimeOut(true);
		this.maintenance.setRemoveOnCancelPolicy(true);
		this.guard = new RedisOutageGuard(builder.failureThreshold, builder.coolDown, builder.pendingInvalidationLimit,
				builder.invalidationWait, System::nanoTime, (task, delay) -> this.maintenance.schedule(task, delay.toNanos(), TimeUnit.NANOSECONDS));
		this.guard.setReplayer(new RedisOutageGuard.Replayer() {

			@Override
			public void replay(PendingInvalidations invalidations) {
				replayInvalidations(invalidations);
			}

			@Override
			public void clear(CacheScope caches) {
				clearCaches(caches);
			}

		});
		this.cacheCreationListeners = new CopyOnWriteArrayList<>(builder.cacheCreationListeners);
		this.serializer = new JsonValueSerializer(builder.jsonMapper, builder.allowList, builder.classLoader);
		this.nearCacheMaximumSize = builder.nearCacheMaximumSize;
		this.broadcastEvents = builder.broadcastEvents;
		this.channel = builder.needsChannel() ? new InvalidationChannel(Objects.requireNonNull(builder.connectionFactory),
				builder.broadcastEvents ? eventsChannel() : null, this::receivedEvent) : null;
		builder.initialCaches.forEach((name, configuration) -> this.caches.put(name,
				new RedisTaggedCache(name, configuration, this)));
	}

	/**
	 * Start building a manager on the given connection factory.
	 * @param connectionFactory a Lettuce connection factory (standalone, sentinel or cluster)
	 * @return a builder
	 */
	public static Builder builder(LettuceConnectionFactory connectionFactory) {
		Assert.notNull(connectionFactory, "Connection factory must not be null");
		return new Builder(connectionFactory, null);
	}

	/**
	 * Start building a manager on a writer of its own: one that records or fakes what Redis does, to
	 * test code that uses caches without Redis. The writer has its own settings: the builder's
	 * {@link Builder#fenceRetention}, {@link Builder#inlineInvalidationLimit} and
	 * {@link Builder#drainBudget} configure the writer it creates from a connection factory, and
	 * {@link Builder#build()} refuses them here; operation listeners hear only what the writer
	 * reports itself.
	 * @param writer the writer
	 * @return a builder
	 */
	public static Builder builder(RedisTaggedCacheWriter writer) {
		Assert.notNull(writer, "Writer must not be null");
		return new Builder(null, writer);
	}

	@Override
	public @Nullable RedisTaggedCache getCache(String name) {
		RedisTaggedCache cache = this.caches.get(name);
		if (cache != null || !this.createOnMissingCache) {
			return cache;
		}
		boolean[] created = new boolean[1];
		cache = this.caches.computeIfAbsent(name, missing -> {
			created[0] = true;
			return new RedisTaggedCache(missing, this.defaults, this);
		});
		if (created[0]) {
			for (Consumer<? super RedisTaggedCache> listener : this.cacheCreationListeners) {
				listener.accept(cache);
			}
		}
		return cache;
	}

	@Override
	public Collection<String> getCacheNames() {
		return Collections.unmodifiableSet(new LinkedHashSet<>(this.caches.keySet()));
	}

	/**
	 * {@inheritDoc}
	 * <p>Sends one script per cache of the key prefix (the caches this instance opened and those
	 * registered in Redis by any instance), issued together; on a cluster each runs on the node
	 * of its cache's hash slot.
	 * <p>When Redis cannot be reached, the invalidation is queued and replayed before this
	 * instance uses Redis again, and {@code 0} is returned.
	 */
	@Override
	public long invalidate(Collection<String> tags) {
		List<String> valid = TagRules.validateTags(tags, null);
		if (valid.isEmpty()) {
			return 0;
		}
		return invalidate(PendingInvalidations.EVERY_CACHE, valid, null);
	}

	/**
	 * Invalidate tags in every cache ({@link PendingInvalidations#EVERY_CACHE}) or one; inside a Spring
	 * transaction with a hold, and again when it completes.
	 * @param cache the cache of a one-cache scope, {@code null} for every cache
	 */
	long invalidate(String scope, List<String> tags, @Nullable RedisTaggedCache cache) {
		return invalidate(scope, tags, cache, false);
	}

	/**
	 * Invalidate or soft-invalidate tags in every cache or one; inside a Spring transaction with a hold,
	 * and again when it completes (a soft one is recorded under its scope prefixed with
	 * {@link #SOFT_SCOPE}: no cache name holds '#').
	 */
	private long invalidate(String scope, List<String> tags, @Nullable RedisTaggedCache cache, boolean soft) {
		Duration hold = Duration.ZERO;
		if (TransactionalInvalidations.isActive()) {
			TransactionalInvalidations.record(this, soft ? SOFT_SCOPE + scope : scope, tags,
					this::invalidateAfterTransaction);
			hold = this.transactionHold;
		}
		return soft ? softInvalidateNow(scope, tags, cache, hold) : invalidateNow(scope, tags, cache, hold);
	}

	private long invalidateNow(String scope, List<String> tags, @Nullable RedisTaggedCache cache, Duration hold) {
		try {
			return invalidateInRedis(scope, tags, cache, hold);
		}
		finally {
			dropNearTags(tags, cache);
		}
	}

	/**
	 * After this instance invalidated tags (or tried to: a failed invalidation is queued, and nothing
	 * is read from Redis before its replay), its near caches drop their entries, so that no call
	 * after it reads them here.
	 */
	private void dropNearTags(List<String> tags, @Nullable RedisTaggedCache cache) {
		if (this.channel == null) {
			return;
		}
		if (cache != null) {
			cache.dropNearTags(tags);
		}
		else {
			this.caches.values().forEach(each -> each.dropNearTags(tags));
		}
	}

	private long invalidateInRedis(String scope, List<String> tags, @Nullable RedisTaggedCache cache, Duration hold) {
		if (cache == null) {
			return this.guard.invalidation("invalidate", CacheScope.EVERY_CACHE_LABEL, null,
					PendingInvalidations.tags(scope, tags),
					() -> published(tags, false, hold, invalidateEverywhere(tags, hold)), 0L);
		}
		long removed = this.guard.invalidation("invalidate", cache.getName(), cache.counters(),
				PendingInvalidations.tags(scope, tags),
				() -> published(tags, false, hold,
						LongStream.of(this.writer.invalidate(invalidationKeyspaces(cache), tags, hold)).sum()),
				0L);
		cache.recordInvalidation(removed);
		return removed;
	}

	/**
	 * Publish the invalidation Redis acknowledged, unless it holds its tags (inside a transaction: the
	 * invalidation when it completes is published).
	 * @return {@code entries}
	 */
	private long published(List<String> tags, boolean soft, Duration hold, long entries) {
		if (!hold.isZero()) {
			return entries;
		}
		ApplicationEventPublisher publisher = this.eventPublisher;
		if (publisher != null) {
			publisher.publishEvent(new TagsInvalidatedEvent(new LinkedHashSet<>(tags), soft, entries, true));
		}
		if (this.broadcastEvents) {
			broadcast(tags, soft, entries);
		}
		return entries;
	}

	/** The channel of the key prefix's invalidation events: {@code <prefix>:events}. */
	private String eventsChannel() {
		return this.keyPrefix + ":events";
	}

	/**
	 * Tell the other instances, without waiting: an event is a notice, and the invalidation is done.
	 * The message is the instance id, 's' or 'h', the entries, then the tags, one per line (tags hold
	 * no control character).
	 */
	private void broadcast(List<String> tags, boolean soft, long entries) {
		StringBuilder message = new StringBuilder(this.instanceId).append('\n')
			.append(soft ? 's' : 'h')
			.append('\n')
			.append(entries);
		tags.forEach(tag -> message.append('\n').append(tag));
		((DefaultRedisTaggedCacheWriter) this.writer)
			.publishAsync(eventsChannel(), message.toString().getBytes(StandardCharsets.UTF_8))
			.exceptionally(ex -> {
				logger.debug("Could not broadcast an invalidation event of prefix '" + this.keyPrefix + "'", ex);
				return null;
			});
	}

	/** Another instance's event: published here with {@code local()} false; this instance's own are skipped. */
	private void receivedEvent(byte[] message) {
		String[] lines = new String(message, StandardCharsets.UTF_8).split("\n", -1);
		ApplicationEventPublisher publisher = this.eventPublisher;
		if (lines.length < 3 || lines[0].equals(this.instanceId) || publisher == null) {
			return;
		}
		long entries;
		try {
			entries = Long.parseLong(lines[2]);
		}
		catch (NumberFormatException ex) {
			logger.debug("Ignored an unreadable invalidation event on channel '" + eventsChannel() + "'");
			return;
		}
		Set<String> tags = new LinkedHashSet<>(Arrays.asList(lines).subList(3, lines.length));
		publisher.publishEvent(new TagsInvalidatedEvent(tags, lines[1].equals("s"), entries, false));
	}

	@Override
	public void setApplicationEventPublisher(ApplicationEventPublisher eventPublisher) {
		this.eventPublisher = eventPublisher;
	}

	/** The second invalidation of tags invalidated inside a transaction, when it completed: no hold. */
	private void invalidateAfterTransaction(String scope, List<String> tags) {
		boolean soft = scope.startsWith(SOFT_SCOPE);
		String cacheScope = soft ? scope.substring(SOFT_SCOPE.length()) : scope;
		RedisTaggedCache cache = cacheScope.equals(PendingInvalidations.EVERY_CACHE) ? null : getCache(cacheScope);
		if (soft) {
			softInvalidateNow(cacheScope, tags, cache, Duration.ZERO);
		}
		else {
			invalidateNow(cacheScope, tags, cache, Duration.ZERO);
		}
	}

	private static final String SOFT_SCOPE = "#soft:";

	/**
	 * {@inheritDoc}
	 * <p>Sends one script per cache of the key prefix, issued together, as {@link #invalidate(Collection)}
	 * does; each marks the entries of its cache (large tags in bounded chunks after it). Inside a Spring
	 * transaction the tags are held until it completes, then soft-invalidated again. When Redis cannot be
	 * reached, the invalidation is queued and replayed as a hard one (it removes the entries), and
	 * {@code 0} is returned.
	 */
	@Override
	public long softInvalidate(Collection<String> tags) {
		List<String> valid = TagRules.validateTags(tags, null);
		if (valid.isEmpty()) {
			return 0;
		}
		return invalidate(PendingInvalidations.EVERY_CACHE, valid, null, true);
	}

	/** Soft-invalidate tags in one cache, as {@link #softInvalidate(Collection)} does in every one. */
	long softInvalidate(String scope, List<String> tags, RedisTaggedCache cache) {
		return invalidate(scope, tags, cache, true);
	}

	private long softInvalidateNow(String scope, List<String> tags, @Nullable RedisTaggedCache cache, Duration hold) {
		try {
			return softInvalidateInRedis(scope, tags, cache, hold);
		}
		finally {
			dropNearTags(tags, cache);
		}
	}

	private long softInvalidateInRedis(String scope, List<String> tags, @Nullable RedisTaggedCache cache,
			Duration hold) {
		String label = (cache != null) ? cache.getName() : CacheScope.EVERY_CACHE_LABEL;
		return this.guard.invalidation("invalidate", label, (cache != null) ? cache.counters() : null,
				PendingInvalidations.tags(scope, tags), () -> {
					List<CacheKeyspace> keyspaces = (cache != null) ? invalidationKeyspaces(cache) : allKeyspaces();
					List<Duration> keptFor = keyspaces.stream().map(keyspace -> keptWhenSoft(keyspace.cacheName())).toList();
					long[] marked = this.writer.softInvalidate(keyspaces, tags, keptFor, hold);
					recordInvalidations(keyspaces, marked);
					return published(tags, true, hold, LongStream.of(marked).sum());
				}, 0L);
	}

	/**
	 * How long a soft-invalidated entry of the cache may still be served: the longer of its
	 * stale-while-revalidate and stale-if-error (the defaults for a cache this instance did not open).
	 */
	private Duration keptWhenSoft(String cacheName) {
		RedisTaggedCache cache = this.caches.get(cacheName);
		RedisTaggedCacheConfiguration configuration = (cache != null) ? cache.getConfiguration() : this.defaults;
		Duration revalidate = configuration.getStaleWhileRevalidate();
		Duration error = configuration.getStaleIfError();
		return (error.compareTo(revalidate) > 0) ? error : revalidate;
	}

	/**
	 * Whether a value loaded now must not be stored: the current transaction invalidated tags through
	 * this manager, so what it reads may be its own uncommitted data.
	 */
	boolean isInsideInvalidatingTransaction() {
		return TransactionalInvalidations.hasInvalidated(this);
	}

	private long invalidateEverywhere(List<String> valid, Duration hold) {
		List<CacheKeyspace> keyspaces = allKeyspaces();
		long[] removed = this.writer.invalidate(keyspaces, valid, hold);
		recordInvalidations(keyspaces, removed);
		return LongStream.of(removed).sum();
	}

	/** Count an invalidation, and the entries it removed or marked, in each cache of this instance it reached. */
	private void recordInvalidations(List<CacheKeyspace> keyspaces, long[] counts) {
		Map<String, Long> byCache = new LinkedHashMap<>();
		for (int i = 0; i < counts.length; i++) {
			byCache.merge(keyspaces.get(i).cacheName(), counts[i], Long::sum);
		}
		byCache.forEach((name, count) -> {
			RedisTaggedCache cache = this.caches.get(name);
			if (cache != null) {
				cache.recordInvalidation(count);
			}
		});
	}

	/**
	 * The keyspace of every shard of every cache of the prefix: this instance's caches and those
	 * any instance registered in Redis (one round trip).
	 */
	private List<CacheKeyspace> allKeyspaces() {
		return keyspacesByCache().values().stream().flatMap(List::stream).toList();
	}

	/**
	 * The keyspaces of each cache of the prefix, by cache name in name order: every shard that this
	 * instance or any registered instance uses (instances configured with different numbers of shards
	 * are reported when they register).
	 */
	private Map<String, List<CacheKeyspace>> keyspacesByCache() {
		Map<String, List<CacheKeyspace>> keyspaces = new TreeMap<>();
		this.caches.values().forEach(cache -> keyspaces.put(cache.getName(), cache.keyspaces()));
		this.writer.registeredCaches(this.keyPrefix)
			.forEach((name, shards) -> keyspaces.merge(name, shards(name, shards), (own, registered) -> (own
				.size() >= registered.size()) ? own : registered));
		return keyspaces;
	}

	private List<CacheKeyspace> shards(String cacheName, int shards) {
		return IntStream.range(0, shards).mapToObj(shard -> new CacheKeyspace(this.keyPrefix, cacheName, shard)).toList();
	}

	/**
	 * The keyspaces an invalidation of one cache covers: its own shards, and any further shard
	 * another instance registered for it.
	 */
	List<CacheKeyspace> invalidationKeyspaces(RedisTaggedCache cache) {
		Integer registered = this.writer.registeredCaches(this.keyPrefix).get(cache.getName());
		return (registered == null || registered <= cache.keyspaces().size()) ? cache.keyspaces()
				: shards(cache.getName(), registered);
	}

	/** The prefix of every Redis key this manager writes. */
	public String getKeyPrefix() {
		return this.keyPrefix;
	}

	/** The configuration of caches created on demand. */
	public RedisTaggedCacheConfiguration getCacheDefaults() {
		return this.defaults;
	}

	/**
	 * A near cache for a cache created now, subscribed to the channels of its slots; it serves once
	 * they are subscribed.
	 */
	NearCache openNearCache(List<CacheKeyspace> keyspaces) {
		InvalidationChannel subscription = this.channel;
		Assert.state(subscription != null, "No invalidation channel: the builder decides from the configurations it "
				+ "was given whether near caches are used");
		NearCache nearCache = new NearCache(this.nearCacheMaximumSize, this.writer::currentTimeMillis,
				subscription::isLive);
		subscription.register(keyspaces, nearCache);
		return nearCache;
	}

	/** How long a synchronized load waits for another instance's load, and how long a lease lasts. */
	Duration syncTimeout() {
		return this.syncTimeout;
	}

	/** A future completing after the delay, on the maintenance thread: for waits that must not hold a thread. */
	CompletableFuture<Void> delay(Duration delay) {
		CompletableFuture<Void> done = new CompletableFuture<>();
		try {
			this.maintenance.schedule(() -> done.complete(null), delay.toNanos(), TimeUnit.NANOSECONDS);
		}
		catch (RejectedExecutionException ex) {
			// the manager stopped: no one waits any more
			done.complete(null);
		}
		return done;
	}

	RedisTaggedCacheWriter writer() {
		return this.writer;
	}

	JsonValueSerializer serializer() {
		return this.serializer;
	}

	CacheKeyConverter keyConverter() {
		return this.keyConverter;
	}

	RefusedValues refusedValues() {
		return this.refusedValues;
	}

	/**
	 * Return how many values this manager's caches refused without failing the call, or read as a
	 * miss, for one cause: values of Spring's untyped {@code Cache} contract ({@code @Cacheable})
	 * that could never be read back ({@link UncachedCause#DISALLOWED_TYPE},
	 * {@link UncachedCause#NOT_READABLE}), and entries of a disallowed type read as a miss. Refusals
	 * thrown to the caller ({@link io.tagcache.ValueRefusedException}) are the caller's to count.
	 * @param cause the cause
	 * @return the count since start-up
	 */
	public long getUncachedResults(UncachedCause cause) {
		return this.refusedValues.count(cause);
	}

	RedisOutageGuard guard() {
		return this.guard;
	}

	/**
	 * Whether this instance currently uses Redis: {@code false} while Redis is skipped after
	 * repeated failures, or while invalidations wait to be replayed.
	 */
	public boolean isRedisAvailable() {
		return this.guard.isAvailable();
	}

	/** How many invalidations wait for Redis to be replayed. */
	public int getPendingInvalidations() {
		return this.guard.getPendingInvalidations();
	}

	/**
	 * How many times the queue of pending invalidations overflowed, so that the caches it concerned
	 * were (or will be) cleared when Redis returned.
	 */
	public long getPendingInvalidationOverflows() {
		return this.guard.getOverflows();
	}

	/**
	 * Load the Lua scripts into Redis (on a cluster, into every node) without waiting for it, when
	 * the manager is a bean and the application context has started, so that the first put or
	 * invalidation does not compile its script. A failure (Redis not reachable yet) is only logged:
	 * each script is then loaded on its first use.
	 */
	@Override
	public void afterSingletonsInstantiated() {
		loadScripts().exceptionally(ex -> {
			logger.debug("Could not load the tagcache scripts into Redis at start-up; each is loaded on first use", ex);
			return null;
		});
		this.maintenance.scheduleWithFixedDelay(this::finishAbandonedDrainsQuietly, 0, ABANDONED_DRAIN_AGE.toSeconds(),
				TimeUnit.SECONDS);
		checkEvictionPolicy().thenAccept(problem -> {
			if (problem != null) {
				logger.error(problem);
			}
		}).exceptionally(ex -> {
			logger.debug("Could not read Redis's maxmemory-policy at start-up", ex);
			return null;
		});
	}

	private void finishAbandonedDrainsQuietly() {
		long removed = this.guard.call("drain", CacheScope.EVERY_CACHE_LABEL, null, this::finishAbandonedDrains,
				() -> 0L);
		if (removed > 0) {
			logger.info("Finished abandoned drains of prefix '" + this.keyPrefix + "': removed " + removed + " entries");
		}
	}

	/**
	 * Check that Redis's eviction policy cannot evict a tag index before the entries it lists. Under
	 * {@code allkeys-*}, or {@code volatile-lru}, {@code -lfu} and {@code -random} (indexes have a time
	 * to live too, never shorter than their entries'), Redis may evict an index while its entries
	 * remain: invalidating that tag then leaves them stale until they expire. {@code noeviction} and
	 * {@code volatile-ttl} (which evicts the shortest-lived keys, entries before their indexes) are
	 * safe. Lost fence state is detected, and refuses every load in flight; lost indexes cannot be.
	 * Called at start-up, where a problem is logged as an error.
	 * @return a description of the problem, or {@code null} when every master uses a safe policy
	 */
	public CompletableFuture<@Nullable String> checkEvictionPolicy() {
		return this.writer.evictionPolicies().thenApply(policies -> {
			List<String> unsafe = policies.stream()
				.filter(policy -> !policy.equals("noeviction") && !policy.equals("volatile-ttl"))
				.distinct()
				.toList();
			if (unsafe.isEmpty()) {
				return null;
			}
			return "Redis may evict tagcache's tag indexes before their entries (maxmemory-policy "
					+ String.join(", ", unsafe) + "): an evicted index of prefix '" + this.keyPrefix
					+ "' leaves its entries stale after an invalidation of its tag, until they expire. Use "
					+ "maxmemory-policy noeviction or volatile-ttl, or a Redis of its own for the cache";
		});
	}

	/**
	 * Load the Lua scripts into Redis (on a cluster, into every node).
	 * @return completes when every node has every script, or fails when Redis could not be reached
	 */
	public CompletableFuture<Void> loadScripts() {
		return this.writer.prepare();
	}

	/**
	 * Check that Redis answers, bypassing the outage guard.
	 * @return Redis's answer to {@code PING}
	 * @throws org.springframework.dao.DataAccessException when it does not answer
	 */
	public String ping() {
		return this.writer.ping();
	}

	/**
	 * The names of every cache of the key prefix: those of this instance and those any instance
	 * registered in Redis.
	 * @throws org.springframework.dao.DataAccessException when Redis does not answer
	 */
	public Set<String> getAllCacheNames() {
		return keyspacesByCache().keySet();
	}

	/**
	 * Count the entries of a cache of the key prefix, whether or not this instance opened it, with
	 * {@code SCAN} (never {@code KEYS}): a diagnostic that walks the keyspace, not for hot paths.
	 * Unlike {@code getCache(name).countEntries()} it does not open the cache here (which would
	 * register it and bind its meters as a side effect of looking at it).
	 * @param cacheName the cache name
	 * @return the number of entries
	 * @throws org.springframework.dao.DataAccessException when Redis does not answer
	 */
	public long countEntries(String cacheName) {
		return keyspacesOf(cacheName).stream().mapToLong(keyspace -> this.writer.countEntries(keyspace)).sum();
	}

	/**
	 * Count the tags with at least one entry in a cache of the key prefix, whether or not this
	 * instance opened it, with {@code SCAN}; a diagnostic that walks the keyspace.
	 * @param cacheName the cache name
	 * @return the number of tag indexes
	 * @throws org.springframework.dao.DataAccessException when Redis does not answer
	 */
	public long countTags(String cacheName) {
		return keyspacesOf(cacheName).stream().mapToLong(keyspace -> this.writer.countTags(keyspace)).sum();
	}

	/**
	 * Count, in every cache of the key prefix, the live entries that carry the tag: one
	 * {@code ZCOUNT} per cache, a diagnostic.
	 * @param tag the tag
	 * @return the count per cache name, in name order, leaving out caches that hold none
	 * @throws IllegalArgumentException if the tag is null, blank, too long or holds a control
	 * character
	 * @throws org.springframework.dao.DataAccessException when Redis does not answer
	 */
	public Map<String, Long> countEntriesWithTag(String tag) {
		TagRules.validateTag(tag, null);
		Map<String, Long> counts = new LinkedHashMap<>();
		keyspacesByCache().forEach((name, keyspaces) -> {
			long count = keyspaces.stream().mapToLong(keyspace -> this.writer.countTagged(keyspace, tag)).sum();
			if (count > 0) {
				counts.put(name, count);
			}
		});
		return counts;
	}

	/** The keyspaces of a cache's shards, whether or not this instance opened it. */
	private List<CacheKeyspace> keyspacesOf(String cacheName) {
		RedisTaggedCache cache = this.caches.get(cacheName);
		if (cache != null) {
			return cache.keyspaces();
		}
		TagRules.validateCacheName(cacheName);
		return keyspacesByCache().getOrDefault(cacheName, List.of(new CacheKeyspace(this.keyPrefix, cacheName)));
	}

	/** Clear the caches of the scope, on every shard any instance uses. */
	private void clearCaches(CacheScope caches) {
		for (CacheKeyspace keyspace : allKeyspaces()) {
			if (caches.includes(keyspace.cacheName())) {
				this.writer.clear(keyspace);
			}
		}
	}

	/**
	 * Send invalidations that waited for Redis, merged: clears, then every evicted key of every cache
	 * at once, then the tags of each scope in one script per cache slot (in chunks of
	 * {@value #REPLAY_TAG_CHUNK} tags). Tags invalidated again finish any drain of them an earlier,
	 * interrupted invalidation left.
	 */
	private void replayInvalidations(PendingInvalidations invalidations) {
		if (!invalidations.clears().isEmpty()) {
			clearCaches(CacheScope.of(invalidations.clears()));
		}
		List<CacheKeyspace> evictedKeyspaces = new ArrayList<>();
		List<String> evictedKeys = new ArrayList<>();
		invalidations.evictions().forEach((name, keys) -> {
			RedisTaggedCache cache = this.caches.get(name);
			for (String key : keys) {
				evictedKeyspaces.add((cache != null) ? cache.keyspaceOf(key) : new CacheKeyspace(this.keyPrefix, name));
				evictedKeys.add(key);
			}
		});
		if (!evictedKeys.isEmpty()) {
			this.writer.evictAll(evictedKeyspaces, evictedKeys);
		}
		invalidations.tags().forEach((scope, tags) -> {
			List<CacheKeyspace> keyspaces = scope.equals(PendingInvalidations.EVERY_CACHE) ? allKeyspaces()
					: keyspacesByCache().getOrDefault(scope, List.of(new CacheKeyspace(this.keyPrefix, scope)));
			List<String> all = List.copyOf(tags);
			for (int i = 0; i < all.size(); i += REPLAY_TAG_CHUNK) {
				List<String> chunk = all.subList(i, Math.min(all.size(), i + REPLAY_TAG_CHUNK));
				this.writer.invalidate(keyspaces, chunk, Duration.ZERO);
				// replayed merged: the counts per original invalidation are not kept
				published(chunk, false, Duration.ZERO, 0);
			}
		});
	}

	/**
	 * Finish the drains that were abandoned in every cache of the prefix: tag indexes detached over
	 * a minute ago (the process that detached them stopped, or lost Redis, before it drained them).
	 * Runs at start-up and every minute when the manager is a bean; an invalidation of the same tag
	 * finishes them too.
	 * @return the number of entries removed
	 * @throws org.springframework.dao.DataAccessException when Redis does not answer
	 */
	public long finishAbandonedDrains() {
		return finishAbandonedDrains(ABANDONED_DRAIN_AGE);
	}

	long finishAbandonedDrains(Duration age) {
		return this.writer.finishAbandonedDrains(allKeyspaces(), age);
	}

	/**
	 * Stop the replay and maintenance thread, when the application context closes. Invalidations
	 * still waiting for Redis are dropped, and how many is logged.
	 */
	@Override
	public void destroy() {
		int dropped = this.guard.stop();
		this.maintenance.shutdownNow();
		if (this.channel != null) {
			this.channel.close();
		}
		this.writer.close();
		if (dropped > 0) {
			logger.warn("Dropped " + dropped + " invalidation(s) (tags, keys and caches) of prefix '" + this.keyPrefix
					+ "' that were waiting for Redis to answer: other instances may serve what they concerned "
					+ "until it expires");
		}
	}

	private void notifyOperation(String operation, long durationNanos, boolean failed) {
		for (RedisOperationListener listener : this.operationListeners) {
			listener.onOperation(operation, durationNanos, failed);
		}
	}

	/**
	 * Add a listener told about every Redis round trip from now on, for latency metrics: what the
	 * metrics auto-configuration does for every {@code RedisTaggedCacheManager} bean, the
	 * auto-configured one or the application's own.
	 * @param listener the listener
	 */
	public void addOperationListener(RedisOperationListener listener) {
		Assert.notNull(listener, "Listener must not be null");
		this.operationListeners.add(listener);
	}

	/**
	 * Add a listener told about each cache created on demand from now on (caches created earlier
	 * are in {@link #getCacheNames()}), for example to bind its meters.
	 * @param listener the listener
	 */
	public void addCacheCreationListener(Consumer<? super RedisTaggedCache> listener) {
		Assert.notNull(listener, "Listener must not be null");
		this.cacheCreationListeners.add(listener);
	}

	/** Builds a {@link RedisTaggedCacheManager}. */
	public static final class Builder {

		private final @Nullable LettuceConnectionFactory connectionFactory;

		/** The writer of one's own, {@code null} when the builder creates one from {@link #connectionFactory}. */
		private final @Nullable RedisTaggedCacheWriter writer;

		/** The settings of the writer the builder creates that were set, refused with a writer of one's own. */
		private final Set<String> writerSettings = new LinkedHashSet<>();

		private String keyPrefix = "tagcache";

		private RedisTaggedCacheConfiguration defaults = RedisTaggedCacheConfiguration.defaultConfig();

		private final Map<String, RedisTaggedCacheConfiguration> initialCaches = new LinkedHashMap<>();

		private boolean createOnMissingCache = true;

		private JsonMapper jsonMapper = JsonMapper.builder().build();

		private TypeAllowList allowList = TypeAllowList.jdkValueTypes();

		private @Nullable ClassLoader classLoader;

		private Duration fenceRetention = Duration.ofMinutes(10);

		private int inlineInvalidationLimit = 200;

		private Duration drainBudget = Duration.ofMillis(1);

		private int failureThreshold = 3;

		private Duration coolDown = Duration.ofSeconds(5);

		private int pendingInvalidationLimit = 10_000;

		private Duration invalidationWait = Duration.ofSeconds(2);

		private Duration transactionHold = Duration.ofMinutes(1);

		private Duration syncTimeout = Duration.ofSeconds(10);

		private long nearCacheMaximumSize = 10_000;

		private boolean broadcastEvents;

		private final List<RedisOperationListener> operationListeners = new ArrayList<>();

		private final List<Consumer<? super RedisTaggedCache>> cacheCreationListeners = new ArrayList<>();

		private Builder(@Nullable LettuceConnectionFactory connectionFactory, @Nullable RedisTaggedCacheWriter writer) {
			this.connectionFactory = connectionFactory;
			this.writer = writer;
		}

		/**
		 * Set the prefix of every Redis key the manager writes (default {@code tagcache}).
		 * @param keyPrefix a prefix without '{' or '}'
		 * @return this builder
		 */
		public Builder keyPrefix(String keyPrefix) {
			TagRules.validateKeyPrefix(keyPrefix);
			this.keyPrefix = keyPrefix;
			return this;
		}

		/**
		 * Set the configuration of caches created on demand (and of {@link #withCacheNames}).
		 * @param defaults the configuration
		 * @return this builder
		 */
		public Builder cacheDefaults(RedisTaggedCacheConfiguration defaults) {
			Assert.notNull(defaults, "Cache defaults must not be null");
			this.defaults = defaults;
			return this;
		}

		/**
		 * Create a cache at start-up with its own configuration.
		 * @param name the cache name
		 * @param configuration its configuration
		 * @return this builder
		 */
		public Builder withCache(String name, RedisTaggedCacheConfiguration configuration) {
			TagRules.validateCacheName(name);
			Assert.notNull(configuration, "Cache configuration must not be null");
			this.initialCaches.put(name, configuration);
			return this;
		}

		/**
		 * Create caches at start-up with the default configuration.
		 * @param names the cache names
		 * @return this builder
		 */
		public Builder withCacheNames(String... names) {
			for (String name : names) {
				withCache(name, this.defaults);
			}
			return this;
		}

		/**
		 * Refuse to create caches that were not configured: {@code getCache} answers {@code null}.
		 * @return this builder
		 */
		public Builder disableCreateOnMissingCache() {
			this.createOnMissingCache = false;
			return this;
		}

		/**
		 * Set the JSON mapper for values (default: a plain {@link JsonMapper}).
		 * @param jsonMapper the mapper
		 * @return this builder
		 */
		public Builder jsonMapper(JsonMapper jsonMapper) {
			Assert.notNull(jsonMapper, "JsonMapper must not be null");
			this.jsonMapper = jsonMapper;
			return this;
		}

		/**
		 * Set the types that untyped reads may instantiate (default {@link TypeAllowList#jdkValueTypes()}).
		 * @param allowList the allow-list
		 * @return this builder
		 */
		public Builder allowedTypes(TypeAllowList allowList) {
			Assert.notNull(allowList, "Type allow-list must not be null");
			this.allowList = allowList;
			return this;
		}

		/**
		 * Set the class loader for classes named by type hints.
		 * @param classLoader the class loader
		 * @return this builder
		 */
		public Builder classLoader(@Nullable ClassLoader classLoader) {
			this.classLoader = classLoader;
			return this;
		}

		/**
		 * Set how long invalidation records are kept for fenced writes (default 10 minutes). A load
		 * that takes longer than this is not stored, since it can no longer be checked.
		 * @param fenceRetention a positive duration
		 * @return this builder
		 */
		public Builder fenceRetention(Duration fenceRetention) {
			Assert.isTrue(fenceRetention != null && !fenceRetention.isNegative() && !fenceRetention.isZero(),
					() -> "Fence retention must be positive, was " + fenceRetention);
			this.fenceRetention = fenceRetention;
			this.writerSettings.add("fenceRetention");
			return this;
		}

		/**
		 * Set how many entries one invalidation script removes inline (default 200). A tag with
		 * more entries is detached atomically and drained in chunks (see {@link #drainBudget}), so
		 * that no script holds Redis for long: removing an entry with two tags costs Redis about 3
		 * to 4 us on a 2-core machine, so 200 entries keep the script under a millisecond.
		 * @param limit a positive number of entries
		 * @return this builder
		 */
		public Builder inlineInvalidationLimit(int limit) {
			Assert.isTrue(limit > 0, () -> "Inline invalidation limit must be positive, was " + limit);
			this.inlineInvalidationLimit = limit;
			this.writerSettings.add("inlineInvalidationLimit");
			return this;
		}

		/**
		 * Set the Redis time one drain script may take (default 1 ms). A tag too large to remove
		 * inline is drained by scripts that each remove entries in groups of 32 until this much
		 * server time has passed (or 2,000 entries are gone), so a script ends within about the
		 * budget plus one group whatever an entry costs, and Redis serves other clients in between.
		 * @param budget a positive duration of at least one microsecond
		 * @return this builder
		 */
		public Builder drainBudget(Duration budget) {
			Assert.notNull(budget, "Drain budget must not be null");
			Assert.isTrue(budget.toNanos() >= 1000, () -> "Drain budget must be at least 1us, was " + budget);
			this.drainBudget = budget;
			this.writerSettings.add("drainBudget");
			return this;
		}

		/**
		 * Set after how many consecutive Redis failures calls skip Redis for the cool-down
		 * (default 3).
		 * @param failureThreshold a positive number
		 * @return this builder
		 */
		public Builder failureThreshold(int failureThreshold) {
			Assert.isTrue(failureThreshold > 0, () -> "Failure threshold must be positive, was " + failureThreshold);
			this.failureThreshold = failureThreshold;
			return this;
		}

		/**
		 * Set how long calls skip Redis after repeated failures before one call probes it again
		 * (default 5 seconds).
		 * @param coolDown a positive duration
		 * @return this builder
		 */
		public Builder coolDown(Duration coolDown) {
			Assert.isTrue(coolDown != null && !coolDown.isNegative() && !coolDown.isZero(),
					() -> "Cool-down must be positive, was " + coolDown);
			this.coolDown = coolDown;
			return this;
		}

		/**
		 * Set how many invalidations are kept while Redis is unreachable (default 10,000); beyond
		 * that, the caches they concern are cleared when Redis returns.
		 * @param limit a positive number
		 * @return this builder
		 */
		public Builder pendingInvalidationLimit(int limit) {
			Assert.isTrue(limit > 0, () -> "Pending invalidation limit must be positive, was " + limit);
			this.pendingInvalidationLimit = limit;
			return this;
		}

		/**
		 * Set how long an invalidation that could not reach Redis waits for its replay (default 2
		 * seconds), counted from the first invalidation queued in an outage: an invalidation returns
		 * once it reached Redis, so that no instance reads what it removes after the call, unless Redis
		 * stays away longer. Then it returns queued (0 entries), and other instances may read what it
		 * concerns until the replay, which starts within 100 ms of Redis answering again. Zero never
		 * waits.
		 * @param wait a duration, zero or more
		 * @return this builder
		 */
		public Builder invalidationWait(Duration wait) {
			Assert.isTrue(wait != null && !wait.isNegative(), () -> "Invalidation wait must not be negative, was " + wait);
			this.invalidationWait = wait;
			return this;
		}

		/**
		 * Set how long an invalidation issued inside a Spring transaction holds its tags at most (default
		 * 1 minute): until the transaction completes, no instance stores a value carrying them; if the
		 * JVM dies before, the hold ends on its own after this long. A transaction that runs longer loses
		 * the hold (values of the committed data may then be stored), and its completion still removes
		 * them.
		 * @param hold a positive duration
		 * @return this builder
		 */
		public Builder transactionHold(Duration hold) {
			Assert.isTrue(hold != null && !hold.isNegative() && !hold.isZero(),
					() -> "Transaction hold must be positive, was " + hold);
			this.transactionHold = hold;
			return this;
		}

		/**
		 * Set how long a synchronized load ({@code sync = true}, {@code Cache.get(key, Callable)}) waits
		 * for another instance's load of the key before it calls the loader itself (default 10 seconds).
		 * It is also how long a load's lease lasts, so a lease whose holder died ends after it.
		 * @param timeout a positive duration
		 * @return this builder
		 */
		public Builder syncTimeout(Duration timeout) {
			Assert.isTrue(timeout != null && !timeout.isNegative() && !timeout.isZero(),
					() -> "Sync timeout must be positive, was " + timeout);
			this.syncTimeout = timeout;
			return this;
		}

		/**
		 * Set how many entries each near cache keeps at most (default 10,000); see
		 * {@link RedisTaggedCacheConfiguration#withNearCache(boolean)}.
		 * @param maximumSize a positive number of entries
		 * @return this builder
		 */
		public Builder nearCacheMaximumSize(long maximumSize) {
			Assert.isTrue(maximumSize > 0, () -> "Near cache maximum size must be positive, was " + maximumSize);
			this.nearCacheMaximumSize = maximumSize;
			return this;
		}

		/** Whether a near cache may be created: by the defaults (caches created on demand) or a configured cache. */
		private boolean usesNearCaches() {
			return (this.createOnMissingCache && this.defaults.isNearCache())
					|| this.initialCaches.values().stream().anyMatch(RedisTaggedCacheConfiguration::isNearCache);
		}

		private boolean needsChannel() {
			return usesNearCaches() || this.broadcastEvents;
		}

		/**
		 * Publish the invalidations of the other instances of the key prefix as well (default
		 * {@code false}): each instance that invalidates sends its {@link TagsInvalidatedEvent} over Redis
		 * pub/sub, and the others publish it with {@code local()} {@code false}. Like the local event,
		 * it is sent once Redis acknowledged the invalidation (after the transaction completed); it is a
		 * notice, lost by an instance whose subscription is down at that moment.
		 * @param broadcast whether to broadcast events
		 * @return this builder
		 */
		public Builder broadcastEvents(boolean broadcast) {
			this.broadcastEvents = broadcast;
			return this;
		}

		/**
		 * Add a listener told about every Redis round trip, for latency metrics.
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder operationListener(RedisOperationListener listener) {
			Assert.notNull(listener, "Listener must not be null");
			this.operationListeners.add(listener);
			return this;
		}

		/**
		 * Add a listener told about each cache created on demand, after start-up (caches configured
		 * on the builder are not reported), for example to bind its meters.
		 * @param listener the listener
		 * @return this builder
		 */
		public Builder cacheCreationListener(Consumer<? super RedisTaggedCache> listener) {
			Assert.notNull(listener, "Listener must not be null");
			this.cacheCreationListeners.add(listener);
			return this;
		}

		private RedisTaggedCacheWriter writer(RedisOperationListener listener) {
			if (this.writer != null) {
				return this.writer;
			}
			Assert.state(this.connectionFactory != null, "A connection factory or a writer is needed");
			return new DefaultRedisTaggedCacheWriter(this.connectionFactory, this.fenceRetention,
					this.inlineInvalidationLimit, this.drainBudget, listener);
		}

		/**
		 * Build the manager.
		 * @return the manager
		 * @throws IllegalStateException when settings of the writer the builder creates were set on a
		 * builder given a writer of its own
		 */
		public RedisTaggedCacheManager build() {
			if (this.writer != null && !this.writerSettings.isEmpty()) {
				throw new IllegalStateException("The builder was given a writer of its own, which has its own "
						+ "settings; " + String.join(", ", this.writerSettings) + " configure the writer the builder "
						+ "creates from a connection factory");
			}
			if (this.broadcastEvents && this.writer != null) {
				throw new IllegalStateException("Broadcast invalidation events (tagcache.events.broadcast) need the "
						+ "writer the builder creates from a Lettuce connection factory; the builder was given a writer "
						+ "of its own");
			}
			if (usesNearCaches()) {
				if (this.writer != null) {
					throw new IllegalStateException("Near caches (tagcache.near-cache.enabled) need the writer the "
							+ "builder creates from a Lettuce connection factory: they learn of other instances' "
							+ "changes through its Redis pub/sub; the builder was given a writer of its own");
				}
				if (!ClassUtils.isPresent("com.github.benmanes.caffeine.cache.Caffeine",
						RedisTaggedCacheManager.class.getClassLoader())) {
					throw new IllegalStateException("Near caches (tagcache.near-cache.enabled) are Caffeine caches: "
							+ "add com.github.ben-manes.caffeine:caffeine to the application's dependencies");
				}
			}
			return new RedisTaggedCacheManager(this);
		}

	}

}
