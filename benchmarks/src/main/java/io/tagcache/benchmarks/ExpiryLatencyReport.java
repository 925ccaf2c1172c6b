package io.tagcache.benchmarks;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import io.tagcache.TaggedCacheStatistics;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.interceptor.TaggedCachingConfiguration;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.cache.annotation.Cacheable;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.data.redis.cache.RedisCacheConfiguration;
import org.springframework.data.redis.cache.RedisCacheManager;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.serializer.JacksonJsonRedisSerializer;
import org.springframework.data.redis.serializer.RedisSerializationContext.SerializationPair;

/**
 * Freshness under load (issue 13), latency at expiry: one hot key with a time to live of 2 s and a
 * loader of {@value #LOADER_MILLIS} ms, {@value #THREADS} threads calling the cached method in a loop.
 * Every call's latency is kept (a sorted array: HdrHistogram is not on the module's class path).
 * Variants, all {@code sync = true}:
 * <ul>
 * <li><b>hit</b>: tagcache {@code @CacheableTagged} on a key that does not expire during the run (time
 * to live 1 h, early refresh off): the latency of a hit in the same run, the baseline;</li>
 * <li><b>tagcache, early refresh</b>: time to live 2 s, {@code withEarlyRefreshBeta(1.0)} (the
 * default): a hit near expiry may reload the entry on the caller's thread (XFetch), the others keep
 * hitting;</li>
 * <li><b>tagcache, beta 0</b>: time to live 2 s, early refresh off: the entry expires, callers miss;</li>
 * <li><b>spring-data-redis</b>: {@code @Cacheable(sync = true)} on a {@link RedisCacheManager} built
 * as Spring Boot builds it, {@code entryTtl(2 s)}.</li>
 * </ul>
 * The variants run interleaved in one JVM on one Redis (6 rounds of 10 s
 * turns per variant, the order rotated every round; 60 s per variant), so that
 * the machine's other load falls on all of them alike. Each turn starts with one untimed call that
 * loads the key if it expired since the variant's last turn, so a turn starts with a fresh entry and
 * sees the expiries of steady state only. Reported: p50, p99, p99.9, max, the calls that took at
 * least the loader's time (split into those that ran the loader themselves, told by a thread-local
 * mark the loader sets, and the others, which waited for a load or were stalled), loader calls, and
 * each round's p99 against the hit's p99 of the same round. Writes {@code expiry-latency.md} to the
 * results directory.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.ExpiryLatencyReport
 * </pre>
 */
public final class ExpiryLatencyReport {

	static final long KEY = 1;

	static final long LOADER_MILLIS = 100;

	static final Duration TTL = Duration.ofSeconds(2);

	static final String HIT = "expiryHit";

	static final String EARLY = "expiryEarly";

	static final String NO_EARLY = "expiryNoEarly";

	static final String SPRING = "expiry";

	private static final int THREADS = 8;

	/** Rounds; {@code -Drounds=1 -Dturn-millis=2000} for a smoke run. */
	private static final int ROUNDS = Integer.getInteger("rounds", 6);

	private static final long TURN_MILLIS = Long.getLong("turn-millis", 10_000);

	private static final long WARMUP_MILLIS = 2_000;

	/** Set by a loader on the thread that runs it: tells a call that ran the loader from one that waited. */
	static final ThreadLocal<boolean[]> RAN_LOADER = ThreadLocal.withInitial(() -> new boolean[1]);

	private final StringBuilder report = new StringBuilder();

	public static void main(String[] args) throws Exception {
		new ExpiryLatencyReport().run();
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	/**
	 * One variant: the call, its loader calls, and (tagcache) the cache's early refreshes.
	 */
	record Variant(String name, LongSupplier call, LongSupplier loads, LongSupplier refreshes) {
	}

	/** Latencies of one thread, in nanoseconds; grows as needed. */
	static final class Samples {

		long[] values = new long[1 << 16];

		int size;

		/** Calls of at least the loader's time that ran the loader themselves. */
		long slowThatLoaded;

		void add(long value) {
			if (this.size == this.values.length) {
				this.values = Arrays.copyOf(this.values, this.size * 2);
			}
			this.values[this.size++] = value;
		}

	}

	/** What a variant accumulated over its turns. */
	static final class Totals {

		final List<Samples> samples = new ArrayList<>();

		/** The p99 of each measured turn, in the order of the rounds. */
		final List<Long> turnP99 = new ArrayList<>();

		long loads;

		long refreshes;

		long gcMillis;

		long nanos;

	}

	private void run() throws Exception {
		print("## Latency at expiry: 1 hot key, TTL %d s, loader %d ms, %d threads in a loop, %d rounds of %d s per variant, interleaved%n",
				TTL.toSeconds(), LOADER_MILLIS, THREADS, ROUNDS, TURN_MILLIS / 1000);
		print("load before: %s", StampedeReport.loadAverage());
		try (RedisProcess redis = RedisProcess.start();
				AnnotationConfigApplicationContext tagcache = tagcacheContext(redis.port());
				AnnotationConfigApplicationContext spring = springContext(redis.port())) {
			TaggedExpiryService tagged = tagcache.getBean(TaggedExpiryService.class);
			SpringExpiryService springService = spring.getBean(SpringExpiryService.class);
			RedisTaggedCacheManager manager = tagcache.getBean(RedisTaggedCacheManager.class);
			Supplier<TaggedCacheStatistics> early = () -> manager.getCache(EARLY).getStatistics();
			List<Variant> variants = List.of(
					new Variant("hit (tagcache, TTL 1 h)", () -> tagged.hit(KEY).id(), tagged::hitLoads,
							() -> manager.getCache(HIT).getStatistics().getRefreshes("early")),
					new Variant("tagcache early refresh (beta 1.0)", () -> tagged.early(KEY).id(), tagged::earlyLoads,
							() -> early.get().getRefreshes("early")),
					new Variant("tagcache beta 0", () -> tagged.noEarly(KEY).id(), tagged::noEarlyLoads,
							() -> manager.getCache(NO_EARLY).getStatistics().getRefreshes("early")),
					new Variant("spring-data-redis @Cacheable(sync = true)", () -> springService.user(KEY).id(),
							springService::loads, () -> 0));
			Map<String, Totals> totals = new LinkedHashMap<>();
			variants.forEach(variant -> totals.put(variant.name(), new Totals()));
			ExecutorService pool = Executors.newFixedThreadPool(THREADS);
			try {
				for (Variant variant : variants) {
					turn(pool, variant, new Totals(), WARMUP_MILLIS);
				}
				for (int round = 0; round < ROUNDS; round++) {
					for (int v = 0; v < variants.size(); v++) {
						Variant variant = variants.get((v + round) % variants.size());
						turn(pool, variant, totals.get(variant.name()), TURN_MILLIS);
					}
					print("round %d done, load %s", round + 1, StampedeReport.loadAverage());
				}
			}
			finally {
				pool.shutdown();
			}
			if (tagged.hitLoads() != 1) {
				throw new IllegalStateException("the hit variant loaded " + tagged.hitLoads() + " times, not once");
			}
			table(totals);
		}
		print("load after: %s", StampedeReport.loadAverage());
		Files.writeString(RedisStats.resultsDirectory().resolve("expiry-latency.md"), this.report);
	}

	private void turn(ExecutorService pool, Variant variant, Totals totals, long millis) throws Exception {
		variant.call().getAsLong();
		long loads = variant.loads().getAsLong();
		long refreshes = variant.refreshes().getAsLong();
		long gc = gcMillis();
		long started = System.nanoTime();
		long deadline = started + millis * 1_000_000;
		List<Future<Samples>> done = new ArrayList<>();
		for (int t = 0; t < THREADS; t++) {
			done.add(pool.submit(() -> {
				Samples samples = new Samples();
				LongSupplier call = variant.call();
				boolean[] ranLoader = RAN_LOADER.get();
				long now = System.nanoTime();
				while (now - deadline < 0) {
					ranLoader[0] = false;
					if (call.getAsLong() != KEY) {
						throw new IllegalStateException("wrong value");
					}
					long end = System.nanoTime();
					samples.add(end - now);
					if (ranLoader[0] && end - now >= LOADER_MILLIS * 1_000_000) {
						samples.slowThatLoaded++;
					}
					now = end;
				}
				return samples;
			}));
		}
		List<Samples> turn = new ArrayList<>();
		for (Future<Samples> future : done) {
			turn.add(future.get());
		}
		totals.samples.addAll(turn);
		totals.turnP99.add((long) p(merged(turn), 0.99));
		totals.nanos += System.nanoTime() - started;
		totals.loads += variant.loads().getAsLong() - loads;
		totals.refreshes += variant.refreshes().getAsLong() - refreshes;
		totals.gcMillis += gcMillis() - gc;
	}

	private static long gcMillis() {
		return ManagementFactory.getGarbageCollectorMXBeans()
			.stream()
			.mapToLong(GarbageCollectorMXBean::getCollectionTime)
			.sum();
	}

	private void table(Map<String, Totals> totals) {
		Map<String, long[]> sorted = new LinkedHashMap<>();
		totals.forEach((name, total) -> sorted.put(name, merged(total.samples)));
		long[] hit = sorted.values().iterator().next();
		long loaderNanos = LOADER_MILLIS * 1_000_000;
		print("");
		print("| Variant | Calls | Calls/s | p50 us | p99 us | p99.9 us | max ms | p50 / hit | p99 / hit | p99.9 / hit | Calls >= %d ms | of which ran the loader / waited | Loader calls | of which early refreshes | GC ms |",
				LOADER_MILLIS);
		print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
		for (Map.Entry<String, long[]> entry : sorted.entrySet()) {
			long[] s = entry.getValue();
			Totals total = totals.get(entry.getKey());
			long slow = s.length - lowerBound(s, loaderNanos);
			long slowThatLoaded = total.samples.stream().mapToLong(samples -> samples.slowThatLoaded).sum();
			print("| %s | %,d | %,.0f | %.0f | %.0f | %.0f | %.1f | %.2fx | %.2fx | %.2fx | %d | %d / %d | %d | %d | %d |",
					entry.getKey(), s.length, s.length / (total.nanos / 1e9), p(s, 0.50) / 1e3, p(s, 0.99) / 1e3,
					p(s, 0.999) / 1e3, s[s.length - 1] / 1e6, p(s, 0.50) / p(hit, 0.50), p(s, 0.99) / p(hit, 0.99),
					p(s, 0.999) / p(hit, 0.999), slow, slowThatLoaded, slow - slowThatLoaded, total.loads,
					total.refreshes, total.gcMillis);
		}
		print("");
		// the interleaved view: each turn's p99 against the hit's p99 of the same round
		List<Long> hitP99 = totals.values().iterator().next().turnP99;
		print("p99 of each round (us), and / the hit's p99 of the same round:");
		print("");
		print("| Variant | p99 per round | / hit, per round | median / hit |");
		print("|---|---|---|---|");
		for (Map.Entry<String, Totals> entry : totals.entrySet()) {
			List<Long> p99s = entry.getValue().turnP99;
			StringBuilder values = new StringBuilder();
			StringBuilder ratios = new StringBuilder();
			double[] sortedRatios = new double[p99s.size()];
			for (int i = 0; i < p99s.size(); i++) {
				double ratio = (double) p99s.get(i) / hitP99.get(i);
				sortedRatios[i] = ratio;
				values.append((i == 0) ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", p99s.get(i) / 1e3));
				ratios.append((i == 0) ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", ratio));
			}
			Arrays.sort(sortedRatios);
			double median = (sortedRatios.length % 2 == 1) ? sortedRatios[sortedRatios.length / 2]
					: (sortedRatios[sortedRatios.length / 2 - 1] + sortedRatios[sortedRatios.length / 2]) / 2;
			print("| %s | %s | %s | %.2fx |", entry.getKey(), values, ratios, median);
		}
		print("");
		print("Longest calls (ms):");
		for (Map.Entry<String, long[]> entry : sorted.entrySet()) {
			long[] s = entry.getValue();
			StringBuilder longest = new StringBuilder();
			for (int i = s.length - 1; i >= Math.max(0, s.length - 12); i--) {
				longest.append(String.format(Locale.ROOT, " %.1f", s[i] / 1e6));
			}
			print("- %s:%s", entry.getKey(), longest);
		}
		print("");
	}

	/** Every latency of the samples, sorted. */
	private static long[] merged(List<Samples> samples) {
		long[] all = new long[samples.stream().mapToInt(s -> s.size).sum()];
		int at = 0;
		for (Samples s : samples) {
			System.arraycopy(s.values, 0, all, at, s.size);
			at += s.size;
		}
		Arrays.sort(all);
		return all;
	}

	/** The first index whose value is at least {@code value}. */
	private static int lowerBound(long[] sorted, long value) {
		int index = Arrays.binarySearch(sorted, value);
		if (index < 0) {
			return -index - 1;
		}
		while (index > 0 && sorted[index - 1] == value) {
			index--;
		}
		return index;
	}

	private static double p(long[] sorted, double quantile) {
		return sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
	}

	// tagcache

	/** The hot key on three caches: one that does not expire, one with early refresh, one without. */
	public static class TaggedExpiryService {

		private final LongAdder hitLoads = new LongAdder();

		private final LongAdder earlyLoads = new LongAdder();

		private final LongAdder noEarlyLoads = new LongAdder();

		public long hitLoads() {
			return this.hitLoads.sum();
		}

		public long earlyLoads() {
			return this.earlyLoads.sum();
		}

		public long noEarlyLoads() {
			return this.noEarlyLoads.sum();
		}

		@CacheableTagged(cacheNames = HIT, key = "#id", sync = true)
		public User hit(long id) {
			this.hitLoads.increment();
			RAN_LOADER.get()[0] = true;
			RedisProcess.sleep(LOADER_MILLIS);
			return User.of(id);
		}

		@CacheableTagged(cacheNames = EARLY, key = "#id", sync = true)
		public User early(long id) {
			this.earlyLoads.increment();
			RAN_LOADER.get()[0] = true;
			RedisProcess.sleep(LOADER_MILLIS);
			return User.of(id);
		}

		@CacheableTagged(cacheNames = NO_EARLY, key = "#id", sync = true)
		public User noEarly(long id) {
			this.noEarlyLoads.increment();
			RAN_LOADER.get()[0] = true;
			RedisProcess.sleep(LOADER_MILLIS);
			return User.of(id);
		}

	}

	private static AnnotationConfigApplicationContext tagcacheContext(int port) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.register(TaggedCachingConfiguration.class);
		context.registerBean(LettuceConnectionFactory.class, () -> CacheStacks.connectionFactory(port));
		RedisTaggedCacheConfiguration expiring = RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(TTL);
		context.registerBean("cacheManager", RedisTaggedCacheManager.class,
				() -> RedisTaggedCacheManager.builder(context.getBean(LettuceConnectionFactory.class))
					.jsonMapper(JsonMapper.builder().build())
					.withCache(HIT, RedisTaggedCacheConfiguration.defaultConfig()
						.withTimeToLive(Duration.ofHours(1))
						.withEarlyRefreshBeta(0))
					.withCache(EARLY, expiring.withEarlyRefreshBeta(1.0))
					.withCache(NO_EARLY, expiring.withEarlyRefreshBeta(0))
					.build());
		context.registerBean(TaggedExpiryService.class);
		context.refresh();
		return context;
	}

	// spring-data-redis

	/** The hot key on spring-data-redis, {@code sync = true}, the same time to live. */
	public static class SpringExpiryService {

		private final LongAdder loads = new LongAdder();

		public long loads() {
			return this.loads.sum();
		}

		@Cacheable(cacheNames = SPRING, key = "#id", sync = true)
		public User user(long id) {
			this.loads.increment();
			RAN_LOADER.get()[0] = true;
			RedisProcess.sleep(LOADER_MILLIS);
			return User.of(id);
		}

	}

	private static AnnotationConfigApplicationContext springContext(int port) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.register(CacheStacks.SpringCaching.class);
		context.registerBean(LettuceConnectionFactory.class, () -> CacheStacks.connectionFactory(port));
		RedisCacheConfiguration config = RedisCacheConfiguration.defaultCacheConfig()
			.entryTtl(TTL)
			.serializeValuesWith(SerializationPair
				.fromSerializer(new JacksonJsonRedisSerializer<>(JsonMapper.builder().build(), User.class)));
		// as Spring Boot builds it: RedisCacheManager.builder(factory), the non-locking writer
		context.registerBean("cacheManager", RedisCacheManager.class,
				() -> RedisCacheManager.builder(context.getBean(LettuceConnectionFactory.class))
					.cacheDefaults(config)
					.initialCacheNames(java.util.Set.of(SPRING))
					.build());
		context.registerBean(SpringExpiryService.class);
		context.refresh();
		return context;
	}

}
