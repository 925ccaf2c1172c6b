package io.tagcache.redis;

import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.tagcache.redis.TestCaches.Location;
import io.tagcache.redis.TestCaches.User;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.cache.Cache;
import org.springframework.cache.Cache.ValueWrapper;
import org.springframework.cache.interceptor.SimpleKey;
import org.springframework.core.ParameterizedTypeReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * {@link RedisTaggedCache} honours the {@link Cache} contract, on a standalone Redis and on a cluster.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class RedisTaggedCacheIntegrationTests {

	@Parameter
	RedisTopology redis;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	private final User alice = new User(1, "alice@example.org", new Location(1, "Rome"));

	@BeforeEach
	void createCache() {
		this.manager = TestCaches.manager(this.redis);
		this.cache = this.manager.getCache("users");
	}

	@Test
	void missThenHitReadsTheValueBackAsItsOwnType() {
		assertThat(this.cache.get(1L)).isNull();
		this.cache.put(1L, this.alice);
		ValueWrapper hit = this.cache.get(1L);
		assertThat(hit).isNotNull();
		assertThat(hit.get()).isEqualTo(this.alice);
		assertThat(this.cache.getStatistics().getHits()).isEqualTo(1);
		assertThat(this.cache.getStatistics().getMisses()).isEqualTo(1);
		assertThat(this.cache.getStatistics().getPuts()).isEqualTo(1);
	}

	@Test
	void collectionsAndMapsReadBackWithTheirElementTypes() {
		List<User> users = List.of(this.alice, new User(2, "bob@example.org", new Location(2, "Oslo")));
		this.cache.put("list", users);
		this.cache.put("map", Map.of("a", this.alice));
		this.cache.put("optional", Optional.of(this.alice));
		this.cache.put("date", LocalDate.of(2026, 11, 24));
		assertThat(this.cache.get("list").get()).isEqualTo(users);
		assertThat(this.cache.get("map").get()).isEqualTo(Map.of("a", this.alice));
		assertThat(this.cache.get("optional").get()).isEqualTo(Optional.of(this.alice));
		assertThat(this.cache.get("date").get()).isEqualTo(LocalDate.of(2026, 11, 24));
	}

	@Test
	void typedReadsUseTheCallersType() {
		this.cache.put(1L, List.of(this.alice));
		assertThat(this.cache.get(1L, List.class)).hasSize(1);
		List<User> users = (List<User>) this.cache
			.lookup(1L, new ParameterizedTypeReference<List<User>>() { }.getType())
			.get();
		assertThat(users).containsExactly(this.alice);
		assertThat(this.cache.get(2L, User.class)).isNull();
	}

	@Test
	void typedReadOfAnIncompatibleEntryFailsWithTheCacheAndType() {
		this.cache.put(1L, "not a user");
		assertThatExceptionOfType(IllegalStateException.class).isThrownBy(() -> this.cache.get(1L, User.class))
			.withMessageContaining("'users'")
			.withMessageContaining(User.class.getName());
	}

	@Test
	void nullValuesAreStoredWhenAllowed() {
		this.cache.put(1L, null);
		ValueWrapper hit = this.cache.get(1L);
		assertThat(hit).isNotNull();
		assertThat(hit.get()).isNull();
	}

	@Test
	void nullValuesAreRefusedWhenNotAllowed() {
		RedisTaggedCacheManager strict = TestCaches.manager(this.redis, builder -> builder
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withNullValues(false)));
		RedisTaggedCache noNulls = strict.getCache("users");
		assertThatIllegalArgumentException().isThrownBy(() -> noNulls.put(1L, null))
			.withMessageContaining("'users'")
			.withMessageContaining("null");
		assertThat(noNulls.get(1L)).isNull();
		Object loaded = noNulls.get(2L, () -> null);
		assertThat(loaded).isNull();
		assertThat(noNulls.get(2L)).isNull();
	}

	@Test
	void entriesExpireAfterTheirTimeToLive() {
		RedisTaggedCacheManager shortLived = TestCaches.manager(this.redis, builder -> builder
			.withCache("short", RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofSeconds(30))));
		RedisTaggedCache cache = shortLived.getCache("short");
		cache.put(1L, this.alice, List.of("user-1"));
		String entryKey = shortLived.getKeyPrefix() + ":{short}:e:1";
		String indexKey = shortLived.getKeyPrefix() + ":{short}:t:user-1";
		assertThat(pttl(entryKey)).isBetween(1L, 30_000L);
		assertThat(pttl(indexKey)).isBetween(1L, 30_000L);
		cache.putFenced(2L, this.alice, List.of("user-1"), Duration.ofMinutes(5), cache.readFence(2L));
		assertThat(pttl(indexKey)).isBetween(30_000L, 300_000L);
	}

	@Test
	void valueLoaderRunsOncePerKeyUnderConcurrency() throws Exception {
		AtomicInteger calls = new AtomicInteger();
		CountDownLatch loading = new CountDownLatch(1);
		CountDownLatch release = new CountDownLatch(1);
		ExecutorService pool = Executors.newFixedThreadPool(16);
		try {
			List<Future<Object>> results = new ArrayList<>();
			for (int i = 0; i < 16; i++) {
				results.add(pool.submit(() -> this.cache.get(7L, () -> {
					calls.incrementAndGet();
					loading.countDown();
					release.await(10, TimeUnit.SECONDS);
					return this.alice;
				})));
			}
			assertThat(loading.await(10, TimeUnit.SECONDS)).isTrue();
			release.countDown();
			for (Future<Object> result : results) {
				assertThat(result.get(10, TimeUnit.SECONDS)).isEqualTo(this.alice);
			}
		}
		finally {
			pool.shutdownNow();
		}
		assertThat(calls).hasValue(1);
		assertThat(this.cache.get(7L).get()).isEqualTo(this.alice);
	}

	/**
	 * The loader looks the key up once more after it won the right to load; that second look must
	 * not count as another miss, or the miss rate of single-flight loads doubles.
	 */
	@Test
	void aLoadCountsOneMiss() {
		assertThat(this.cache.get(1L, () -> this.alice)).isEqualTo(this.alice);
		assertThat(this.cache.getStatistics().getMisses()).isEqualTo(1);
		assertThat(this.cache.getStatistics().getHits()).isZero();
		assertThat(this.cache.get(1L, () -> this.alice)).isEqualTo(this.alice);
		assertThat(this.cache.getStatistics().getHits()).isEqualTo(1);
	}

	@Test
	void failingValueLoaderSurfacesAsValueRetrievalException() {
		IllegalStateException failure = new IllegalStateException("database down");
		assertThatExceptionOfType(Cache.ValueRetrievalException.class)
			.isThrownBy(() -> this.cache.get(1L, () -> { throw failure; }))
			.withCause(failure);
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.get(1L, () -> this.alice)).isEqualTo(this.alice);
	}

	@Test
	void recursiveLoadOfTheSameKeyFailsInsteadOfDeadlocking() {
		assertThatExceptionOfType(Cache.ValueRetrievalException.class)
			.isThrownBy(() -> this.cache.get(1L, () -> this.cache.get(1L, () -> this.alice)))
			.havingCause()
			.withMessageContaining("Recursive load");
	}

	@Test
	void putIfAbsentKeepsTheExistingEntry() {
		assertThat(this.cache.putIfAbsent(1L, this.alice)).isNull();
		ValueWrapper existing = this.cache.putIfAbsent(1L, "other");
		assertThat(existing).isNotNull();
		assertThat(existing.get()).isEqualTo(this.alice);
		assertThat(this.cache.get(1L).get()).isEqualTo(this.alice);
	}

	@Test
	void evictRemovesOneEntry() {
		this.cache.put(1L, this.alice);
		this.cache.put(2L, this.alice);
		this.cache.evict(1L);
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.get(2L)).isNotNull();
		assertThat(this.cache.evictIfPresent(2L)).isTrue();
		assertThat(this.cache.evictIfPresent(2L)).isFalse();
		assertThat(this.cache.getStatistics().getEvictions()).isEqualTo(2);
	}

	@Test
	void clearAndInvalidateRemoveEveryEntryOfTheCache() {
		for (long id = 0; id < 2500; id += 1) {
			this.cache.put(id, id, List.of("tag-" + (id % 3)));
		}
		this.cache.clear();
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.redis.admin().scan(this.manager.getKeyPrefix() + ":{users}:[et]:*")).isEmpty();
		this.cache.put(1L, this.alice);
		assertThat(this.cache.invalidate()).isTrue();
		assertThat(this.cache.invalidate()).isFalse();
		assertThat(this.cache.get(1L)).isNull();
	}

	@Test
	void retrieveReadsWithoutBlocking() throws Exception {
		assertThat(this.cache.retrieve(1L).get(5, TimeUnit.SECONDS)).isNull();
		this.cache.put(1L, this.alice);
		this.cache.put(2L, null);
		assertThat(this.cache.retrieve(1L).get(5, TimeUnit.SECONDS)).isEqualTo(this.alice);
		assertThat(this.cache.retrieve(2L).get(5, TimeUnit.SECONDS)).isInstanceOfSatisfying(ValueWrapper.class,
				wrapper -> assertThat(wrapper.get()).isNull());
	}

	@Test
	void retrieveWithLoaderStoresTheLoadedValue() throws Exception {
		AtomicInteger calls = new AtomicInteger();
		CompletableFuture<User> loaded = this.cache.retrieve(1L, () -> {
			calls.incrementAndGet();
			return CompletableFuture.completedFuture(this.alice);
		});
		assertThat(loaded.get(5, TimeUnit.SECONDS)).isEqualTo(this.alice);
		assertThat(this.cache.retrieve(1L, () -> {
			calls.incrementAndGet();
			return CompletableFuture.completedFuture(this.alice);
		}).get(5, TimeUnit.SECONDS)).isEqualTo(this.alice);
		assertThat(calls).hasValue(1);
		CompletableFuture<Object> failed = this.cache.retrieve(2L,
				() -> CompletableFuture.failedFuture(new IllegalStateException("boom")));
		assertThat(failed).failsWithin(Duration.ofSeconds(5)).withThrowableThat().withMessageContaining("boom");
	}

	@Test
	void keysMapToStableEntries() {
		this.cache.put(1, "int");
		assertThat(this.cache.get(1L).get()).isEqualTo("int");
		assertThat(this.cache.get("1").get()).isEqualTo("int");
		this.cache.put(new SimpleKey("a", 2), "simple");
		assertThat(this.cache.get(new SimpleKey("a", 2)).get()).isEqualTo("simple");
		assertThat(this.cache.get(List.of("a", 2))).as("a list and a SimpleKey of the same elements").isNotNull();
		assertThat(this.cache.get(new SimpleKey("a,2"))).as("quoting keeps composite keys apart").isNull();
		this.cache.put(new Object[] { "x", 1 }, "array");
		assertThat(this.cache.get(new Object[] { "x", 1 }).get()).isEqualTo("array");
		this.cache.put(new Location(3, "Oslo"), "record");
		assertThat(this.cache.get(new Location(3, "Oslo")).get()).isEqualTo("record");
		assertThat(this.cache.get(new Location(3, "Bergen"))).isNull();
		UUID id = UUID.randomUUID();
		this.cache.put(id, "uuid");
		assertThat(this.cache.get(id).get()).isEqualTo("uuid");
	}

	@Test
	void unconvertibleKeyFailsNamingTheTypeAndCache() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.cache.put(new Object(), "x"))
			.withMessageContaining("java.lang.Object")
			.withMessageContaining("'users'");
	}

	private long pttl(String key) {
		return this.redis.admin().<Long>sync(redis -> redis.pttl(key));
	}

}
