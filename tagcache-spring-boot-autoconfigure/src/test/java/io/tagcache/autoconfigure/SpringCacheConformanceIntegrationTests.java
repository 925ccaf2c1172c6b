package io.tagcache.autoconfigure;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.lettuce.core.RedisURI;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.test.RedisTopology;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.cache.Cache;
import org.springframework.cache.Cache.ValueWrapper;
import org.springframework.cache.CacheManager;
import org.springframework.cache.support.NullValue;
import org.springframework.beans.BeanUtils;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * The behaviours Spring Framework's own cache conformance suite ({@code AbstractCacheTests} and
 * {@code AbstractValueAdaptingCacheTests} in spring-context's test fixtures) checks on every
 * {@link Cache} implementation, written here for a cache of the auto-configured manager on each
 * Redis topology. The fixtures are not published, so each behaviour is restated as a test of its
 * own, named after what it checks; the javadoc of each names the Spring test it stands for.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class SpringCacheConformanceIntegrationTests {

	private static final String CACHE_NAME = "conformance";

	private static final String CACHE_NAME_NO_NULL = "conformanceNoNull";

	private static @Nullable ConfigurableApplicationContext context;

	@Parameter
	RedisTopology redis;

	@BeforeParameterizedClassInvocation
	static void startApplication(RedisTopology redis) {
		context = new SpringApplicationBuilder(Application.class).web(WebApplicationType.NONE)
			.bannerMode(Banner.Mode.OFF)
			.logStartupInfo(false)
			.properties(redisProperties(redis))
			.properties("tagcache.key-prefix=t" + UUID.randomUUID().toString().substring(0, 8),
					"tagcache.caches." + CACHE_NAME + ".time-to-live=10m",
					"tagcache.caches." + CACHE_NAME_NO_NULL + ".cache-null-values=false")
			.run();
	}

	@AfterParameterizedClassInvocation
	static void stopApplication() {
		if (context != null) {
			context.close();
			context = null;
		}
	}

	private static String[] redisProperties(RedisTopology topology) {
		if (topology == RedisTopology.CLUSTER) {
			return new String[] { "spring.data.redis.cluster.nodes=" + String.join(",",
					topology.nodes().stream().map((uri) -> uri.getHost() + ":" + uri.getPort()).toList()) };
		}
		RedisURI node = topology.nodes().get(0);
		return new String[] { "spring.data.redis.host=" + node.getHost(), "spring.data.redis.port=" + node.getPort() };
	}

	private static Cache cache(String name) {
		Cache cache = context.getBean(CacheManager.class).getCache(name);
		assertThat(cache).isNotNull();
		return cache;
	}

	private static Cache cache() {
		return cache(CACHE_NAME);
	}

	private static String randomKey() {
		return UUID.randomUUID().toString();
	}

	/** {@code AbstractCacheTests.cacheName}. */
	@Test
	void theCacheHasTheNameItWasAskedFor() {
		assertThat(cache().getName()).isEqualTo(CACHE_NAME);
	}

	/** {@code AbstractCacheTests.nativeCache}: ours is the manager that owns the Redis connection. */
	@Test
	void theNativeCacheIsTheManagerThatOwnsTheRedisConnection() {
		assertThat(cache().getNativeCache()).isSameAs(context.getBean(RedisTaggedCacheManager.class));
	}

	/** {@code AbstractCacheTests.cachePut}, the value part. */
	@Test
	void aPutValueIsReadBackUntypedAndAsItsOwnTypeOrObject() {
		Cache cache = cache();
		String key = randomKey();
		assertThat(cache.get(key)).isNull();
		assertThat(cache.get(key, String.class)).isNull();
		assertThat(cache.get(key, Object.class)).isNull();

		cache.put(key, "george");

		assertThat(cache.get(key)).extracting(ValueWrapper::get).isEqualTo("george");
		assertThat(cache.get(key, String.class)).isEqualTo("george");
		assertThat(cache.get(key, Object.class)).isEqualTo("george");
		assertThat(cache.get(key, (Class<?>) null)).isEqualTo("george");
	}

	/** {@code AbstractCacheTests.cachePut}, the {@code put(key, null)} part. */
	@Test
	void aPutNullIsACachedNullNotAMiss() {
		Cache cache = cache();
		String key = randomKey();
		cache.put(key, "george");

		cache.put(key, null);

		assertThat(cache.get(key)).isNotNull().extracting(ValueWrapper::get).isNull();
		assertThat(cache.get(key, String.class)).isNull();
		assertThat(cache.get(key, Object.class)).isNull();
	}

	/**
	 * {@code AbstractCacheTests.cachePut}, the {@code NullValue} part: what Spring's value-adapting
	 * caches store for a {@code null} is a cached {@code null} here too.
	 */
	@Test
	void aPutNullValueMarkerIsACachedNull() {
		Cache cache = cache();
		String key = randomKey();
		cache.put(key, "george");

		cache.put(key, BeanUtils.instantiateClass(NullValue.class));

		assertThat(cache.get(key)).isNotNull().extracting(ValueWrapper::get).isNull();
		assertThat(cache.get(key, String.class)).isNull();
		assertThat(cache.get(key, Object.class)).isNull();
	}

	/** {@code AbstractCacheTests.cachePutIfAbsent}. */
	@Test
	void putIfAbsentStoresOnlyTheFirstValueAndReturnsTheExistingOne() {
		Cache cache = cache();
		String key = randomKey();
		assertThat(cache.get(key)).isNull();

		assertThat(cache.putIfAbsent(key, "initialValue")).isNull();
		assertThat(cache.get(key)).extracting(ValueWrapper::get).isEqualTo("initialValue");

		assertThat(cache.putIfAbsent(key, "anotherValue")).extracting(ValueWrapper::get).isEqualTo("initialValue");
		assertThat(cache.get(key)).extracting(ValueWrapper::get).isEqualTo("initialValue");
	}

	/**
	 * {@code AbstractCacheTests.cacheRemove}: Spring's test only puts after a miss; the eviction its
	 * name promises is checked here as well.
	 */
	@Test
	void anEvictedKeyMissesAgain() {
		Cache cache = cache();
		String key = randomKey();
		assertThat(cache.get(key)).isNull();
		cache.put(key, "george");

		cache.evict(key);

		assertThat(cache.get(key)).isNull();
	}

	/** {@code AbstractCacheTests.cacheClear}. */
	@Test
	void clearRemovesEveryEntry() {
		Cache cache = cache();
		String first = randomKey();
		String second = randomKey();
		assertThat(cache.get(first)).isNull();
		cache.put(first, "george");
		assertThat(cache.get(second)).isNull();
		cache.put(second, "aurel");

		cache.clear();

		assertThat(cache.get(first)).isNull();
		assertThat(cache.get(second)).isNull();
	}

	/** {@code AbstractCacheTests.cacheGetCallable}. */
	@Test
	void getWithALoaderOnAMissReturnsAndStoresTheLoadedValue() {
		Cache cache = cache();
		String key = randomKey();
		assertThat(cache.get(key)).isNull();

		assertThat(cache.get(key, () -> "test")).isEqualTo("test");

		assertThat(cache.get(key)).extracting(ValueWrapper::get).isEqualTo("test");
	}

	/** {@code AbstractCacheTests.cacheGetCallableWithNull}. */
	@Test
	void getWithALoaderThatReturnsNullStoresACachedNull() {
		Cache cache = cache();
		String key = randomKey();
		assertThat(cache.get(key)).isNull();

		Object value = cache.get(key, () -> null);
		assertThat(value).isNull();

		assertThat(cache.get(key)).isNotNull().extracting(ValueWrapper::get).isNull();
	}

	/** {@code AbstractCacheTests.cacheGetCallableNotInvokedWithHit}. */
	@Test
	void getWithALoaderOnAHitDoesNotCallTheLoader() {
		Cache cache = cache();
		String key = randomKey();
		cache.put(key, "existing");

		Object value = cache.get(key, () -> {
			throw new IllegalStateException("Should not have been invoked");
		});
		assertThat(value).isEqualTo("existing");
	}

	/** {@code AbstractCacheTests.cacheGetCallableNotInvokedWithHitNull}. */
	@Test
	void getWithALoaderOnACachedNullDoesNotCallTheLoader() {
		Cache cache = cache();
		String key = randomKey();
		cache.put(key, null);

		Object value = cache.get(key, () -> {
			throw new IllegalStateException("Should not have been invoked");
		});
		assertThat(value).isNull();
	}

	/** {@code AbstractCacheTests.cacheGetCallableFail}. */
	@Test
	void aFailingLoaderSurfacesAsValueRetrievalExceptionWithItsCause() {
		Cache cache = cache();
		String key = randomKey();
		assertThat(cache.get(key)).isNull();

		assertThatExceptionOfType(Cache.ValueRetrievalException.class).isThrownBy(() -> cache.get(key, (() -> {
			throw new UnsupportedOperationException("Expected exception");
		}))).withCauseInstanceOf(UnsupportedOperationException.class);
		assertThat(cache.get(key)).isNull();
	}

	/**
	 * {@code AbstractCacheTests.cacheGetSynchronized}: ten threads ask for one missing key; the
	 * loader runs once and every thread gets its value. Spring's test sleeps in the loader so that
	 * the threads overlap; here the loader waits until every thread has entered {@code get}, and
	 * threads that look after the value was stored get it as a hit, which is as correct.
	 */
	@Test
	void concurrentGetsWithALoaderCallItOnceAndAllReceiveItsValue() throws Exception {
		Cache cache = cache();
		String key = randomKey();
		int threads = 10;
		AtomicInteger calls = new AtomicInteger();
		List<Object> results = new CopyOnWriteArrayList<>();
		CountDownLatch entered = new CountDownLatch(threads);
		ExecutorService executor = Executors.newFixedThreadPool(threads);
		try {
			for (int i = 0; i < threads; i++) {
				executor.execute(() -> {
					entered.countDown();
					results.add(cache.get(key, () -> {
						entered.await(10, TimeUnit.SECONDS);
						return calls.incrementAndGet();
					}));
				});
			}
		}
		finally {
			executor.shutdown();
		}
		assertThat(executor.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
		assertThat(calls).hasValue(1);
		assertThat(results).hasSize(threads).containsOnly(1);
	}

	/** {@code AbstractValueAdaptingCacheTests.cachePutNullValueAllowNullFalse}. */
	@Test
	void aPutNullInACacheThatStoresNoNullsIsRefusedNamingTheCache() {
		Cache cache = cache(CACHE_NAME_NO_NULL);
		String key = randomKey();

		assertThatIllegalArgumentException().isThrownBy(() -> cache.put(key, null))
			.withMessageContaining(CACHE_NAME_NO_NULL)
			.withMessageContaining("does not store null values");
		assertThat(cache.get(key)).isNull();
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ DataRedisAutoConfiguration.class, JacksonAutoConfiguration.class,
			TagCacheAutoConfiguration.class })
	static class Application {

	}

}
