package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.tagcache.Loaded;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.cache.Cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Freshness under load across instances, on Redis: two managers on one key prefix stand for two
 * instances. A synchronized load runs once across both (a lease per key in Redis); a lease whose
 * holder died ends with its lease time; a waiter loads itself after the sync timeout, and at once when
 * an invalidation came after the holder's fence read; an early refresh runs once while the others keep
 * hitting; stale-if-error serves an expired entry, never an invalidated one.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class CrossInstanceLoadIntegrationTests {

	@Parameter
	RedisTopology redis;

	private final String prefix = TestCaches.uniquePrefix();

	private final AtomicInteger loads = new AtomicInteger();

	private final CountDownLatch loading = new CountDownLatch(1);

	private final CountDownLatch proceed = new CountDownLatch(1);

	private RedisTaggedCacheManager first;

	private RedisTaggedCacheManager second;

	@BeforeEach
	void instances() {
		this.first = instance(Duration.ofSeconds(30));
		this.second = instance(Duration.ofSeconds(30));
	}

	private RedisTaggedCacheManager instance(Duration syncTimeout) {
		return TestCaches.manager(this.redis, builder -> builder.keyPrefix(this.prefix).syncTimeout(syncTimeout));
	}

	@AfterEach
	void stop() {
		this.proceed.countDown();
		this.first.destroy();
		this.second.destroy();
	}

	@Test
	void aSynchronizedLoadRunsOnceAcrossInstances() throws Exception {
		CompletableFuture<String> holder = CompletableFuture
			.supplyAsync(() -> this.first.getCache("users").get(1L, this::slowLoad));
		assertThat(this.loading.await(10, TimeUnit.SECONDS)).isTrue();
		CompletableFuture<String> waiter = CompletableFuture
			.supplyAsync(() -> this.second.getCache("users").get(1L, () -> load("loaded twice")));
		Awaitility.await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !waiter.isDone());

		this.proceed.countDown();
		assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo("loaded once");
		assertThat(waiter.get(10, TimeUnit.SECONDS)).as("the other instance's value").isEqualTo("loaded once");
		assertThat(this.loads).hasValue(1);
		assertThat(this.second.getCache("users").getStatistics().getSyncWaits()).isEqualTo(1);
	}

	@Test
	void anAsynchronousSynchronizedLoadWaitsForAnotherInstanceWithoutBlocking() throws Exception {
		CompletableFuture<String> holder = CompletableFuture
			.supplyAsync(() -> this.first.getCache("users").get(1L, this::slowLoad));
		assertThat(this.loading.await(10, TimeUnit.SECONDS)).isTrue();
		CompletableFuture<String> waiter = this.second.getCache("users")
			.retrieve(1L, () -> CompletableFuture.completedFuture(load("loaded twice")));

		this.proceed.countDown();
		assertThat(waiter.get(10, TimeUnit.SECONDS)).isEqualTo("loaded once");
		assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo("loaded once");
		assertThat(this.loads).hasValue(1);
	}

	@Test
	void aLeaseWhoseHolderDiedEndsWithItsLeaseTime() {
		RedisTaggedCache users = this.second.getCache("users");
		// a holder that took the lease with the newest fence there can be, then died
		byte[] lease = users.keyspaceOf("1").leaseKey("1");
		this.redis.admin().sync(commands -> commands.psetex(new String(lease), 500, Long.MAX_VALUE / 2 + ":dead"));

		assertThat(users.get(1L, () -> load("after the lease"))).isEqualTo("after the lease");
		assertThat(this.loads).hasValue(1);
		assertThat(users.getStatistics().getSyncWaits()).isZero();
	}

	@Test
	void aWaiterLoadsItselfAfterTheSyncTimeout() throws Exception {
		RedisTaggedCacheManager impatient = instance(Duration.ofMillis(300));
		try {
			CompletableFuture<String> holder = CompletableFuture
				.supplyAsync(() -> this.first.getCache("users").get(1L, this::slowLoad));
			assertThat(this.loading.await(10, TimeUnit.SECONDS)).isTrue();

			AtomicReference<Thread> loader = new AtomicReference<>();
			assertThat(impatient.getCache("users").get(1L, () -> {
				loader.set(Thread.currentThread());
				return load("did not wait longer");
			})).isEqualTo("did not wait longer");
			assertThat(this.loads).hasValue(2);
			assertThat(loader).as("a blocking caller runs its loader on its own thread, after waiting too")
				.hasValue(Thread.currentThread());
			this.proceed.countDown();
			assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo("loaded once");
		}
		finally {
			impatient.destroy();
		}
	}

	@Test
	void aCallerAfterAnInvalidationDoesNotWaitForAnOlderLoadOfAnotherInstance() throws Exception {
		CompletableFuture<String> holder = CompletableFuture
			.supplyAsync(() -> this.first.getCache("users").get(1L, this::slowLoad));
		assertThat(this.loading.await(10, TimeUnit.SECONDS)).isTrue();
		this.second.getCache("users").evict(1L);

		// the sync timeout is 30 s: a wait for the older load would outlast the test
		assertThat(CompletableFuture.supplyAsync(() -> this.second.getCache("users").get(1L, () -> load("fresh")))
			.get(10, TimeUnit.SECONDS)).isEqualTo("fresh");
		this.proceed.countDown();
		assertThat(holder.get(10, TimeUnit.SECONDS)).isEqualTo("loaded once");
		assertThat(this.first.getCache("users").get(1L).get()).as("the older load was refused").isEqualTo("fresh");
	}

	@Test
	void anEarlyRefreshRunsOnceAcrossInstancesWhileTheOthersHit() throws Exception {
		// beta so large that a hit with u = 0.999 is always due: the XFetch gap is hours long
		RedisTaggedCacheConfiguration eager = RedisTaggedCacheConfiguration.defaultConfig().withEarlyRefreshBeta(1e7);
		RedisTaggedCacheManager one = TestCaches.manager(this.redis,
				builder -> builder.keyPrefix(this.prefix).cacheDefaults(eager));
		RedisTaggedCacheManager other = TestCaches.manager(this.redis,
				builder -> builder.keyPrefix(this.prefix).cacheDefaults(eager));
		try {
			RedisTaggedCache refreshing = one.getCache("users");
			RedisTaggedCache hitting = other.getCache("users");
			refreshing.random(() -> 0.0);
			hitting.random(() -> 0.0);
			assertThat(refreshing.get(1L, String.class, true, () -> Loaded.of(load("cached"), List.of("user-1"))))
				.isEqualTo("cached");
			refreshing.random(() -> 0.999);
			hitting.random(() -> 0.999);

			CompletableFuture<String> refresh = CompletableFuture.supplyAsync(() -> refreshing.get(1L, String.class,
					true, () -> Loaded.of(slowLoad().replace("loaded once", "refreshed"), List.of("user-1"))));
			assertThat(this.loading.await(10, TimeUnit.SECONDS)).isTrue();
			assertThat(hitting.get(1L, String.class, true, () -> Loaded.of(load("refreshed twice"), List.of("user-1"))))
				.as("a hit while another instance refreshes").isEqualTo("cached");

			this.proceed.countDown();
			assertThat(refresh.get(10, TimeUnit.SECONDS)).as("the refreshing caller gets its value").isEqualTo("refreshed");
			assertThat(this.loads).as("the first load and one refresh").hasValue(2);
			assertThat(refreshing.getStatistics().getRefreshes("early")).isEqualTo(1);
			assertThat(hitting.getStatistics().getRefreshes("early")).isZero();
			hitting.random(() -> 0.0);
			assertThat(hitting.get(1L, String.class, true, () -> Loaded.of(load("unwanted"), List.of())))
				.isEqualTo("refreshed");
		}
		finally {
			one.destroy();
			other.destroy();
		}
	}

	@Test
	void staleIfErrorServesAnExpiredEntryButNeverAnInvalidatedOne() {
		RedisTaggedCacheManager lenient = TestCaches.manager(this.redis, builder -> builder.cacheDefaults(
				RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofMillis(300))
					.withStaleIfError(Duration.ofMinutes(5))));
		try {
			RedisTaggedCache users = lenient.getCache("users");
			users.get(1L, String.class, false, () -> Loaded.of("v1", List.of("user-1")));
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> users.get(1L) == null);

			assertThat(users.<String>get(1L, String.class, false, () -> {
				throw new IllegalStateException("database down");
			})).as("expired, kept for stale-if-error").isEqualTo("v1");
			assertThat(users.getStatistics().getStaleServed("error")).isEqualTo(1);

			lenient.invalidate("user-1");
			assertThatExceptionOfType(Cache.ValueRetrievalException.class)
				.isThrownBy(() -> users.get(1L, String.class, false, () -> {
					throw new IllegalStateException("database down");
				}))
				.withRootCauseInstanceOf(IllegalStateException.class);
		}
		finally {
			lenient.destroy();
		}
	}

	private String slowLoad() throws InterruptedException {
		this.loads.incrementAndGet();
		this.loading.countDown();
		assertThat(this.proceed.await(20, TimeUnit.SECONDS)).isTrue();
		return "loaded once";
	}

	private String load(String value) {
		this.loads.incrementAndGet();
		return value;
	}

}
