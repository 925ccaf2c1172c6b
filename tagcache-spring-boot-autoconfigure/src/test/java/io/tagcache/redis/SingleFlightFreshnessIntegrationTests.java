package io.tagcache.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Single flight ({@code Cache.get(key, Callable)} and {@code retrieve(key, Supplier)}) never hands a
 * caller a value older than an invalidation acknowledged before it called: a caller arriving after an
 * invalidation does not join a load that started before it, while callers with nothing invalidated in
 * between still share one load. The first load is held on a latch after it read the "database".
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class SingleFlightFreshnessIntegrationTests {

	@Parameter
	RedisTopology redis;

	private final AtomicReference<String> database = new AtomicReference<>("old");

	private final AtomicInteger loads = new AtomicInteger();

	private final CountDownLatch loaded = new CountDownLatch(1);

	private final CountDownLatch proceed = new CountDownLatch(1);

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	@BeforeEach
	void createCache() {
		this.manager = TestCaches.manager(this.redis);
		this.cache = this.manager.getCache("users");
	}

	@AfterEach
	void release() {
		this.proceed.countDown();
	}

	@Test
	void aCallerAfterAnInvalidationDoesNotJoinALoadThatStartedBeforeIt() throws Exception {
		CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> this.cache.get(1L, this::slowLoad));
		assertThat(this.loaded.await(10, TimeUnit.SECONDS)).isTrue();
		this.database.set("new");
		this.cache.evict(1L);

		assertThat(this.cache.get(1L, this::load)).as("a caller after the eviction").isEqualTo("new");
		this.proceed.countDown();
		assertThat(first.get(10, TimeUnit.SECONDS)).as("the first caller called before it").isEqualTo("old");
		assertThat(this.cache.get(1L).get()).isEqualTo("new");
	}

	@Test
	void anAsynchronousCallerAfterAnInvalidationDoesNotJoinALoadThatStartedBeforeIt() throws Exception {
		CompletableFuture<String> first = this.cache.retrieve(1L,
				() -> CompletableFuture.supplyAsync(this::slowLoad));
		assertThat(this.loaded.await(10, TimeUnit.SECONDS)).isTrue();
		this.database.set("new");
		this.manager.getCache("users").invalidate();

		assertThat(this.cache.retrieve(1L, () -> CompletableFuture.completedFuture(load())).get(10, TimeUnit.SECONDS))
			.isEqualTo("new");
		this.proceed.countDown();
		assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("old");
	}

	@Test
	void callersWithNoInvalidationInBetweenShareOneLoad() throws Exception {
		CompletableFuture<String> first = CompletableFuture.supplyAsync(() -> this.cache.get(1L, this::slowLoad));
		assertThat(this.loaded.await(10, TimeUnit.SECONDS)).isTrue();
		CompletableFuture<String> second = CompletableFuture.supplyAsync(() -> this.cache.get(1L, this::load));
		// the second caller waits for the first load rather than running its own
		Awaitility.await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(5)).until(() -> !second.isDone());
		this.proceed.countDown();
		assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo("old");
		assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo("old");
		assertThat(this.loads).as("one loader call").hasValue(1);
	}

	private String load() {
		this.loads.incrementAndGet();
		return this.database.get();
	}

	private String slowLoad() {
		String row = load();
		this.loaded.countDown();
		try {
			this.proceed.await(10, TimeUnit.SECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		return row;
	}

}
