package io.tagcache.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.tagcache.TaggedCacheManager;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.interceptor.TaggedCachingConfiguration;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.context.annotation.AnnotationConfigApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Freshness under load through the annotations, with two application contexts on one key prefix
 * standing for two instances of a service: a synchronized method runs once across both; a soft
 * invalidation in one is served stale by the other while one call reloads; an early refresh runs once
 * while the other instance keeps hitting. The method is held on a latch where a test needs a load in
 * flight.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class CrossInstanceContextsIntegrationTests {

	@Parameter
	RedisTopology redis;

	private final String prefix = TestCaches.uniquePrefix();

	private final Backend backend = new Backend();

	private AnnotationConfigApplicationContext one;

	private AnnotationConfigApplicationContext other;

	@AfterEach
	void close() {
		this.backend.release();
		if (this.one != null) {
			this.one.close();
		}
		if (this.other != null) {
			this.other.close();
		}
	}

	private void startInstances(RedisTaggedCacheConfiguration defaults) {
		this.one = instance(defaults);
		this.other = instance(defaults);
	}

	private AnnotationConfigApplicationContext instance(RedisTaggedCacheConfiguration defaults) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.registerBean(TaggedCacheManager.class, () -> RedisTaggedCacheManager.builder(this.redis.connectionFactory())
			.keyPrefix(this.prefix)
			.cacheDefaults(defaults)
			.build());
		context.registerBean(Backend.class, () -> this.backend);
		context.register(TaggedCachingConfiguration.class, PriceService.class);
		context.refresh();
		return context;
	}

	private static PriceService prices(AnnotationConfigApplicationContext context) {
		return context.getBean(PriceService.class);
	}

	private static RedisTaggedCache cache(AnnotationConfigApplicationContext context) {
		return (RedisTaggedCache) context.getBean(TaggedCacheManager.class).getCache("prices");
	}

	@Test
	void aSynchronizedMethodRunsOnceAcrossInstances() throws Exception {
		startInstances(RedisTaggedCacheConfiguration.defaultConfig());
		this.backend.hold();
		CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> prices(this.one).price(1));
		assertThat(this.backend.entered.await(10, TimeUnit.SECONDS)).isTrue();
		CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> prices(this.other).price(1));
		Awaitility.await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> !second.isDone());

		this.backend.release();
		assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("v1");
		assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("v1");
		assertThat(this.backend.calls).as("one call across both instances").hasValue(1);
		assertThat(cache(this.other).getStatistics().getSyncWaits()).isEqualTo(1);
	}

	@Test
	void aSoftInvalidationInOneInstanceIsServedStaleByTheOtherWhileOneCallReloads() throws Exception {
		startInstances(RedisTaggedCacheConfiguration.defaultConfig());
		assertThat(prices(this.one).price(1)).isEqualTo("v1");
		prices(this.one).changePrice(1, "v2");

		this.backend.hold();
		CompletableFuture<String> reload = CompletableFuture.supplyAsync(() -> prices(this.other).price(1));
		assertThat(this.backend.entered.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(prices(this.one).price(1)).as("stale while the other instance reloads").isEqualTo("v1");
		assertThat(cache(this.one).getStatistics().getStaleServed("revalidate")).isEqualTo(1);

		this.backend.release();
		assertThat(reload.get(10, TimeUnit.SECONDS)).isEqualTo("v2");
		assertThat(prices(this.one).price(1)).isEqualTo("v2");
		assertThat(this.backend.calls).as("the first load and one reload").hasValue(2);
		assertThat(cache(this.other).getStatistics().getRefreshes("stale")).isEqualTo(1);
	}

	@Test
	void anEarlyRefreshRunsOnceWhileTheOtherInstanceKeepsHitting() throws Exception {
		// beta so large that a hit with u = 0.999 is due; u = 0 never is
		startInstances(RedisTaggedCacheConfiguration.defaultConfig().withEarlyRefreshBeta(1e7));
		cache(this.one).random(() -> 0.0);
		cache(this.other).random(() -> 0.0);
		assertThat(prices(this.one).price(1)).isEqualTo("v1");
		this.backend.price = "v2";
		cache(this.one).random(() -> 0.999);
		cache(this.other).random(() -> 0.999);

		this.backend.hold();
		CompletableFuture<String> refresh = CompletableFuture.supplyAsync(() -> prices(this.one).price(1));
		assertThat(this.backend.entered.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(prices(this.other).price(1)).as("a hit while the other instance refreshes").isEqualTo("v1");

		this.backend.release();
		assertThat(refresh.get(10, TimeUnit.SECONDS)).isEqualTo("v2");
		cache(this.other).random(() -> 0.0);
		assertThat(prices(this.other).price(1)).isEqualTo("v2");
		assertThat(this.backend.calls).as("the first load and one refresh").hasValue(2);
		assertThat(cache(this.one).getStatistics().getRefreshes("early")).isEqualTo(1);
	}

	/** The data behind both instances, and a latch that holds the method while a test needs a load in flight. */
	static final class Backend {

		final AtomicInteger calls = new AtomicInteger();

		volatile String price = "v1";

		volatile CountDownLatch entered = new CountDownLatch(0);

		private volatile CountDownLatch proceed = new CountDownLatch(0);

		void hold() {
			this.entered = new CountDownLatch(1);
			this.proceed = new CountDownLatch(1);
		}

		void release() {
			this.proceed.countDown();
		}

		String load() {
			this.calls.incrementAndGet();
			this.entered.countDown();
			try {
				assertThat(this.proceed.await(20, TimeUnit.SECONDS)).isTrue();
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
			return this.price;
		}

	}

	static class PriceService {

		private final Backend backend;

		PriceService(Backend backend) {
			this.backend = backend;
		}

		@CacheableTagged(cacheNames = "prices", key = "#id", tags = "'price-' + #id", sync = true)
		public String price(long id) {
			return this.backend.load();
		}

		@InvalidateTags(value = "'price-' + #id", soft = true)
		public void changePrice(long id, String price) {
			this.backend.price = price;
		}

	}

}
