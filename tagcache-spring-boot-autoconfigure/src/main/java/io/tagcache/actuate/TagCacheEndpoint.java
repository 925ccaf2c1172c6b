package io.tagcache.actuate;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.tagcache.TaggedCacheStatistics;
import io.tagcache.http.TagPurges;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;
import org.springframework.boot.actuate.endpoint.OperationResponseBody;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.dao.DataAccessException;
import org.springframework.util.Assert;

/**
 * The {@code tagcache} endpoint: what the caches of a key prefix hold, and a way to invalidate a
 * tag by hand (after fixing data behind the application's back, say).
 * <ul>
 * <li>{@code GET /actuator/tagcache}: every cache of the key prefix, including caches only other
 * instances opened, with its entry and tag counts;</li>
 * <li>{@code GET /actuator/tagcache/{tag}}: how many live entries of each cache carry the tag;</li>
 * <li>{@code DELETE /actuator/tagcache/{tag}}: invalidate the tag in every cache, answering the
 * number of entries removed.</li>
 * </ul>
 *
 * <p>Listing the caches counts with {@code SCAN} (never {@code KEYS}, which would block Redis
 * for the whole keyspace), but {@code SCAN MATCH} still visits every key of the database, twice
 * per cache: it is for an operator, not for a monitoring system to poll; the meters are for that.
 * Counting a tag is one {@code ZCOUNT} per cache. Counts bypass the manager's outage guard and
 * wait at most the Redis command timeout.
 *
 * <p>An invalid tag (blank, longer than 1 KiB, holding a control character) is a bad request
 * (HTTP 400 with the reason), not a server error. When Redis does not answer, the list of caches
 * still answers, with the caches this instance opened, no counts and the error; an invalidation
 * is then queued for replay ({@code removed} is {@code 0} and {@code pendingInvalidations} shows
 * it waiting), as {@link RedisTaggedCacheManager#invalidate} does; counting a tag then fails
 * with the {@code DataAccessException}, as there is nothing to count from.
 *
 * <p>Needs only the manager; Boot exposes it once it is a bean and
 * {@code management.endpoints.web.exposure.include} lists {@code tagcache}.
 */
@Endpoint(id = "tagcache")
public class TagCacheEndpoint {

	private final RedisTaggedCacheManager manager;

	private final @Nullable TagPurges purges;

	/**
	 * Create the endpoint.
	 * @param manager the manager whose key prefix the endpoint shows
	 */
	public TagCacheEndpoint(RedisTaggedCacheManager manager) {
		this(manager, null);
	}

	/**
	 * An endpoint that also shows the purges waiting for HTTP caches.
	 * @param manager the manager
	 * @param purges the purge queues, {@code null} without purges
	 */
	public TagCacheEndpoint(RedisTaggedCacheManager manager, @Nullable TagPurges purges) {
		Assert.notNull(manager, "Manager must not be null");
		this.manager = manager;
		this.purges = purges;
	}

	/**
	 * Describe every cache of the key prefix.
	 * @return the caches with their counts, and the manager's state
	 */
	@ReadOperation
	public CachesDescriptor caches() {
		Collection<String> opened = this.manager.getCacheNames();
		Map<String, CacheDescriptor> caches = new LinkedHashMap<>();
		String error = null;
		try {
			for (String name : this.manager.getAllCacheNames()) {
				caches.put(name, CacheDescriptor.of(this.manager.countEntries(name), this.manager.countTags(name),
						configuration(name, opened), nearCache(name, opened)));
			}
		}
		catch (DataAccessException ex) {
			caches.clear();
			opened.forEach(name -> caches.put(name,
					CacheDescriptor.of(null, null, configuration(name, opened), nearCache(name, opened))));
			error = ex.getMessage();
		}
		return new CachesDescriptor(this.manager.getKeyPrefix(), this.manager.isRedisAvailable(),
				this.manager.getPendingInvalidations(), caches, error, pendingPurges());
	}

	/**
	 * Count the live entries carrying a tag, per cache.
	 * @param tag the tag
	 * @return the count in each cache that holds any, and their total
	 * @throws InvalidEndpointRequestException if the tag is invalid
	 */
	@ReadOperation
	public TagDescriptor tag(@Selector String tag) {
		Map<String, Long> caches = validTag(() -> this.manager.countEntriesWithTag(tag));
		long total = caches.values().stream().mapToLong(Long::longValue).sum();
		return new TagDescriptor(tag, caches, total);
	}

	/**
	 * Invalidate a tag in every cache of the key prefix.
	 * @param tag the tag
	 * @return how many entries were removed
	 * @throws InvalidEndpointRequestException if the tag is invalid
	 */
	@DeleteOperation
	public InvalidationDescriptor invalidate(@Selector String tag) {
		long removed = validTag(() -> this.manager.invalidate(tag));
		return new InvalidationDescriptor(tag, removed, this.manager.getPendingInvalidations());
	}

	/**
	 * Remove the entries of one cache whose key matches a Redis glob ({@code SCAN}, never {@code KEYS}).
	 * @param cache the cache, one of those the key prefix knows
	 * @param pattern a glob over the cache's keys, such as {@code mail:*}
	 * @return how many entries were removed
	 * @throws InvalidEndpointRequestException for an unknown cache or a blank pattern
	 */
	@WriteOperation
	public EvictionDescriptor evict(String cache, String pattern) {
		if (!this.manager.getAllCacheNames().contains(cache)) {
			throw new InvalidEndpointRequestException("No cache '" + cache + "' with key prefix '"
					+ this.manager.getKeyPrefix() + "'", "No such cache");
		}
		RedisTaggedCache target = this.manager.getCache(cache);
		Assert.state(target != null, () -> "No cache '" + cache + "'");
		long removed = validTag(() -> target.evictByPattern(pattern));
		return new EvictionDescriptor(cache, pattern, removed, this.manager.getPendingInvalidations());
	}

	private RedisTaggedCacheConfiguration configuration(String name, Collection<String> opened) {
		RedisTaggedCache cache = opened.contains(name) ? this.manager.getCache(name) : null;
		return (cache != null) ? cache.getConfiguration() : this.manager.getCacheDefaults();
	}

	/** Turn the engine's validation failure into a bad request rather than a server error. */
	private static <T> T validTag(Supplier<T> operation) {
		try {
			return operation.get();
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidEndpointRequestException(ex.getMessage(), ex.getMessage(), ex);
		}
	}

	/**
	 * The caches of a key prefix.
	 * @param keyPrefix the prefix of every Redis key of the caches
	 * @param redisAvailable whether this instance currently uses Redis: {@code false} while it
	 * skips Redis after repeated failures or invalidations wait to be replayed
	 * @param pendingInvalidations how many invalidations wait for Redis to be replayed
	 * @param caches the caches by name
	 * @param error why the counts are missing, when Redis did not answer
	 * @param pendingPurges the tags waiting to be purged from each HTTP cache (by purger name), when
	 * invalidations purge HTTP caches
	 */
	@JsonInclude(JsonInclude.Include.NON_NULL)
	public record CachesDescriptor(String keyPrefix, boolean redisAvailable, int pendingInvalidations,
			Map<String, CacheDescriptor> caches, @Nullable String error,
			@Nullable Map<String, Integer> pendingPurges) implements OperationResponseBody {
	}

	/** The tags waiting to be purged from each HTTP cache, {@code null} without purges. */
	private @Nullable Map<String, Integer> pendingPurges() {
		TagPurges purges = this.purges;
		if (purges == null) {
			return null;
		}
		Map<String, Integer> pending = new LinkedHashMap<>();
		purges.getQueues().forEach(queue -> pending.merge(queue.name(), queue.getPending(), Integer::sum));
		return pending;
	}

	/**
	 * One cache.
	 * @param entries how many entries it holds, {@code null} when Redis did not answer
	 * @param tags how many tags have at least one entry, {@code null} when Redis did not answer
	 * @param timeToLive the entries' time to live, ISO-8601 ({@code PT0S}: never expire)
	 * @param shards the number of hash slots the cache is spread over
	 * @param earlyRefreshBeta the early refresh factor, {@code 0} when off
	 * @param staleWhileRevalidate how long soft-invalidated entries are served stale, ISO-8601
	 * @param staleIfError how long stale entries are served when their reload throws, ISO-8601
	 * ({@code PT0S}: off)
	 * @param nearCache this instance's near cache of the cache, {@code null} without one
	 * <p>The settings of a cache this instance has not opened are the manager's defaults.
	 */
	@JsonInclude(JsonInclude.Include.NON_NULL)
	public record CacheDescriptor(@Nullable Long entries, @Nullable Long tags, String timeToLive, int shards,
			double earlyRefreshBeta, String staleWhileRevalidate, String staleIfError,
			@Nullable NearCacheDescriptor nearCache) {

		/** Without a near cache. */
		public CacheDescriptor(@Nullable Long entries, @Nullable Long tags, String timeToLive, int shards,
				double earlyRefreshBeta, String staleWhileRevalidate, String staleIfError) {
			this(entries, tags, timeToLive, shards, earlyRefreshBeta, staleWhileRevalidate, staleIfError, null);
		}

		static CacheDescriptor of(@Nullable Long entries, @Nullable Long tags,
				RedisTaggedCacheConfiguration configuration, @Nullable NearCacheDescriptor nearCache) {
			return new CacheDescriptor(entries, tags, configuration.getTimeToLive().toString(), configuration.getShards(),
					configuration.getEarlyRefreshBeta(), configuration.getStaleWhileRevalidate().toString(),
					configuration.getStaleIfError().toString(), nearCache);
		}

	}

	/**
	 * This instance's near cache of a cache.
	 * @param serving whether it serves: its invalidation channel is subscribed
	 * @param entries how many entries it holds
	 * @param hits lookups it answered
	 * @param misses lookups it left to Redis
	 * @param clears how many times it was cleared because its invalidation channel was lost
	 */
	public record NearCacheDescriptor(boolean serving, long entries, long hits, long misses, long clears) {

	}

	private @Nullable NearCacheDescriptor nearCache(String name, Collection<String> opened) {
		if (!opened.contains(name)) {
			return null;
		}
		RedisTaggedCache cache = this.manager.getCache(name);
		if (cache == null || !cache.getStatistics().hasNearCache()) {
			return null;
		}
		TaggedCacheStatistics statistics = cache.getStatistics();
		return new NearCacheDescriptor(cache.isNearCacheServing(), statistics.getNearCacheSize(),
				statistics.getNearCacheGets("hit"), statistics.getNearCacheGets("miss"), statistics.getNearCacheClears());
	}

	/**
	 * A pattern eviction.
	 * @param cache the cache
	 * @param pattern the glob over its keys
	 * @param removed how many entries it removed, {@code 0} when it was queued (Redis unreachable)
	 * @param pendingInvalidations how many invalidations wait for Redis to be replayed
	 */
	public record EvictionDescriptor(String cache, String pattern, long removed, int pendingInvalidations)
			implements OperationResponseBody {
	}

	/**
	 * The entries carrying a tag.
	 * @param tag the tag
	 * @param caches the live entries carrying it in each cache that holds any
	 * @param total their sum
	 */
	public record TagDescriptor(String tag, Map<String, Long> caches, long total) implements OperationResponseBody {
	}

	/**
	 * The outcome of an invalidation.
	 * @param tag the tag
	 * @param removed how many entries were removed, {@code 0} when the invalidation was queued
	 * @param pendingInvalidations how many invalidations wait for Redis to be replayed afterwards
	 */
	public record InvalidationDescriptor(String tag, long removed, int pendingInvalidations)
			implements OperationResponseBody {
	}

}
