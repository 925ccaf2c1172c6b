package io.tagcache.metrics;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tagcache.Loaded;
import io.tagcache.TaggedCacheStatistics;
import io.tagcache.UncachedCause;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TestCaches;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.boot.cache.metrics.CacheMetricsRegistrar;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every meter of a tagged cache and of its manager, read after the operation on real Redis that
 * moves it, with the caches bound the way Boot binds them: through {@link CacheMetricsRegistrar}
 * and our provider.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class TaggedCacheMetricsIntegrationTests {

	private static final Tag MANAGER_TAG = Tag.of("cache.manager", "tagcache");

	@Parameter
	RedisTopology redis;

	private final MeterRegistry registry = new SimpleMeterRegistry();

	private final CacheMetricsRegistrar registrar = new CacheMetricsRegistrar(this.registry,
			List.of(new TaggedCacheMeterBinderProvider()));

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache users;

	@BeforeEach
	void bindMeters() {
		this.manager = TestCaches.manager(this.redis,
				builder -> builder.withCacheNames("users")
					.operationListener(new TagCacheRedisMetrics(this.registry, Tags.of(MANAGER_TAG)))
					.cacheCreationListener(cache -> this.registrar.bindCacheToRegistry(cache, MANAGER_TAG)));
		this.users = this.manager.getCache("users");
		assertThat(this.registrar.bindCacheToRegistry(this.users, MANAGER_TAG))
			.as("Boot's registrar picks our provider for a tagged cache")
			.isTrue();
		new TaggedCacheManagerMetrics(this.manager, Tags.of(MANAGER_TAG)).bindTo(this.registry);
	}

	@Test
	void uncachedCountsEveryCauseAndSumsItsSources() {
		new TagCacheUncachedMetrics(List.of(this.manager::getUncachedResults,
				(cause) -> (cause == UncachedCause.TAG_EXPRESSION) ? 5 : 0), Tags.of(MANAGER_TAG))
			.bindTo(this.registry);
		this.users.put(1L, new Opaque("secret"));
		this.users.put(2L, new Opaque("other"));

		assertThat(this.registry.get("tagcache.uncached").tags("cause", "not-readable").functionCounter().count())
			.isEqualTo(2);
		assertThat(this.registry.get("tagcache.uncached").tags("cause", "tag-expression").functionCounter().count())
			.isEqualTo(5);
		assertThat(this.registry.get("tagcache.uncached").tag("cache.manager", "tagcache").functionCounters())
			.extracting((counter) -> counter.getId().getTag("cause"))
			.containsExactlyInAnyOrderElementsOf(
					java.util.Arrays.stream(UncachedCause.values()).map(UncachedCause::tagValue).toList());
	}

	/** Written as {} by Jackson: private state, no getters. */
	static class Opaque {

		private final String secret;

		Opaque(String secret) {
			this.secret = secret;
		}

	}

	@Test
	void theStandardCacheMetersCarryTheCacheAndManagerNames() {
		Meter gets = this.registry.get("cache.gets").tag("result", "hit").meter();
		assertThat(gets.getId().getTags()).contains(Tag.of("name", "users"), Tag.of("cache", "users"), MANAGER_TAG);
		assertThat(this.registry.find("cache.puts").tags("name", "users").functionCounter()).isNotNull();
		assertThat(this.registry.find("cache.evictions").tags("name", "users").functionCounter()).isNotNull();
		assertThat(this.registry.find("cache.size").meters()).as("never walks Redis to count entries").isEmpty();
	}

	@Test
	void hitsMissesAndPutsAreCounted() {
		assertThat(this.users.get(1L)).isNull();
		assertThat(count("cache.gets", "result", "miss")).isEqualTo(1);
		assertThat(count("cache.gets", "result", "hit")).isZero();
		this.users.put(1L, "alice", List.of("user-1"));
		assertThat(count("cache.puts")).isEqualTo(1);
		assertThat(this.users.get(1L)).isNotNull();
		assertThat(count("cache.gets", "result", "hit")).isEqualTo(1);
		assertThat(count("cache.gets", "result", "miss")).isEqualTo(1);
	}

	@Test
	void evictionsCountEntriesRemovedByKeyAndByClear() {
		this.users.put(1L, "alice", List.of("user-1"));
		this.users.put(2L, "bob", List.of("user-2"));
		this.users.put(3L, "carol", List.of("user-3"));
		this.users.evict(1L);
		assertThat(count("cache.evictions")).isEqualTo(1);
		this.users.clear();
		assertThat(count("cache.evictions")).isEqualTo(3);
	}

	@Test
	void invalidationsAndTheEntriesTheyRemovedAreCounted() {
		this.users.put(1L, "alice", List.of("user-1", "loc-1"));
		this.users.put("alice@a", "alice", List.of("user-1", "loc-1"));
		this.users.put(2L, "bob", List.of("user-2", "loc-2"));
		assertThat(this.manager.invalidate("user-1")).isEqualTo(2);
		assertThat(count("tagcache.invalidations")).isEqualTo(1);
		assertThat(count("tagcache.invalidated.entries")).isEqualTo(2);
		this.users.invalidateTags(List.of("loc-2"));
		assertThat(count("tagcache.invalidations")).isEqualTo(2);
		assertThat(count("tagcache.invalidated.entries")).isEqualTo(3);
	}

	@Test
	void aFencedPutRefusedAfterAnInvalidationIsCountedAsRejected() {
		long fence = this.users.readFence(1L);
		this.manager.invalidate("user-1");
		assertThat(this.users.putFenced(1L, "stale alice", List.of("user-1"), null, fence)).isFalse();
		assertThat(count("tagcache.puts.rejected")).isEqualTo(1);
		assertThat(count("cache.puts")).isZero();
	}

	@Test
	void freshnessMetersCountRefreshesStaleValuesAndSyncWaits() {
		this.users.get(1L, String.class, false, () -> Loaded.of("alice", List.of("user-1")));
		assertThat(count("tagcache.refreshes", "reason", "stale")).isZero();
		this.manager.softInvalidate("user-1");
		this.users.get(1L, String.class, false, () -> Loaded.of("alice, again", List.of("user-1")));

		assertThat(count("tagcache.refreshes", "reason", "stale")).isEqualTo(1);
		assertThat(count("tagcache.refreshes", "reason", "early")).isZero();
		assertThat(count("tagcache.stale.served", "reason", "revalidate")).isZero();
		assertThat(count("tagcache.stale.served", "reason", "error")).isZero();
		assertThat(this.registry.get("tagcache.sync.waits").tags("name", "users").functionCounter().count()).isZero();
	}

	@Test
	void everyOperationHasAnErrorCounterStartingAtZero() {
		for (String operation : TaggedCacheStatistics.OPERATIONS) {
			assertThat(count("tagcache.errors", "operation", operation)).as(operation).isZero();
		}
		assertThat(this.registry.find("tagcache.errors").tags("name", "users").functionCounters())
			.hasSize(TaggedCacheStatistics.OPERATIONS.size());
	}

	@Test
	void redisRoundTripsAreTimedPerOperationAndOutcome() {
		this.users.put(1L, "alice", List.of("user-1"));
		this.users.get(1L);
		this.users.get(2L);
		assertThat(this.registry.get(TagCacheRedisMetrics.METER_NAME)
			.tags("operation", "get", "outcome", "success")
			.tag(MANAGER_TAG.getKey(), MANAGER_TAG.getValue())
			.timer()
			.count()).isEqualTo(2);
		assertThat(this.registry.get(TagCacheRedisMetrics.METER_NAME)
			.tags("operation", "get", "outcome", "failure")
			.timer()
			.count()).as("registered with its success twin, at zero").isZero();
		assertThat(this.registry.get(TagCacheRedisMetrics.METER_NAME)
			.tags("operation", "put", "outcome", "success")
			.timer()
			.count()).isEqualTo(1);
	}

	@Test
	void theManagerMetersStartAtZeroWhileRedisAnswers() {
		assertThat(this.registry.get("tagcache.invalidations.pending").tags(MANAGER_TAG.getKey(), MANAGER_TAG.getValue())
			.gauge()
			.value()).isZero();
		assertThat(this.registry.get("tagcache.invalidations.overflows").functionCounter().count()).isZero();
	}

	@Test
	void aCacheCreatedLaterIsBoundThroughTheCreationListener() {
		RedisTaggedCache lists = this.manager.getCache("lists");
		lists.put(1L, List.of("alice"), List.of("user-1"));
		assertThat(this.registry.get("cache.puts").tags("name", "lists").functionCounter().count()).isEqualTo(1);
	}

	@Test
	void noMeterIsTaggedWithAKeyOrATagValue() {
		this.users.put("alice@a", "alice", List.of("user-1", "loc-1"));
		this.users.get("alice@a");
		this.manager.invalidate("loc-1");
		Set<String> tagValues = this.registry.getMeters()
			.stream()
			.flatMap(meter -> meter.getId().getTags().stream())
			.map(Tag::getValue)
			.collect(Collectors.toSet());
		assertThat(tagValues).doesNotContain("alice@a", "user-1", "loc-1");
	}

	private double count(String name, String... tags) {
		return this.registry.get(name).tags("name", "users").tags(tags).functionCounter().count();
	}

}
