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
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.LongAdder;

import io.tagcache.TaggedCacheStatistics;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.interceptor.TaggedCachingConfiguration;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Freshness under load (issue 13), soft against hard invalidation of a large tag under read load:
 * {@value #KEYS} users cached with {@code @CacheableTagged(sync = true)}, each carrying the tag
 * {@value #TAG} plus its own ({@code user-<id>}, {@code loc-<n>}), a loader of {@value #LOADER_MILLIS}
 * ms, 8 threads (or {@code -Dthreads}) reading keys of those {@value #KEYS} in a loop, the cache warm. Then
 * the "database" changes (the loader returns a new version of every user from then on) and the tag is
 * invalidated, hard ({@code invalidateTags}) in one round, soft ({@code softInvalidateTags}, default
 * stale-while-revalidate of 1 min) in the next. Reported for the calls that start in the
 * {@value #WINDOW_MILLIS} ms from the invalidation call on: loader calls, calls that waited for a load
 * another caller ran (at least the loader's time without running it), p50/p99/max latency, stale values
 * served ({@code getStaleServed("revalidate")}), values of the old version returned after the
 * invalidation call returned (a correctness check: 0 for a hard invalidation, the stale values served
 * for a soft one), keys loaded more than once at the new version (extra loads: single flight should
 * make it one per key), and how long the invalidation call took. The hits of the second before the
 * invalidation are the baseline of the same round.
 *
 * <p>Keys are drawn uniformly ({@code uniform}, as the goal asks) and, for the project's usual hit
 * workload, from a Zipf distribution (s = 0.99, {@code zipf}), where many callers read the same hot
 * keys. Rounds alternate hard and soft (the order swapped every round), {@value #ROUNDS} measured
 * rounds of each per distribution after one round of each for the JIT; every round refills all
 * {@value #KEYS} entries first ({@code put} with the tags the method gives). Writes
 * {@code soft-invalidation.md} ({@code soft-invalidation-t<threads>.md} for another thread count) to the
 * results directory.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.SoftInvalidationReport
 * </pre>
 * {@code -Drounds=1} for a smoke run; {@code -Dthreads=64 -Dkeys=zipf} for 64 readers on the Zipf keys.
 */
public final class SoftInvalidationReport {

	static final String CACHE = "softUsers";

	static final String TAG = "all";

	static final int KEYS = 10_000;

	static final long LOADER_MILLIS = 20;

	/** Reading threads; {@code -Dthreads=64} for more callers per key than the loader time lets 8 make. */
	private static final int THREADS = Integer.getInteger("threads", 8);

	/**
	 * Key distributions, {@code uniform} and {@code zipf}; {@code -Dkeys=zipf} for one, {@code -Dkeys=hot}
	 * for every read on key 1 (how often one key is loaded more than once).
	 */
	private static final List<String> KEY_DISTRIBUTIONS = List.of(System.getProperty("keys", "uniform,zipf").split(","));

	private static final int ROUNDS = Integer.getInteger("rounds", 3);

	/** Reads before the invalidation: the round's hit baseline is the last second of them. */
	private static final long BEFORE_MILLIS = 1_500;

	private static final long BASELINE_MILLIS = 1_000;

	private static final long WINDOW_MILLIS = 1_000;

	/**
	 * The version of the data; the "database change" raises it just before an invalidation. Static: a
	 * field of the service would be the proxy's, not the target's.
	 */
	static volatile int version;

	/** Loads of each key at the version the last invalidation introduced: a key loaded twice was loaded once too often. */
	static final AtomicIntegerArray LOADS_PER_KEY = new AtomicIntegerArray(KEYS + 1);

	/** The version whose loads {@link #LOADS_PER_KEY} counts. */
	static volatile int countedVersion = -1;

	/** Set by the loader on the thread that runs it. */
	static final ThreadLocal<boolean[]> RAN_LOADER = ThreadLocal.withInitial(() -> new boolean[1]);

	private final StringBuilder report = new StringBuilder();

	public static void main(String[] args) throws Exception {
		new SoftInvalidationReport().run();
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	/** The cached method: its loader sleeps, counts its calls and returns the current version of the user. */
	public static class VersionedUserService {

		private final LongAdder loads = new LongAdder();

		public long loads() {
			return this.loads.sum();
		}

		@CacheableTagged(cacheNames = CACHE, key = "#id", tags = "'" + TAG + "'", sync = true)
		public User user(long id) {
			this.loads.increment();
			RAN_LOADER.get()[0] = true;
			int current = version;
			if (current == countedVersion) {
				LOADS_PER_KEY.incrementAndGet((int) id);
			}
			RedisProcess.sleep(LOADER_MILLIS);
			return versioned(id, current);
		}

	}

	/** The user as the database holds it at a version: its name carries the version. */
	static User versioned(long id, int version) {
		User user = User.of(id);
		return new User(id, "v" + version + " " + user.name(), user.mail(), user.active(), user.location(), user.bio());
	}

	/** The version a value was loaded at. */
	static int versionOf(User user) {
		String name = user.name();
		return Integer.parseInt(name.substring(1, name.indexOf(' ')));
	}

	/** One call: when it started (ns, relative to the round's start), how long it took, what it did. */
	static final class Calls {

		long[] started = new long[1 << 16];

		long[] took = new long[1 << 16];

		byte[] flags = new byte[1 << 16];

		int size;

		static final byte RAN_LOADER = 1;

		static final byte OLD_VERSION = 2;

		void add(long start, long nanos, byte flag) {
			if (this.size == this.started.length) {
				this.started = Arrays.copyOf(this.started, this.size * 2);
				this.took = Arrays.copyOf(this.took, this.size * 2);
				this.flags = Arrays.copyOf(this.flags, this.size * 2);
			}
			this.started[this.size] = start;
			this.took[this.size] = nanos;
			this.flags[this.size] = flag;
			this.size++;
		}

	}

	/** What one round measured. */
	record Round(String mode, String distribution, long invalidationNanos, long invalidated, long windowCalls,
			long loaderCalls, long waited, long p50, long p99, long max, long staleServed, long staleRefreshes,
			long syncWaits, long oldAfterReturn, long oldInWindow, long keysLoadedTwice, long extraLoads, long hitP50,
			long hitP99, long gcMillis) {
	}

	private void run() throws Exception {
		print("## Soft against hard invalidation of a %,d-entry tag under read load: %d threads, loader %d ms, window %d ms%n",
				KEYS, THREADS, LOADER_MILLIS, WINDOW_MILLIS);
		print("load before: %s", StampedeReport.loadAverage());
		List<Round> rounds = new ArrayList<>();
		try (RedisProcess redis = RedisProcess.start();
				AnnotationConfigApplicationContext context = context(redis.port())) {
			VersionedUserService service = context.getBean(VersionedUserService.class);
			RedisTaggedCache cache = context.getBean(RedisTaggedCacheManager.class).getCache(CACHE);
			long[] zipf = new Zipf(KEYS, 0.99, 45).draw(1 << 16, 1);
			for (String keys : KEY_DISTRIBUTIONS) {
				for (int round = -1; round < ROUNDS; round++) {
					List<String> modes = ((round & 1) == 0) ? List.of("hard", "soft") : List.of("soft", "hard");
					for (String mode : modes) {
						Round measured = round(service, cache, mode, keys, "zipf".equals(keys) ? zipf : null);
						if (round >= 0) {
							rounds.add(measured);
						}
						print("%s %s round %d: invalidation %.1f ms, %d calls in the window, %d loads, %d stale served, load %s",
								keys, mode, round + 1, measured.invalidationNanos() / 1e6, measured.windowCalls(),
								measured.loaderCalls(), measured.staleServed(), StampedeReport.loadAverage());
					}
				}
			}
		}
		table(rounds);
		print("load after: %s", StampedeReport.loadAverage());
		Files.writeString(RedisStats.resultsDirectory()
			.resolve((THREADS == 8) ? "soft-invalidation.md" : "soft-invalidation-t" + THREADS + ".md"), this.report);
	}

	private Round round(VersionedUserService service, RedisTaggedCache cache, String mode, String keys,
			long[] zipf) throws Exception {
		int before = version;
		User[] current = new User[KEYS + 1];
		for (int id = 1; id <= KEYS; id++) {
			current[id] = versioned(id, before);
		}
		// warm: every entry fresh, at the current version, with the tags the method gives
		CacheStacks.parallel(KEYS, 4, id -> cache.put(id, current[(int) id],
				List.of(TAG, "user-" + id, "loc-" + (id % User.LOCATIONS))));
		AtomicBoolean running = new AtomicBoolean(true);
		CyclicBarrier start = new CyclicBarrier(THREADS + 1);
		long origin = System.nanoTime();
		List<Calls> perThread = new ArrayList<>();
		List<Thread> threads = new ArrayList<>();
		List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
		for (int t = 0; t < THREADS; t++) {
			Calls calls = new Calls();
			perThread.add(calls);
			int offset = t * 7919;
			Thread thread = new Thread(() -> {
				try {
					boolean[] ran = RAN_LOADER.get();
					int cursor = offset;
					start.await();
					while (running.get()) {
						long id = (zipf != null) ? zipf[cursor++ & 0xFFFF]
								: "hot".equals(keys) ? 1 : ThreadLocalRandom.current().nextInt(1, KEYS + 1);
						ran[0] = false;
						long begin = System.nanoTime();
						User user = service.user(id);
						long end = System.nanoTime();
						if (user == null || user.id() != id) {
							throw new IllegalStateException("wrong value for " + id + ": " + user);
						}
						byte flag = (byte) ((ran[0] ? Calls.RAN_LOADER : 0)
								| ((versionOf(user) < version) ? Calls.OLD_VERSION : 0));
						calls.add(begin - origin, end - begin, flag);
					}
				}
				catch (Throwable ex) {
					failures.add(ex);
				}
			}, "reader-" + t);
			thread.start();
			threads.add(thread);
		}
		start.await();
		long readersStarted = System.nanoTime() - origin;
		Thread.sleep(BEFORE_MILLIS);
		TaggedCacheStatistics stats = cache.getStatistics();
		long staleBefore = stats.getStaleServed("revalidate");
		long refreshesBefore = stats.getRefreshes("stale");
		long syncWaitsBefore = stats.getSyncWaits();
		long gcBefore = gcMillis();
		for (int id = 0; id <= KEYS; id++) {
			LOADS_PER_KEY.set(id, 0);
		}
		countedVersion = before + 1;
		// the database changes, then the tag is invalidated
		version = before + 1;
		long invalidating = System.nanoTime() - origin;
		long invalidated = "soft".equals(mode) ? cache.softInvalidateTags(List.of(TAG))
				: cache.invalidateTags(List.of(TAG));
		long returned = System.nanoTime() - origin;
		long windowEnd = invalidating + WINDOW_MILLIS * 1_000_000;
		RedisProcess.sleep(Math.max(0, (windowEnd - (System.nanoTime() - origin)) / 1_000_000));
		long staleServed = stats.getStaleServed("revalidate") - staleBefore;
		long staleRefreshes = stats.getRefreshes("stale") - refreshesBefore;
		long syncWaits = stats.getSyncWaits() - syncWaitsBefore;
		long gc = gcMillis() - gcBefore;
		long keysLoadedTwice = 0;
		long extraLoads = 0;
		for (int id = 1; id <= KEYS; id++) {
			int loads = LOADS_PER_KEY.get(id);
			if (loads > 1) {
				keysLoadedTwice++;
				extraLoads += loads - 1;
			}
		}
		running.set(false);
		for (Thread thread : threads) {
			thread.join();
		}
		if (!failures.isEmpty()) {
			IllegalStateException failure = new IllegalStateException(mode + " " + keys + ": a reader failed");
			failures.forEach(failure::addSuppressed);
			throw failure;
		}
		if (invalidated != KEYS) {
			throw new IllegalStateException(mode + " invalidation reached " + invalidated + " entries, not " + KEYS);
		}
		// the calls that started in the window, and the hits of the second before the invalidation
		long baselineFrom = Math.max(readersStarted, invalidating - BASELINE_MILLIS * 1_000_000);
		List<Long> window = new ArrayList<>();
		List<Long> hits = new ArrayList<>();
		long loaderCalls = 0;
		long waited = 0;
		long oldAfterReturn = 0;
		long oldInWindow = 0;
		for (Calls calls : perThread) {
			for (int i = 0; i < calls.size; i++) {
				long begin = calls.started[i];
				if (begin >= baselineFrom && begin < invalidating && begin + calls.took[i] < invalidating) {
					hits.add(calls.took[i]);
				}
				if (begin < invalidating || begin >= windowEnd) {
					continue;
				}
				window.add(calls.took[i]);
				boolean ran = (calls.flags[i] & Calls.RAN_LOADER) != 0;
				boolean old = (calls.flags[i] & Calls.OLD_VERSION) != 0;
				if (ran) {
					loaderCalls++;
				}
				else if (calls.took[i] >= LOADER_MILLIS * 1_000_000) {
					waited++;
				}
				if (old) {
					oldInWindow++;
					if (begin >= returned) {
						oldAfterReturn++;
					}
				}
			}
		}
		long[] w = window.stream().mapToLong(Long::longValue).sorted().toArray();
		long[] h = hits.stream().mapToLong(Long::longValue).sorted().toArray();
		return new Round(mode, keys, returned - invalidating, invalidated, w.length, loaderCalls, waited, p(w, 0.50),
				p(w, 0.99), w[w.length - 1], staleServed, staleRefreshes, syncWaits, oldAfterReturn, oldInWindow,
				keysLoadedTwice, extraLoads, p(h, 0.50), p(h, 0.99), gc);
	}

	private void table(List<Round> rounds) {
		print("");
		print("Every measured round (calls that started in the %d ms from the invalidation call on):", WINDOW_MILLIS);
		print("");
		print("| Keys | Mode | Invalidation call ms | Calls | Loader calls | Waited for a load | p50 us | p99 us | max ms | Stale served (revalidate) | Stale refreshes | Sync waits | Old version after the call returned | Old version in the window | Keys loaded twice or more / extra loads | Hit p50 / p99 us before | GC ms |");
		print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
		for (Round r : rounds) {
			print("| %s | %s | %.1f | %,d | %,d | %,d | %.0f | %.0f | %.1f | %,d | %,d | %,d | %,d | %,d | %d / %d | %.0f / %.0f | %d |",
					r.distribution(), r.mode(), r.invalidationNanos() / 1e6, r.windowCalls(), r.loaderCalls(), r.waited(),
					r.p50() / 1e3, r.p99() / 1e3, r.max() / 1e6, r.staleServed(), r.staleRefreshes(), r.syncWaits(),
					r.oldAfterReturn(), r.oldInWindow(), r.keysLoadedTwice(), r.extraLoads(), r.hitP50() / 1e3,
					r.hitP99() / 1e3, r.gcMillis());
		}
		print("");
		print("Means over the rounds, soft / hard:");
		print("");
		print("| Keys | Mode | Invalidation call ms | Calls | Loader calls | Waited for a load | p50 us | p99 us | max ms | Stale served | Old version after the call returned | Extra loads | p50 / hit p50 |");
		print("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
		Map<String, double[]> means = new LinkedHashMap<>();
		for (String keys : KEY_DISTRIBUTIONS) {
			for (String mode : List.of("hard", "soft")) {
				List<Round> of = rounds.stream().filter(r -> r.distribution().equals(keys) && r.mode().equals(mode)).toList();
				if (of.isEmpty()) {
					continue;
				}
				double[] m = {
						of.stream().mapToLong(Round::invalidationNanos).average().orElse(0) / 1e6,
						of.stream().mapToLong(Round::windowCalls).average().orElse(0),
						of.stream().mapToLong(Round::loaderCalls).average().orElse(0),
						of.stream().mapToLong(Round::waited).average().orElse(0),
						of.stream().mapToLong(Round::p50).average().orElse(0) / 1e3,
						of.stream().mapToLong(Round::p99).average().orElse(0) / 1e3,
						of.stream().mapToLong(Round::max).average().orElse(0) / 1e6,
						of.stream().mapToLong(Round::staleServed).average().orElse(0),
						of.stream().mapToLong(Round::oldAfterReturn).average().orElse(0),
						of.stream().mapToLong(Round::extraLoads).average().orElse(0),
						of.stream().mapToDouble(r -> (double) r.p50() / r.hitP50()).average().orElse(0) };
				means.put(keys + " " + mode, m);
				print("| %s | %s | %.1f | %,.0f | %,.1f | %,.1f | %.0f | %.0f | %.1f | %,.1f | %,.1f | %,.1f | %.1fx |", keys, mode,
						m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10]);
			}
			double[] hard = means.get(keys + " hard");
			double[] soft = means.get(keys + " soft");
			if (hard != null && soft != null) {
				print("| %s | **soft / hard** | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | |", keys,
						ratio(soft[0], hard[0]), ratio(soft[1], hard[1]), ratio(soft[2], hard[2]), ratio(soft[3], hard[3]),
						ratio(soft[4], hard[4]), ratio(soft[5], hard[5]), ratio(soft[6], hard[6]),
						ratio(soft[7], hard[7]), ratio(soft[8], hard[8]), ratio(soft[9], hard[9]));
			}
		}
		print("");
	}

	private static String ratio(double a, double b) {
		return (b == 0) ? ((a == 0) ? "-" : "inf") : String.format(Locale.ROOT, "%.2fx", a / b);
	}

	private static long p(long[] sorted, double quantile) {
		return (sorted.length == 0) ? 0
				: sorted[Math.min(sorted.length - 1, (int) Math.ceil(quantile * sorted.length) - 1)];
	}

	private static long gcMillis() {
		return ManagementFactory.getGarbageCollectorMXBeans()
			.stream()
			.mapToLong(GarbageCollectorMXBean::getCollectionTime)
			.sum();
	}

	private static AnnotationConfigApplicationContext context(int port) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.register(TaggedCachingConfiguration.class);
		context.registerBean(LettuceConnectionFactory.class, () -> CacheStacks.connectionFactory(port));
		context.registerBean("cacheManager", RedisTaggedCacheManager.class,
				() -> RedisTaggedCacheManager.builder(context.getBean(LettuceConnectionFactory.class))
					.jsonMapper(JsonMapper.builder().build())
					// defaults otherwise: stale-while-revalidate 1 min, inline limit 200, drain budget 1 ms
					.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofHours(1)))
					.withCacheNames(CACHE)
					.build());
		context.registerBean(VersionedUserService.class);
		context.refresh();
		return context;
	}

}
