package io.tagcache.benchmarks;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

import io.tagcache.annotation.CacheableTagged;
import io.tagcache.interceptor.TaggedCachingConfiguration;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.cache.Cache;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.data.redis.cache.RedisCacheConfiguration;
import org.springframework.data.redis.cache.RedisCacheManager;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.serializer.JacksonJsonRedisSerializer;
import org.springframework.data.redis.serializer.RedisSerializationContext.SerializationPair;

/**
 * Freshness under load (issue 13), the stampede: two instances of an application (two application
 * contexts, each with its own connection factory, cache manager and annotation proxy, over the same
 * Redis and key prefix) with 16 threads each calling a cached method for one hot key in a loop. Every
 * second the key is invalidated (tagcache: its tag; spring-data-redis, which has no tags: the key is
 * evicted), alternately by each instance; the method sleeps {@value #LOADER_MILLIS} ms and counts its
 * calls. Reported per variant: loader calls per invalidation, how many calls waited at least the
 * loader's time, and the longest call.
 * <ul>
 * <li>tagcache {@code @CacheableTagged(sync = true)} (one load per key across instances: the goal is
 * 1.0 per invalidation);</li>
 * <li>spring-data-redis {@code @Cacheable(sync = true)} on a {@link RedisCacheManager} built as Spring
 * Boot builds it ({@code RedisCacheManager.builder(factory)}: the non-locking writer);</li>
 * <li>spring-data-redis {@code @Cacheable} without {@code sync}, same manager.</li>
 * </ul>
 * Every variant first runs {@value #WARMUP_INVALIDATIONS} invalidations that are not counted (the
 * JIT's warm-up of the miss path), then {@value #INVALIDATIONS}. Writes {@code stampede.md} to the
 * results directory.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.StampedeReport
 * </pre>
 */
public final class StampedeReport {

	static final String CACHE = "hot";

	static final String TAG = "hot";

	static final long KEY = 1;

	static final long LOADER_MILLIS = 50;

	private static final int INSTANCES = 2;

	private static final int THREADS_PER_INSTANCE = 16;

	private static final int WARMUP_INVALIDATIONS = 2;

	private static final int INVALIDATIONS = 20;

	private static final long INTERVAL_MILLIS = 1000;

	private final StringBuilder report = new StringBuilder();

	public static void main(String[] args) throws Exception {
		new StampedeReport().run();
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	/** One instance of the application: calls the cached method, invalidates the hot key, counts loads. */
	interface Instance extends AutoCloseable {

		User call();

		void invalidate();

		long loads();

		@Override
		void close();

	}

	record Variant(String name, Function<Integer, Instance> instance) {
	}

	record Result(String name, long[] loads, long[] waited, long[][] loadsByInstance, long calls, long maxNanos) {
	}

	private void run() throws Exception {
		List<Variant> variants = List.of(
				new Variant("tagcache @CacheableTagged(sync = true)", port -> new TagcacheInstance(port)),
				new Variant("spring-data-redis @Cacheable(sync = true)", port -> new SpringInstance(port, true)),
				new Variant("spring-data-redis @Cacheable", port -> new SpringInstance(port, false)));
		print("## Stampede: %d instances x %d threads, one hot key invalidated every %d ms, loader %d ms%n",
				INSTANCES, THREADS_PER_INSTANCE, INTERVAL_MILLIS, LOADER_MILLIS);
		print("load before: %s", loadAverage());
		List<Result> results = new ArrayList<>();
		try (RedisProcess redis = RedisProcess.start()) {
			for (Variant variant : variants) {
				results.add(measure(variant, redis.port()));
				print("after %s: load %s", variant.name(), loadAverage());
			}
		}
		print("");
		print("| Variant | Loader calls per invalidation (mean) | min | max | / tagcache | per instance (mean) | Calls >= %d ms per invalidation (mean) | Longest call ms | Calls |",
				LOADER_MILLIS);
		print("|---|---|---|---|---|---|---|---|---|");
		double base = mean(results.get(0).loads());
		for (Result result : results) {
			StringBuilder perInstance = new StringBuilder();
			for (long[] byInstance : result.loadsByInstance()) {
				perInstance.append((perInstance.length() == 0) ? "" : " + ")
					.append(String.format(Locale.ROOT, "%.2f", mean(byInstance)));
			}
			print("| %s | %.2f | %d | %d | %.1fx | %s | %.1f | %.0f | %,d |", result.name(), mean(result.loads()),
					Arrays.stream(result.loads()).min().orElse(0), Arrays.stream(result.loads()).max().orElse(0),
					mean(result.loads()) / base, perInstance, mean(result.waited()), result.maxNanos() / 1e6,
					result.calls());
		}
		print("");
		for (Result result : results) {
			print("%s, loader calls per invalidation: %s", result.name(), Arrays.toString(result.loads()));
		}
		print("");
		print("load after: %s", loadAverage());
		Files.writeString(RedisStats.resultsDirectory().resolve("stampede.md"), this.report);
	}

	private Result measure(Variant variant, int port) throws Exception {
		List<Instance> instances = new ArrayList<>();
		for (int i = 0; i < INSTANCES; i++) {
			instances.add(variant.instance().apply(port));
		}
		AtomicBoolean running = new AtomicBoolean(true);
		LongAdder calls = new LongAdder();
		LongAdder waited = new LongAdder();
		AtomicLong maxNanos = new AtomicLong();
		AtomicBoolean measuring = new AtomicBoolean();
		List<Throwable> failures = new CopyOnWriteArrayList<>();
		List<Thread> threads = new ArrayList<>();
		try {
			instances.get(0).call();
			for (Instance instance : instances) {
				for (int t = 0; t < THREADS_PER_INSTANCE; t++) {
					Thread thread = new Thread(() -> {
						try {
							while (running.get()) {
								long started = System.nanoTime();
								User user = instance.call();
								long took = System.nanoTime() - started;
								if (user == null || user.id() != KEY) {
									throw new IllegalStateException("wrong value: " + user);
								}
								if (measuring.get()) {
									calls.increment();
									if (took >= LOADER_MILLIS * 1_000_000) {
										waited.increment();
									}
									maxNanos.accumulateAndGet(took, Math::max);
								}
							}
						}
						catch (Throwable ex) {
							failures.add(ex);
						}
					}, "stampede-" + threads.size());
					thread.start();
					threads.add(thread);
				}
			}
			Thread.sleep(INTERVAL_MILLIS);
			long[] loads = new long[INVALIDATIONS];
			long[] waitedPer = new long[INVALIDATIONS];
			long[][] byInstance = new long[INSTANCES][INVALIDATIONS];
			long start = System.nanoTime();
			for (int i = -WARMUP_INVALIDATIONS; i < INVALIDATIONS; i++) {
				long[] before = loadsOf(instances);
				long waitedBefore = waited.sum();
				measuring.set(i >= 0);
				instances.get(Math.floorMod(i, INSTANCES)).invalidate();
				sleepUntil(start + (i + WARMUP_INVALIDATIONS + 1) * INTERVAL_MILLIS * 1_000_000);
				long[] after = loadsOf(instances);
				if (i >= 0) {
					for (int n = 0; n < INSTANCES; n++) {
						byInstance[n][i] = after[n] - before[n];
						loads[i] += after[n] - before[n];
					}
					waitedPer[i] = waited.sum() - waitedBefore;
				}
				if (!failures.isEmpty()) {
					break;
				}
			}
			running.set(false);
			for (Thread thread : threads) {
				thread.join();
			}
			if (!failures.isEmpty()) {
				IllegalStateException failure = new IllegalStateException(variant.name() + ": a caller failed");
				failures.forEach(failure::addSuppressed);
				throw failure;
			}
			print("%s: %,d calls, loader calls per invalidation %s", variant.name(), calls.sum(), Arrays.toString(loads));
			return new Result(variant.name(), loads, waitedPer, byInstance, calls.sum(), maxNanos.get());
		}
		finally {
			running.set(false);
			for (Thread thread : threads) {
				thread.join();
			}
			instances.forEach(Instance::close);
		}
	}

	private static long[] loadsOf(List<Instance> instances) {
		return instances.stream().mapToLong(Instance::loads).toArray();
	}

	private static void sleepUntil(long nanoTime) throws InterruptedException {
		long left;
		while ((left = nanoTime - System.nanoTime()) > 0) {
			Thread.sleep(Math.max(1, left / 1_000_000));
		}
	}

	static double mean(long[] values) {
		return Arrays.stream(values).average().orElse(0);
	}

	static String loadAverage() {
		try {
			return Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim();
		}
		catch (java.io.IOException ex) {
			return "unknown";
		}
	}


	// tagcache

	/** The hot key's loader on tagcache: tagged {@value StampedeReport#TAG}, one load per key across instances. */
	public static class TaggedHotService {

		private final LongAdder loads = new LongAdder();

		/** Calls of the loader; a method, as the proxy's fields are not the target's. */
		public long loads() {
			return this.loads.sum();
		}

		@CacheableTagged(cacheNames = CACHE, key = "#id", tags = "'" + TAG + "'", sync = true)
		public User user(long id) {
			this.loads.increment();
			RedisProcess.sleep(LOADER_MILLIS);
			return User.of(id);
		}

	}

	static final class TagcacheInstance implements Instance {

		final AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();

		final TaggedHotService service;

		final RedisTaggedCacheManager manager;

		TagcacheInstance(int port) {
			this.context.register(TaggedCachingConfiguration.class);
			this.context.registerBean(LettuceConnectionFactory.class, () -> CacheStacks.connectionFactory(port));
			this.context.registerBean("cacheManager", RedisTaggedCacheManager.class,
					() -> RedisTaggedCacheManager.builder(this.context.getBean(LettuceConnectionFactory.class))
						.jsonMapper(JsonMapper.builder().build())
						.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofHours(1)))
						.withCacheNames(CACHE)
						.build());
			this.context.registerBean(TaggedHotService.class);
			this.context.refresh();
			this.service = this.context.getBean(TaggedHotService.class);
			this.manager = this.context.getBean(RedisTaggedCacheManager.class);
		}

		@Override
		public User call() {
			return this.service.user(KEY);
		}

		@Override
		public void invalidate() {
			this.manager.getCache(CACHE).invalidateTags(List.of(TAG));
		}

		@Override
		public long loads() {
			return this.service.loads();
		}

		@Override
		public void close() {
			this.context.close();
		}

	}

	// spring-data-redis

	/** The hot key's loader on spring-data-redis, with and without {@code sync}. */
	public static class SpringHotService {

		private final LongAdder loads = new LongAdder();

		/** Calls of the loader; a method, as the proxy's fields are not the target's. */
		public long loads() {
			return this.loads.sum();
		}

		@Cacheable(cacheNames = CACHE, key = "#id", sync = true)
		public User userSync(long id) {
			this.loads.increment();
			RedisProcess.sleep(LOADER_MILLIS);
			return User.of(id);
		}

		@Cacheable(cacheNames = CACHE, key = "#id")
		public User user(long id) {
			this.loads.increment();
			RedisProcess.sleep(LOADER_MILLIS);
			return User.of(id);
		}

	}

	static final class SpringInstance implements Instance {

		final AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();

		final SpringHotService service;

		final Cache cache;

		final boolean sync;

		SpringInstance(int port, boolean sync) {
			this.sync = sync;
			JsonMapper mapper = JsonMapper.builder().build();
			this.context.register(CacheStacks.SpringCaching.class);
			this.context.registerBean(LettuceConnectionFactory.class, () -> CacheStacks.connectionFactory(port));
			RedisCacheConfiguration config = RedisCacheConfiguration.defaultCacheConfig()
				.entryTtl(Duration.ofHours(1))
				.serializeValuesWith(
						SerializationPair.fromSerializer(new JacksonJsonRedisSerializer<>(mapper, User.class)));
			// as Spring Boot builds it: RedisCacheManager.builder(factory), the non-locking writer
			this.context.registerBean("cacheManager", RedisCacheManager.class,
					() -> RedisCacheManager.builder(this.context.getBean(LettuceConnectionFactory.class))
						.cacheDefaults(config)
						.initialCacheNames(java.util.Set.of(CACHE))
						.build());
			this.context.registerBean(SpringHotService.class);
			this.context.refresh();
			this.service = this.context.getBean(SpringHotService.class);
			this.cache = this.context.getBean(RedisCacheManager.class).getCache(CACHE);
		}

		@Override
		public User call() {
			return this.sync ? this.service.userSync(KEY) : this.service.user(KEY);
		}

		@Override
		public void invalidate() {
			// evictIfPresent is immediate, whatever the writer defers
			this.cache.evictIfPresent(KEY);
		}

		@Override
		public long loads() {
			return this.service.loads();
		}

		@Override
		public void close() {
			this.context.close();
		}

	}

}
