package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import io.tagcache.TaggedCache;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 2, the stale-set race: a loader reads the old row, an invalidation runs, and the old
 * row must not be written back. Each test blocks a loader on a latch after it has read the
 * "database", changes the database and invalidates meanwhile, then lets the loader finish.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class FencedWriteIntegrationTests {

	@Parameter
	RedisTopology redis;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	private final AtomicReference<String> database = new AtomicReference<>("old");

	@BeforeEach
	void createCache() {
		this.manager = TestCaches.manager(this.redis);
		this.cache = this.manager.getCache("users");
	}

	@Test
	void aLoadThatReadBeforeATagInvalidationIsNotStored() throws Exception {
		StaleLoad load = startFencedLoad(List.of("user-1", "loc-1"));
		this.database.set("new");
		this.manager.invalidate("loc-1");
		assertThat(load.finish()).as("stale value stored").isFalse();
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.getStatistics().getRejectedPuts()).isEqualTo(1);
		assertThat(this.cache.putFenced(1L, this.database.get(), List.of("user-1", "loc-1"), null,
				this.cache.readFence(1L))).as("a load after the invalidation is stored").isTrue();
		assertThat(this.cache.get(1L).get()).isEqualTo("new");
	}

	@Test
	void aLoadIsStoredWhenNoneOfItsTagsWasInvalidated() throws Exception {
		StaleLoad load = startFencedLoad(List.of("user-1", "loc-1"));
		this.manager.invalidate("loc-2", "user-2");
		assertThat(load.finish()).isTrue();
		assertThat(this.cache.get(1L).get()).isEqualTo("old");
	}

	@Test
	void aLoadThatReadBeforeAnEvictionOfItsKeyIsNotStored() throws Exception {
		CountDownLatch loaded = new CountDownLatch(1);
		CountDownLatch proceed = new CountDownLatch(1);
		CompletableFuture<Object> loader = CompletableFuture.supplyAsync(() -> this.cache.get(1L, () -> {
			String row = this.database.get();
			loaded.countDown();
			proceed.await(10, TimeUnit.SECONDS);
			return row;
		}));
		assertThat(loaded.await(10, TimeUnit.SECONDS)).isTrue();
		this.database.set("new");
		this.cache.evict(1L);
		proceed.countDown();
		assertThat(loader.get(10, TimeUnit.SECONDS)).as("the caller still gets its value").isEqualTo("old");
		assertThat(this.cache.get(1L)).isNull();
		assertThat(this.cache.get(2L, () -> "unrelated")).isEqualTo("unrelated");
		assertThat(this.cache.get(2L)).as("other keys are not fenced").isNotNull();
	}

	@Test
	void aLoadThatReadBeforeAClearIsNotStored() throws Exception {
		StaleLoad load = startFencedLoad(List.of("user-1"));
		this.cache.clear();
		assertThat(load.finish()).isFalse();
		assertThat(this.cache.get(1L)).isNull();
	}

	/**
	 * Invalidation records older than the retention are forgotten, but folded into the cache-wide
	 * record: a load that read before a forgotten invalidation is still refused.
	 */
	@Test
	void aLoadOlderThanAForgottenInvalidationIsNotStored() {
		RedisTaggedCacheManager shortMemory = TestCaches.manager(this.redis,
				builder -> builder.fenceRetention(Duration.ofMillis(1)));
		TaggedCache cache = shortMemory.getCache("users");
		long fence = cache.readFence(1L);
		shortMemory.invalidate("user-1");
		forgetRecord(shortMemory, "t:user-1");
		assertThat(cache.putFenced(1L, "old", List.of("user-1"), null, fence)).isFalse();
		assertThat(cache.get(1L)).isNull();
	}

	/**
	 * A cache that has not been invalidated for longer than the retention still stores loads:
	 * only invalidations newer than the fence refuse a write, not the fence's age.
	 */
	@Test
	void aLoadIsStoredLongAfterTheLastInvalidation() {
		RedisTaggedCacheManager shortMemory = TestCaches.manager(this.redis,
				builder -> builder.fenceRetention(Duration.ofMillis(1)));
		TaggedCache cache = shortMemory.getCache("users");
		shortMemory.invalidate("loc-9");
		long fence = cache.readFence(1L);
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> redisTimeMicros() > fence + 1000);
		assertThat(cache.putFenced(1L, "fresh", List.of("user-1"), null, fence)).isTrue();
		assertThat(cache.get(1L).get()).isEqualTo("fresh");
	}

	private long redisTimeMicros() {
		List<String> time = this.redis.admin().sync(redis -> redis.time());
		return Long.parseLong(time.get(0)) * 1_000_000 + Long.parseLong(time.get(1));
	}

	/** Invalidates unrelated tags until the retention has passed and the record is forgotten. */
	private void forgetRecord(RedisTaggedCacheManager manager, String record) {
		String fenceKey = manager.getKeyPrefix() + ":{users}:fence";
		Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> {
			manager.invalidate("unrelated");
			return this.redis.admin().sync(redis -> redis.zscore(fenceKey, record)) == null;
		});
	}

	@Test
	void anUnknownFenceStoresNothing() {
		assertThat(this.cache.putFenced(1L, "value", List.of("user-1"), null, TaggedCache.UNKNOWN_FENCE)).isFalse();
		assertThat(this.cache.get(1L)).isNull();
	}

	@Test
	void anUnfencedPutIsAlwaysStored() {
		this.manager.invalidate("user-1");
		this.cache.put(1L, "value", List.of("user-1"));
		assertThat(this.cache.get(1L)).isNotNull();
	}

	/** Reads the fence and the "database", then waits until {@link #finish()} stores the value. */
	private StaleLoad startFencedLoad(List<String> tags) throws InterruptedException {
		CountDownLatch loaded = new CountDownLatch(1);
		CountDownLatch proceed = new CountDownLatch(1);
		CompletableFuture<Boolean> stored = CompletableFuture.supplyAsync(() -> {
			long fence = this.cache.readFence(1L);
			String row = this.database.get();
			loaded.countDown();
			await(proceed);
			return this.cache.putFenced(1L, row, tags, null, fence);
		});
		assertThat(loaded.await(10, TimeUnit.SECONDS)).isTrue();
		return new StaleLoad(proceed, stored);
	}

	private static void await(CountDownLatch latch) {
		try {
			latch.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
	}

	private record StaleLoad(CountDownLatch proceed, CompletableFuture<Boolean> stored) {

		boolean finish() throws Exception {
			this.proceed.countDown();
			return this.stored.get(10, TimeUnit.SECONDS);
		}

	}

}
