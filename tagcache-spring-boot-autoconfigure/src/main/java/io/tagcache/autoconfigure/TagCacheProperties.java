package io.tagcache.autoconfigure;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jspecify.annotations.Nullable;

import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Configuration properties of tagcache. The Redis connection itself is Spring Boot's
 * {@code spring.data.redis.*}.
 */
@ConfigurationProperties("tagcache")
public class TagCacheProperties {

	/**
	 * Whether to enable tagcache: its cache manager, annotations, metrics and endpoint.
	 */
	private boolean enabled = true;

	/**
	 * Prefix of every Redis key tagcache writes. Applications that share a Redis and must not see
	 * each other's caches use different prefixes.
	 */
	private String keyPrefix = "tagcache";

	/**
	 * Time to live of entries of caches without their own setting. Zero means entries never expire.
	 */
	private Duration timeToLive = Duration.ofHours(1);

	/**
	 * Whether to cache null values.
	 */
	private boolean cacheNullValues = true;

	/**
	 * Whether caches that are not configured under 'tagcache.caches' are created on first use.
	 */
	private boolean createMissingCaches = true;

	/**
	 * Packages (with their sub-packages) or class names whose instances untyped reads, such as
	 * Spring's @Cacheable, may read back, in addition to the application's packages and plain JDK
	 * value types.
	 */
	private List<String> allowedTypes = new ArrayList<>();

	/**
	 * How long invalidations are remembered to refuse stale writes. A load that takes longer than
	 * this and overlaps an invalidation is not stored.
	 */
	private Duration fenceRetention = Duration.ofMinutes(10);

	/**
	 * Largest number of entries one invalidation script removes; larger tags are detached
	 * atomically and drained by scripts bounded by the drain budget.
	 */
	private int inlineInvalidationLimit = 200;

	/**
	 * Redis time after which one drain script of a large tag stops (it then ends within about
	 * one more group of 32 entries); Redis serves other clients between two drain scripts.
	 */
	private Duration drainBudget = Duration.ofMillis(1);

	/**
	 * Longest time an invalidation issued inside a Spring transaction holds its tags: until the
	 * transaction completes no instance stores a value carrying them; if the JVM dies meanwhile, the
	 * hold ends on its own after this long.
	 */
	private Duration transactionHold = Duration.ofMinutes(1);

	/**
	 * How long a synchronized load (sync = true, Cache.get(key, Callable)) waits for the load of the
	 * same key by another instance before it calls the method itself; also how long the lease of a
	 * load lasts when its holder dies.
	 */
	private Duration syncTimeout = Duration.ofSeconds(10);

	/**
	 * Early refresh factor (XFetch's beta): a hit near expiry reloads the entry with a probability
	 * that grows as expiry nears, sooner for slow loads and larger values. Zero turns it off.
	 */
	private double earlyRefreshBeta = 1.0;

	/**
	 * How long a soft-invalidated entry is served as stale while one caller per key reloads it.
	 */
	private Duration staleWhileRevalidate = Duration.ofMinutes(1);

	/**
	 * How long after it expired or was soft-invalidated an entry is served when its reload throws.
	 * Zero turns it off; otherwise entries stay that much longer in Redis.
	 */
	private Duration staleIfError = Duration.ZERO;

	/**
	 * Caches created at start-up, by name, with their own settings (for example
	 * 'tagcache.caches.books.time-to-live'): 'time-to-live', the time to live of the cache's entries,
	 * zero for entries that never expire (unset means 'tagcache.time-to-live'); 'cache-null-values',
	 * whether the cache stores null values (unset means 'tagcache.cache-null-values'); 'shards', the
	 * number of Redis Cluster hash slots the cache's entries are spread over (default 1);
	 * 'early-refresh-beta', the cache's early refresh factor (unset means 'tagcache.early-refresh-beta');
	 * 'stale-while-revalidate', how long its soft-invalidated entries are served as stale (unset means
	 * 'tagcache.stale-while-revalidate'); 'stale-if-error', how long after they became stale its entries
	 * are served when their reload throws (unset means 'tagcache.stale-if-error'); 'near-cache.enabled',
	 * whether the cache keeps a near cache in each JVM (unset means 'tagcache.near-cache.enabled').
	 */
	private Map<String, Cache> caches = new LinkedHashMap<>();

	/**
	 * The near cache: values kept in each JVM in front of Redis.
	 */
	private final NearCache nearCache = new NearCache();

	/**
	 * Invalidation events published in the application context.
	 */
	private final Events events = new Events();

	/**
	 * HTTP caches in front of the application: cache tag headers and purges.
	 */
	private final Http http = new Http();

	/**
	 * How tagcache behaves while Redis is unreachable.
	 */
	private final Outage outage = new Outage();

	public boolean isEnabled() {
		return this.enabled;
	}

	public void setEnabled(boolean enabled) {
		this.enabled = enabled;
	}

	public String getKeyPrefix() {
		return this.keyPrefix;
	}

	public void setKeyPrefix(String keyPrefix) {
		this.keyPrefix = keyPrefix;
	}

	public Duration getTimeToLive() {
		return this.timeToLive;
	}

	public void setTimeToLive(Duration timeToLive) {
		this.timeToLive = timeToLive;
	}

	public boolean isCacheNullValues() {
		return this.cacheNullValues;
	}

	public void setCacheNullValues(boolean cacheNullValues) {
		this.cacheNullValues = cacheNullValues;
	}

	public boolean isCreateMissingCaches() {
		return this.createMissingCaches;
	}

	public void setCreateMissingCaches(boolean createMissingCaches) {
		this.createMissingCaches = createMissingCaches;
	}

	public List<String> getAllowedTypes() {
		return this.allowedTypes;
	}

	public void setAllowedTypes(List<String> allowedTypes) {
		this.allowedTypes = allowedTypes;
	}

	public Duration getFenceRetention() {
		return this.fenceRetention;
	}

	public void setFenceRetention(Duration fenceRetention) {
		this.fenceRetention = fenceRetention;
	}

	public int getInlineInvalidationLimit() {
		return this.inlineInvalidationLimit;
	}

	public void setInlineInvalidationLimit(int inlineInvalidationLimit) {
		this.inlineInvalidationLimit = inlineInvalidationLimit;
	}

	public Duration getTransactionHold() {
		return this.transactionHold;
	}

	public void setTransactionHold(Duration transactionHold) {
		this.transactionHold = transactionHold;
	}

	public Duration getDrainBudget() {
		return this.drainBudget;
	}

	public void setDrainBudget(Duration drainBudget) {
		this.drainBudget = drainBudget;
	}

	public Duration getSyncTimeout() {
		return this.syncTimeout;
	}

	public void setSyncTimeout(Duration syncTimeout) {
		this.syncTimeout = syncTimeout;
	}

	public double getEarlyRefreshBeta() {
		return this.earlyRefreshBeta;
	}

	public void setEarlyRefreshBeta(double earlyRefreshBeta) {
		this.earlyRefreshBeta = earlyRefreshBeta;
	}

	public Duration getStaleWhileRevalidate() {
		return this.staleWhileRevalidate;
	}

	public void setStaleWhileRevalidate(Duration staleWhileRevalidate) {
		this.staleWhileRevalidate = staleWhileRevalidate;
	}

	public Duration getStaleIfError() {
		return this.staleIfError;
	}

	public void setStaleIfError(Duration staleIfError) {
		this.staleIfError = staleIfError;
	}

	public Map<String, Cache> getCaches() {
		return this.caches;
	}

	public void setCaches(Map<String, Cache> caches) {
		this.caches = caches;
	}

	public Outage getOutage() {
		return this.outage;
	}

	public NearCache getNearCache() {
		return this.nearCache;
	}

	public Events getEvents() {
		return this.events;
	}

	public Http getHttp() {
		return this.http;
	}

	/**
	 * Settings of one cache: the properties {@code tagcache.caches.<name>.*}.
	 * <p>
	 * The configuration processor stops at the values of a map (spring-boot#9945): it writes no metadata
	 * for these properties, so their descriptions and defaults are also written out in the description
	 * of {@code tagcache.caches} (the javadoc of the field {@code caches}) and in the README's table;
	 * {@code ConfigurationMetadataTests} fails when a property added here is missing from either. IDEs
	 * that resolve the map's value type complete these properties from this class; the javadoc of its
	 * fields is the only description of them they can find.
	 */
	public static class Cache {

		/**
		 * Time to live of the cache's entries. Zero means entries never expire; unset means
		 * 'tagcache.time-to-live'.
		 */
		private @Nullable Duration timeToLive;

		/**
		 * Whether the cache stores null values; unset means 'tagcache.cache-null-values'.
		 */
		private @Nullable Boolean cacheNullValues;

		/**
		 * Number of Redis Cluster hash slots the cache's entries are spread over; default 1. One keeps
		 * the cache on one node and its invalidations atomic; more spread a big cache over the
		 * cluster, and an invalidation then sends one script per shard, all at once.
		 */
		private int shards = 1;

		/**
		 * Early refresh factor of the cache; zero turns early refresh off. Unset means
		 * 'tagcache.early-refresh-beta'.
		 */
		private @Nullable Double earlyRefreshBeta;

		/**
		 * How long the cache's soft-invalidated entries are served as stale while one caller per key
		 * reloads them. Unset means 'tagcache.stale-while-revalidate'.
		 */
		private @Nullable Duration staleWhileRevalidate;

		/**
		 * How long after they expired or were soft-invalidated the cache's entries are served when
		 * their reload throws; zero turns it off. Unset means 'tagcache.stale-if-error'.
		 */
		private @Nullable Duration staleIfError;

		/**
		 * The cache's near cache.
		 */
		private final CacheNearCache nearCache = new CacheNearCache();

		public CacheNearCache getNearCache() {
			return this.nearCache;
		}

		public @Nullable Double getEarlyRefreshBeta() {
			return this.earlyRefreshBeta;
		}

		public void setEarlyRefreshBeta(@Nullable Double earlyRefreshBeta) {
			this.earlyRefreshBeta = earlyRefreshBeta;
		}

		public @Nullable Duration getStaleWhileRevalidate() {
			return this.staleWhileRevalidate;
		}

		public void setStaleWhileRevalidate(@Nullable Duration staleWhileRevalidate) {
			this.staleWhileRevalidate = staleWhileRevalidate;
		}

		public @Nullable Duration getStaleIfError() {
			return this.staleIfError;
		}

		public void setStaleIfError(@Nullable Duration staleIfError) {
			this.staleIfError = staleIfError;
		}

		public int getShards() {
			return this.shards;
		}

		public void setShards(int shards) {
			this.shards = shards;
		}

		public @Nullable Duration getTimeToLive() {
			return this.timeToLive;
		}

		public void setTimeToLive(@Nullable Duration timeToLive) {
			this.timeToLive = timeToLive;
		}

		public @Nullable Boolean getCacheNullValues() {
			return this.cacheNullValues;
		}

		public void setCacheNullValues(@Nullable Boolean cacheNullValues) {
			this.cacheNullValues = cacheNullValues;
		}

	}

	/**
	 * The near cache of one cache: {@code tagcache.caches.<name>.near-cache.*}.
	 */
	public static class CacheNearCache {

		/**
		 * Whether the cache keeps a near cache in each JVM; unset means 'tagcache.near-cache.enabled'.
		 */
		private @Nullable Boolean enabled;

		public @Nullable Boolean getEnabled() {
			return this.enabled;
		}

		public void setEnabled(@Nullable Boolean enabled) {
			this.enabled = enabled;
		}

	}

	/**
	 * Values kept in each JVM in front of Redis.
	 */
	public static class NearCache {

		/**
		 * Whether caches keep a near cache (Caffeine) in each JVM: a hit returns the value kept in the
		 * JVM, shared with every caller; changes made through tagcache by any instance reach it through
		 * Redis pub/sub, and it serves nothing while that subscription is down.
		 */
		private boolean enabled;

		/**
		 * Most entries each near cache keeps.
		 */
		private long maximumSize = 10_000;

		public boolean isEnabled() {
			return this.enabled;
		}

		public void setEnabled(boolean enabled) {
			this.enabled = enabled;
		}

		public long getMaximumSize() {
			return this.maximumSize;
		}

		public void setMaximumSize(long maximumSize) {
			this.maximumSize = maximumSize;
		}

	}

	/**
	 * HTTP caches in front of the application.
	 */
	public static class Http {

		/**
		 * Response headers that carry the tags of the entries a Spring MVC request read or stored
		 * through @CacheableTagged: any of 'surrogate-key' (Fastly), 'cache-tag' (Cloudflare), 'xkey'
		 * (Varnish), 'edge-cache-tag' (Akamai). Empty: no headers.
		 */
		private List<String> headers = new ArrayList<>();

		/**
		 * Varnish servers to purge.
		 */
		private final Varnish varnish = new Varnish();

		public List<String> getHeaders() {
			return this.headers;
		}

		public void setHeaders(List<String> headers) {
			this.headers = headers;
		}

		public Varnish getVarnish() {
			return this.varnish;
		}

	}

	/**
	 * Varnish servers with vmod-xkey in front of the application.
	 */
	public static class Varnish {

		/**
		 * URLs that each invalidation issued by this instance sends a PURGE to, with the header
		 * 'xkey-purge' (soft invalidations 'xkey-softpurge') listing its tags, after Redis acknowledged
		 * it (after commit in a transaction). Empty: no purge.
		 */
		private List<URI> purgeUrls = new ArrayList<>();

		public List<URI> getPurgeUrls() {
			return this.purgeUrls;
		}

		public void setPurgeUrls(List<URI> purgeUrls) {
			this.purgeUrls = purgeUrls;
		}

	}

	/**
	 * Invalidation events ({@code io.tagcache.TagsInvalidatedEvent}).
	 */
	public static class Events {

		/**
		 * Whether every instance of the key prefix also publishes the invalidations of the other
		 * instances (with 'local' false), received through Redis pub/sub.
		 */
		private boolean broadcast;

		public boolean isBroadcast() {
			return this.broadcast;
		}

		public void setBroadcast(boolean broadcast) {
			this.broadcast = broadcast;
		}

	}

	/**
	 * Behaviour while Redis is unreachable.
	 */
	public static class Outage {

		/**
		 * Number of consecutive Redis failures after which calls skip Redis for the cool-down.
		 */
		private int failureThreshold = 3;

		/**
		 * How long calls skip Redis after repeated failures before one call probes it again.
		 */
		private Duration coolDown = Duration.ofSeconds(5);

		/**
		 * Largest number of invalidations kept for replay while Redis is unreachable; beyond it,
		 * the caches they concern are cleared when Redis returns.
		 */
		private int pendingInvalidations = 10_000;

		/**
		 * How long an invalidation that could not reach Redis waits for it to answer again (counted
		 * from the first invalidation queued in an outage) before it returns queued; until the
		 * replay, other instances may read what it removes.
		 */
		private Duration invalidationWait = Duration.ofSeconds(2);

		public Duration getInvalidationWait() {
			return this.invalidationWait;
		}

		public void setInvalidationWait(Duration invalidationWait) {
			this.invalidationWait = invalidationWait;
		}

		public int getFailureThreshold() {
			return this.failureThreshold;
		}

		public void setFailureThreshold(int failureThreshold) {
			this.failureThreshold = failureThreshold;
		}

		public Duration getCoolDown() {
			return this.coolDown;
		}

		public void setCoolDown(Duration coolDown) {
			this.coolDown = coolDown;
		}

		public int getPendingInvalidations() {
			return this.pendingInvalidations;
		}

		public void setPendingInvalidations(int pendingInvalidations) {
			this.pendingInvalidations = pendingInvalidations;
		}

	}

}
