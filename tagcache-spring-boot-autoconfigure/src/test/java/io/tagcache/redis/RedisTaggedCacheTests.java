package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.tagcache.Loaded;
import io.tagcache.TaggedCache;
import io.tagcache.TagsInvalidatedEvent;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.cache.Cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The cache's own logic (loads, fences, single flight, absorbing failures) on a writer in memory,
 * without Redis: {@link RedisTaggedCacheManager#builder(RedisTaggedCacheWriter)}. What Redis does
 * with the same calls is proven by the integration tests.
 */
class RedisTaggedCacheTests {

	private final InMemoryTaggedCacheWriter writer = new InMemoryTaggedCacheWriter();

	private final RedisTaggedCacheManager manager = RedisTaggedCacheManager.builder(this.writer)
		.keyPrefix("unit")
		.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofMinutes(1)))
		.invalidationWait(Duration.ZERO)
		.build();

	private final RedisTaggedCache cache = this.manager.getCache("users");

	private final AtomicInteger loads = new AtomicInteger();

	@AfterEach
	void stop() {
		this.manager.destroy();
	}

	@Test
	void aMissLoadsOnceAndLaterCallsHit() {
		assertThat(this.cache.get(1L, () -> load("Ada"))).isEqualTo("Ada");
		assertThat(this.cache.get(1L, () -> load("other"))).isEqualTo("Ada");
		assertThat(this.loads).hasValue(1);
		assertThat(this.cache.getStatistics().getHits()).isEqualTo(1);
		assertThat(this.cache.getStatistics().getPuts()).isEqualTo(1);
	}

	@Test
	void entriesExpireAfterTheirTimeToLive() {
		this.cache.put(1L, "Ada", List.of("user-1"));
		this.writer.advance(Duration.ofSeconds(59));
		assertThat(this.cache.get(1L, String.class)).isEqualTo("Ada");
		this.writer.advance(Duration.ofSeconds(1));
		assertThat(this.cache.get(1L)).isNull();
	}

	@Test
	void aValueLoadedWhileTheCacheWasClearedIsReturnedButNotStored() {
		String value = this.cache.get(1L, () -> {
			this.cache.clear();
			return load("read before the clear");
		});

		assertThat(value).isEqualTo("read before the clear");
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.getStatistics().getRejectedPuts()).isEqualTo(1);
	}

	@Test
	void aFencedPutIsRefusedAfterAnInvalidationOfOneOfItsTagsButNotOfAnother() {
		long fence = this.cache.readFence(1L);
		this.manager.invalidate(Set.of("user-2"));
		assertThat(this.cache.putFenced(1L, "Ada", List.of("user-1"), null, fence)).isTrue();

		fence = this.cache.readFence(1L);
		this.manager.invalidate(Set.of("user-1"));
		assertThat(this.cache.putFenced(1L, "Ada", List.of("user-1"), null, fence)).isFalse();
		assertThat(this.cache.get(1L)).as("the entry of the first put is gone with its tag").isNull();
	}

	@Test
	void aLoadWhoseFenceWasReadBeforeTheFenceStateWasLostIsNotStored() {
		long fence = this.cache.readFence(1L);
		this.writer.loseFenceState();

		assertThat(this.cache.putFenced(1L, "Ada", List.of("user-1"), null, fence)).isFalse();
		long after = this.cache.readFence(1L);
		assertThat(after).isGreaterThan(fence);
		assertThat(this.cache.putFenced(1L, "Ada", List.of("user-1"), null, after)).isTrue();
	}

	@Test
	void concurrentLoadsOfAKeyShareOneLoaderCall() throws Exception {
		CountDownLatch loading = new CountDownLatch(1);
		CountDownLatch proceed = new CountDownLatch(1);
		CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> this.cache.get(1L, () -> {
			loading.countDown();
			proceed.await();
			return load("Ada");
		}));
		assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();
		CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> this.cache.get(1L, () -> load("twice")));
		// the second caller either waits for the first load or finds its stored value
		proceed.countDown();

		assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("Ada");
		assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("Ada");
		assertThat(this.loads).hasValue(1);
	}

	@Test
	void aCallerAfterAnEvictionDoesNotJoinTheLoadThatStartedBeforeIt() throws Exception {
		CountDownLatch loading = new CountDownLatch(1);
		CountDownLatch proceed = new CountDownLatch(1);
		CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> this.cache.get(1L, () -> {
			String value = load("old");
			loading.countDown();
			proceed.await();
			return value;
		}));
		assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();
		this.cache.evict(1L);

		assertThat(this.cache.get(1L, () -> load("new"))).isEqualTo("new");
		proceed.countDown();
		assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("old");
		assertThat(this.cache.get(1L).get()).as("the older load was refused").isEqualTo("new");
	}

	@Test
	void aLoaderThatAsksForTheKeyItLoadsFailsInsteadOfWaitingForItself() {
		assertThatExceptionOfType(Cache.ValueRetrievalException.class)
			.isThrownBy(() -> this.cache.get(1L, () -> this.cache.get(1L, () -> "inner")))
			.havingRootCause()
			.withMessageContaining("Recursive load of key '1' in cache 'users'");
	}

	@Test
	void aFailingLoaderStoresNothingAndItsExceptionReachesTheCaller() {
		IllegalStateException failure = new IllegalStateException("database down");
		assertThatExceptionOfType(Cache.ValueRetrievalException.class)
			.isThrownBy(() -> this.cache.get(1L, () -> {
				throw failure;
			}))
			.withCause(failure);
		assertThat(this.cache.get(1L)).isNull();
	}

	@Test
	void whenRedisIsDownLoadsReturnTheirValueAndFailuresAreCounted() {
		this.writer.down();

		assertThat(this.cache.get(1L, () -> load("Ada"))).isEqualTo("Ada");
		assertThat(this.cache.get(1L, () -> load("Ada"))).isEqualTo("Ada");
		assertThat(this.loads).as("nothing could be stored").hasValue(2);
		assertThat(this.cache.getStatistics().getErrors()).isPositive();
		assertThat(this.cache.getStatistics().getPuts()).isZero();
	}

	@Test
	void anInvalidationThatCannotReachRedisIsReplayedBeforeRedisServesAgain() {
		this.cache.put(1L, "Ada", List.of("user-1"));
		this.writer.down();
		this.manager.invalidate(Set.of("user-1"));
		this.writer.up();

		assertThat(this.cache.get(1L)).as("read while the invalidation waits for its replay").isNull();
		Awaitility.await().atMost(Duration.ofSeconds(10))
			.until(() -> this.writer.stored(this.cache.keyspaceOf("1"), "1") == null);
		assertThat(this.cache.get(1L, () -> load("Ada, renamed"))).isEqualTo("Ada, renamed");
		assertThat(this.cache.get(1L).get()).isEqualTo("Ada, renamed");
	}

	@Test
	void aPatternEvictionThatCannotReachRedisIsReplayedAsAClearOfTheCache() {
		this.cache.put("session:1", "s", List.of("s-1"));
		this.cache.put("user:1", "u", List.of("user-1"));
		assertThat(this.cache.evictByPattern("session:*")).isEqualTo(1);
		this.cache.put("session:2", "s", List.of("s-2"));

		this.writer.down();
		assertThat(this.cache.evictByPattern("session:*")).as("queued").isZero();
		this.writer.up();
		Awaitility.await().atMost(Duration.ofSeconds(10))
			.until(() -> this.writer.stored(this.cache.keyspaceOf("user:1"), "user:1") == null);
		assertThat(this.writer.stored(this.cache.keyspaceOf("session:2"), "session:2"))
			.as("removing more is safe, less is not: the whole cache was cleared").isNull();
	}

	@Test
	void everyAcknowledgedInvalidationIsPublishedAndAQueuedOneWhenItIsReplayed() {
		List<Object> events = new java.util.concurrent.CopyOnWriteArrayList<>();
		this.manager.setApplicationEventPublisher(events::add);
		this.cache.put(1L, "Ada", List.of("user-1"));
		this.cache.put(2L, "Grace", List.of("user-2"));

		this.manager.invalidate(Set.of("user-1"));
		this.manager.softInvalidate(Set.of("user-2"));
		assertThat(events).containsExactly(new TagsInvalidatedEvent(Set.of("user-1"), false, 1, true),
				new TagsInvalidatedEvent(Set.of("user-2"), true, 1, true));

		this.writer.down();
		this.manager.invalidate(Set.of("user-3"));
		assertThat(events).as("queued, not acknowledged").hasSize(2);
		this.writer.up();
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> events.size() == 3);
		assertThat(events.get(2)).isEqualTo(new TagsInvalidatedEvent(Set.of("user-3"), false, 0, true));
	}

	@Test
	void putIfAbsentReturnsTheEntryInPlace() {
		assertThat(this.cache.putIfAbsent(1L, "Ada")).isNull();
		Cache.ValueWrapper existing = this.cache.putIfAbsent(1L, "Grace");
		assertThat(existing).isNotNull();
		assertThat(existing.get()).isEqualTo("Ada");
	}

	@Test
	void aWriterOfOnesOwnRefusesTheSettingsOfTheWriterTheBuilderCreates() {
		assertThatIllegalStateException()
			.isThrownBy(() -> RedisTaggedCacheManager.builder(this.writer).fenceRetention(Duration.ofMinutes(1)).build())
			.withMessageContaining("fenceRetention");
	}

	@Test
	void theManagerHandsOutItsCachesAsTaggedCaches() {
		assertThat(this.manager.getCache("users")).isSameAs(this.cache).isInstanceOf(TaggedCache.class);
		assertThat(this.writer.registeredCaches("unit")).isEmpty();
		this.cache.put(1L, "Ada", List.of("user-1"));
		assertThat(this.writer.registeredCaches("unit")).containsEntry("users", 1);
	}

	// Freshness: early refresh, stale entries, leases (the writer's clock is the test's)

	private RedisTaggedCacheManager instance(RedisTaggedCacheConfiguration defaults) {
		return RedisTaggedCacheManager.builder(this.writer).keyPrefix("unit").cacheDefaults(defaults)
			.invalidationWait(Duration.ZERO).build();
	}

	private Loaded<String> tagged(String value) {
		return Loaded.of(load(value), List.of("user-1"));
	}

	/** A load that takes 2 s on the writer's clock. */
	private Loaded<String> slowlyTagged(String value) {
		this.writer.advance(Duration.ofSeconds(2));
		return tagged(value);
	}

	@Test
	void aHitNearExpiryRefreshesWithTheXFetchProbabilityAndAFailedRefreshServesTheEntry() {
		RedisTaggedCacheManager eager = instance(RedisTaggedCacheConfiguration.defaultConfig()
			.withTimeToLive(Duration.ofMinutes(1)).withEarlyRefreshBeta(1.0));
		try {
			RedisTaggedCache users = eager.getCache("users");
			users.get(1L, String.class, false, () -> slowlyTagged("v1"));
			// the load took 2 s: with u = 1 - 1/e the gap is 2 s, so a hit 2 s before expiry refreshes
			users.random(() -> 1 - Math.exp(-1));
			this.writer.advance(Duration.ofSeconds(57));
			assertThat(users.get(1L, String.class, false, () -> tagged("early"))).isEqualTo("v1");
			this.writer.advance(Duration.ofMillis(1500));
			assertThat(users.get(1L, String.class, false, () -> slowlyTagged("v2"))).isEqualTo("v2");
			assertThat(users.getStatistics().getRefreshes("early")).isEqualTo(1);

			this.writer.advance(Duration.ofSeconds(59));
			assertThat(users.<String>get(1L, String.class, false, () -> {
				throw new IllegalStateException("database down");
			})).as("a failed early refresh returns the entry, still fresh").isEqualTo("v2");
			assertThat(this.loads).hasValue(2);
		}
		finally {
			eager.destroy();
		}
	}

	@Test
	void aCallerMissingWhileAnEarlyRefreshRunsPastExpiryWaitsForItInsteadOfLoadingAgain() throws Exception {
		RedisTaggedCacheManager eager = instance(RedisTaggedCacheConfiguration.defaultConfig()
			.withTimeToLive(Duration.ofMinutes(1)).withEarlyRefreshBeta(1.0));
		RedisTaggedCacheManager other = instance(RedisTaggedCacheConfiguration.defaultConfig()
			.withTimeToLive(Duration.ofMinutes(1)).withEarlyRefreshBeta(1.0));
		try {
			RedisTaggedCache users = eager.getCache("users");
			users.random(() -> 0.0);
			users.get(1L, String.class, true, () -> slowlyTagged("v1"));
			users.random(() -> 1 - Math.exp(-1));
			this.writer.advance(Duration.ofMillis(59_500));
			CountDownLatch refreshing = new CountDownLatch(1);
			CountDownLatch proceed = new CountDownLatch(1);
			CompletableFuture<String> refresh = CompletableFuture.supplyAsync(() -> users.get(1L, String.class, true,
					() -> {
						refreshing.countDown();
						proceed.await();
						return tagged("v2");
					}));
			assertThat(refreshing.await(10, TimeUnit.SECONDS)).isTrue();
			// the entry expires while the refresh runs; a caller in another instance misses
			this.writer.advance(Duration.ofSeconds(2));
			CompletableFuture<String> missing = CompletableFuture
				.supplyAsync(() -> other.getCache("users").get(1L, String.class, true, () -> tagged("loaded twice")));
			Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !missing.isDone());
			proceed.countDown();

			assertThat(refresh.get(10, TimeUnit.SECONDS)).isEqualTo("v2");
			assertThat(missing.get(10, TimeUnit.SECONDS)).as("the refresh's value").isEqualTo("v2");
			assertThat(this.loads).as("the first load and the refresh").hasValue(2);
			assertThat(users.getStatistics().getRefreshes("early")).isEqualTo(1);
		}
		finally {
			eager.destroy();
			other.destroy();
		}
	}

	@Test
	void earlyRefreshIsOffWithBetaZero() {
		RedisTaggedCacheManager off = instance(RedisTaggedCacheConfiguration.defaultConfig()
			.withTimeToLive(Duration.ofMinutes(1)).withEarlyRefreshBeta(0));
		try {
			RedisTaggedCache users = off.getCache("users");
			users.get(1L, String.class, false, () -> {
				this.writer.advance(Duration.ofSeconds(30));
				return tagged("v1");
			});
			users.random(() -> 0.999999);
			this.writer.advance(Duration.ofMillis(59_999));
			assertThat(users.get(1L, String.class, false, () -> tagged("v2"))).isEqualTo("v1");
		}
		finally {
			off.destroy();
		}
	}

	@Test
	void aSoftInvalidatedEntryIsServedStaleWhileOneCallerReloadsIt() throws Exception {
		this.cache.get(1L, String.class, false, () -> tagged("v1"));
		this.writer.markSoftInvalidated(this.cache.keyspaceOf("1"), "1");
		CacheKeyspace keyspace = this.cache.keyspaceOf("1");

		assertThat(this.cache.get(1L)).as("a plain lookup: stale is a miss").isNull();
		// a caller in another instance, with the same fence (nothing invalidated since), refreshes it
		String holder = this.cache.readFence(1L) + ":someone-else";
		this.writer.leaseAsync(keyspace, "1", holder, Duration.ofSeconds(30), false).join();
		assertThat(this.cache.get(1L, String.class, false, () -> tagged("v2")))
			.as("another caller holds the refresh").isEqualTo("v1");
		assertThat(this.cache.getStatistics().getStaleServed("revalidate")).isEqualTo(1);
		this.writer.releaseLeaseAsync(keyspace, "1", holder).join();

		assertThat(this.cache.get(1L, String.class, false, () -> tagged("v2"))).isEqualTo("v2");
		assertThat(this.cache.getStatistics().getRefreshes("stale")).isEqualTo(1);
		assertThat(this.cache.get(1L, String.class)).isEqualTo("v2");
		assertThat(this.writer.isLeased(keyspace, "1")).as("the lease was given back").isFalse();
	}

	@Test
	void aCallerThatReadTheStaleEntryBeforeAnotherReloadedItTakesTheReloadedValue() {
		this.cache.get(1L, String.class, false, () -> tagged("v1"));
		this.writer.markSoftInvalidated(this.cache.keyspaceOf("1"), "1");
		// between this caller's read of the stale entry and its request for the lease, another caller
		// reloads the entry and gives the lease back
		this.writer.beforeNextLease(() -> assertThat(this.cache.get(1L, String.class, false, () -> tagged("v2")))
			.isEqualTo("v2"));

		assertThat(this.cache.get(1L, String.class, false, () -> tagged("loaded twice"))).isEqualTo("v2");
		assertThat(this.loads).as("the first load and one reload").hasValue(2);
	}

	@Test
	void aSoftInvalidatedEntryOlderThanStaleWhileRevalidateIsAMiss() {
		this.cache.get(1L, String.class, false, () -> tagged("v1"));
		this.writer.markSoftInvalidated(this.cache.keyspaceOf("1"), "1");
		this.writer.advance(this.cache.getConfiguration().getStaleWhileRevalidate());

		assertThat(this.cache.get(1L, String.class, false, () -> tagged("v2"))).isEqualTo("v2");
		assertThat(this.cache.getStatistics().getStaleServed("revalidate")).isZero();
		assertThat(this.cache.getStatistics().getRefreshes("stale")).isZero();
	}

	@Test
	void staleIfErrorServesAnEntryThatExpiredWithinItsWindowOnly() {
		RedisTaggedCacheManager lenient = instance(RedisTaggedCacheConfiguration.defaultConfig()
			.withTimeToLive(Duration.ofMinutes(1)).withStaleIfError(Duration.ofMinutes(5)));
		try {
			RedisTaggedCache users = lenient.getCache("users");
			users.get(1L, String.class, false, () -> tagged("v1"));
			this.writer.advance(Duration.ofMinutes(3));
			assertThat(users.get(1L)).as("expired: a miss for plain lookups").isNull();
			assertThat(users.<String>get(1L, String.class, false, () -> {
				throw new IllegalStateException("database down");
			})).isEqualTo("v1");
			assertThat(users.getStatistics().getStaleServed("error")).isEqualTo(1);

			this.writer.advance(Duration.ofMinutes(3));
			assertThatExceptionOfType(Cache.ValueRetrievalException.class)
				.isThrownBy(() -> users.get(1L, String.class, false, () -> {
					throw new IllegalStateException("database down");
				}));
		}
		finally {
			lenient.destroy();
		}
	}

	@Test
	void withoutStaleIfErrorAFailingReloadOfAnExpiredEntryThrows() {
		this.cache.get(1L, String.class, false, () -> tagged("v1"));
		this.writer.advance(Duration.ofMinutes(2));
		assertThatExceptionOfType(Cache.ValueRetrievalException.class)
			.isThrownBy(() -> this.cache.get(1L, String.class, false, () -> {
				throw new IllegalStateException("database down");
			}));
		assertThat(this.cache.getStatistics().getStaleServed("error")).isZero();
	}

	@Test
	void aSynchronizedLoadWaitsForTheLoadOfAnotherInstanceAndTakesItsValue() throws Exception {
		RedisTaggedCacheManager other = instance(RedisTaggedCacheConfiguration.defaultConfig());
		try {
			CountDownLatch loading = new CountDownLatch(1);
			CountDownLatch proceed = new CountDownLatch(1);
			CompletableFuture<String> holder = CompletableFuture.supplyAsync(() -> this.cache.get(1L, () -> {
				loading.countDown();
				proceed.await();
				return load("Ada");
			}));
			assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();
			CompletableFuture<String> waiter = CompletableFuture
				.supplyAsync(() -> other.getCache("users").get(1L, () -> load("twice")));
			Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !waiter.isDone());
			proceed.countDown();

			assertThat(waiter.get(10, TimeUnit.SECONDS)).isEqualTo("Ada");
			assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo("Ada");
			assertThat(this.loads).hasValue(1);
			assertThat(other.getCache("users").getStatistics().getSyncWaits()).isEqualTo(1);
		}
		finally {
			other.destroy();
		}
	}

	private String load(String value) {
		this.loads.incrementAndGet();
		return value;
	}

}
