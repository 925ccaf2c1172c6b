package io.tagcache.benchmarks;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongConsumer;

import io.lettuce.core.api.sync.RedisCommands;
import io.tagcache.Loaded;
import io.tagcache.TaggedCacheStatistics;
import io.tagcache.TaggedLoader;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/**
 * Issue 14, the near cache: what a near hit costs against a round trip, and what an entry costs the
 * heap. Two parts, chosen by the first argument ({@code hits}, {@code memory}, or both by default):
 * <ul>
 * <li><b>hits</b>: every hit variant interleaved in one JVM on one Redis, as {@link InterleavedComparison}
 * does (1 thread: 40 rounds of 500 calls each, every call timed; 8 threads: 12 turns of 400 ms per variant),
 * so every ratio is against a raw Lettuce {@code GET} of the same round. Near variants run on a second
 * tagcache context ({@code withNearCache(true)}, {@code nearCacheMaximumSize(200,000)}) on the same key
 * prefix, so they read the entries the other stacks read; its near cache is filled by the warm-up, and the
 * report checks that no near variant missed while measured.</li>
 * <li><b>memory</b>: {@code N} (100,000, {@code -Dentries=}, at most the near cache's 200,000) users stored,
 * then read through a near cache; heap used after {@code System.gc()} (five times, until it stops falling)
 * before and after, minus the heap the same {@code N} decoded values take alone (held in an array, measured
 * before the near cache is filled), so both the whole cost of a near entry and its overhead over the value
 * are reported, the overhead attributed by class ({@code GC.class_histogram}); with the Redis side
 * ({@code MEMORY USAGE} of one entry, {@code used_memory} per entry with its tag records).</li>
 * </ul>
 *
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.NearCacheReport hits
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.NearCacheReport memory
 * </pre>
 */
public final class NearCacheReport {

	private static final int USERS = 10_000;

	private static final int ROUNDS = Integer.getInteger("rounds", 40);

	private static final int CALLS_PER_TURN = 500;

	private static final int THREADED_ROUNDS = Integer.getInteger("threaded-rounds", 12);

	private static final long TURN_MILLIS = 400;

	private static final int THREADS = 8;

	private static final long NEAR_MAXIMUM = 200_000;

	private final StringBuilder report = new StringBuilder();

	public static void main(String[] args) throws Exception {
		String part = (args.length > 0) ? args[0] : "all";
		NearCacheReport report = new NearCacheReport();
		report.print("## Near cache (issue 14) (%s, %d CPUs, load %.2f at start)%n", part,
				Runtime.getRuntime().availableProcessors(),
				ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
		if (part.equals("all") || part.equals("hits")) {
			report.hits();
		}
		if (part.equals("all") || part.equals("memory")) {
			report.memory(Integer.getInteger("entries", 100_000));
		}
		Files.writeString(RedisStats.resultsDirectory().resolve("near-cache-" + part + ".md"), report.report);
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	static AnnotationConfigApplicationContext nearContext(RedisProcess redis, CacheStacks stacks) {
		return CacheStacks.tagcacheContext(redis.port(), stacks.mapper,
				builder -> builder.nearCacheMaximumSize(NEAR_MAXIMUM)
					.withCache(CacheStacks.CACHE,
							RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(CacheStacks.TTL).withNearCache(true)));
	}

	static RedisTaggedCache awaitServing(AnnotationConfigApplicationContext context) {
		RedisTaggedCache cache = context.getBean(RedisTaggedCacheManager.class).getCache(CacheStacks.CACHE);
		long deadline = System.nanoTime() + 10_000_000_000L;
		while (!cache.isNearCacheServing()) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("the near cache did not start serving within 10 s");
			}
			RedisProcess.sleep(5);
		}
		return cache;
	}

	// Hits

	private void hits() throws Exception {
		try (RedisProcess redis = RedisProcess.start(); CacheStacks stacks = new CacheStacks(redis);
				AnnotationConfigApplicationContext near = nearContext(redis, stacks)) {
			RedisTaggedCache nearCache = awaitServing(near);
			TaggedUserService nearTagged = near.getBean(TaggedUserService.class);
			stacks.fill(USERS);
			long[] ids = new Zipf(USERS, 0.99, 45).draw(1 << 16, 1);
			LongAdder loaderCalls = new LongAdder();
			TaggedLoaderFactory loaders = id -> () -> {
				loaderCalls.increment();
				return Loaded.of(User.of(id), CacheStacks.tags(id));
			};
			var raw = stacks.raw.sync();
			Map<String, LongConsumer> hits = new LinkedHashMap<>();
			hits.put("rawGet", id -> raw.get(CacheStacks.rawKey(id)));
			hits.put("rawGetAndDecode", id -> stacks.mapper.readValue(raw.get(CacheStacks.rawKey(id)), User.class));
			hits.put("tagcacheLookup", id -> stacks.tagcache.get(id, User.class));
			hits.put("tagcacheLoader", id -> stacks.tagcache.get(id, User.class, false, loaders.of(id)));
			hits.put("tagcacheAnnotation", id -> stacks.tagged.user(id));
			hits.put("springDataRedisAnnotation", id -> stacks.spring.userImmediate(id));
			hits.put("nearLookup", id -> nearCache.get(id, User.class));
			hits.put("nearLoader", id -> nearCache.get(id, User.class, false, loaders.of(id)));
			hits.put("nearAnnotation", id -> nearTagged.user(id));
			String only = System.getProperty("variants");
			if (only != null) {
				// e.g. for a profile of one path: -Dvariants=rawGet,nearAnnotation (the ratio columns need
				// rawGet, springDataRedisAnnotation and tagcacheAnnotation)
				hits.keySet().retainAll(List.of(only.split(",")));
			}
			// warm-up: JIT every path, and fill the near cache with every key the sequence holds
			for (LongConsumer variant : hits.values()) {
				for (int i = 0; i < 20_000; i++) {
					variant.accept(ids[i & 0xFFFF]);
				}
			}
			for (long id : ids) {
				nearCache.get(id, User.class);
				nearCache.get(id, User.class, false, loaders.of(id));
				nearTagged.user(id);
			}
			TaggedCacheStatistics statistics = nearCache.getStatistics();
			long nearHitsBefore = statistics.getNearCacheGets("hit");
			long nearMissesBefore = statistics.getNearCacheGets("miss");
			print("Near cache after warm-up: %,d entries, %,d near hits and %,d near misses so far%n",
					statistics.getNearCacheSize(), nearHitsBefore, nearMissesBefore);
			oneThread(hits, ids, "rawGet", "Hits, 1 thread");
			threaded(hits, ids, "rawGet", "springDataRedisAnnotation", "Hits, 8 threads");
			long nearMisses = statistics.getNearCacheGets("miss") - nearMissesBefore;
			print("While measured: %,d near hits, %,d near misses (must be 0); near cache serving: %s%n",
					statistics.getNearCacheGets("hit") - nearHitsBefore, nearMisses, nearCache.isNearCacheServing());
			if (stacks.tagged.loads() != 0 || stacks.spring.loads() != 0 || nearTagged.loads() != 0
					|| loaderCalls.sum() != 0) {
				throw new IllegalStateException("a hit variant missed the cache");
			}
			if (nearMisses != 0) {
				throw new IllegalStateException("a near variant missed the near cache while measured");
			}
		}
	}

	@FunctionalInterface
	private interface TaggedLoaderFactory {

		TaggedLoader<User> of(long id);

	}

	private void oneThread(Map<String, LongConsumer> variants, long[] ids, String baseline, String title) {
		Map<String, long[]> latencies = Turns.timeEach(variants, ids, ROUNDS, CALLS_PER_TURN);
		long[] base = latencies.get(baseline);
		print("### %s (%,d calls per variant, each timed with System.nanoTime)%n", title, ROUNDS * CALLS_PER_TURN);
		print("| Variant | p50 us | p99 us | mean us | %s p50 / p50 | %s mean / mean |", baseline, baseline);
		print("|---|---|---|---|---|---|");
		for (Map.Entry<String, long[]> entry : latencies.entrySet()) {
			long[] s = entry.getValue();
			print("| %s | %.2f | %.2f | %.2f | %.1fx | %.1fx |", entry.getKey(), Turns.p(s, 0.50) / 1e3, Turns.p(s, 0.99) / 1e3,
					Turns.mean(s) / 1e3, Turns.p(base, 0.50) / Turns.p(s, 0.50), Turns.mean(base) / Turns.mean(s));
		}
		print("");
	}

	private void threaded(Map<String, LongConsumer> variants, long[] ids, String baseline, String second, String title)
			throws Exception {
		Map<String, long[]> counts = Turns.interleave(variants, ids, THREADED_ROUNDS, THREADS, TURN_MILLIS);
		double base = Turns.rate(counts.get(baseline));
		double tagcache = counts.containsKey("tagcacheAnnotation") ? Turns.rate(counts.get("tagcacheAnnotation")) : Double.NaN;
		print("### %s (%d turns of %d ms per variant)%n", title, THREADED_ROUNDS, TURN_MILLIS);
		print("| Variant | calls/s | / %s | / %s | / tagcacheAnnotation |", baseline, second);
		print("|---|---|---|---|---|");
		for (Map.Entry<String, long[]> entry : counts.entrySet()) {
			double rate = Turns.rate(entry.getValue());
			print("| %s | %,.0f | %.2fx | %.2fx | %.2fx |", entry.getKey(), rate, rate / base,
					counts.containsKey(second) ? rate / Turns.rate(counts.get(second)) : Double.NaN, rate / tagcache);
		}
		print("");
	}


	// Memory

	private void memory(int entries) throws Exception {
		try (RedisProcess redis = RedisProcess.start(); CacheStacks stacks = new CacheStacks(redis);
				AnnotationConfigApplicationContext near = nearContext(redis, stacks)) {
			RedisTaggedCache nearCache = awaitServing(near);
			RedisCommands<String, String> admin = stacks.rawClient.connect().sync();
			long redisBefore = RedisStats.usedMemory(admin);
			long started = System.nanoTime();
			CacheStacks.parallel(entries, 4, id -> stacks.tagcache.put(id, User.of(id), CacheStacks.tags(id)));
			long redisAfter = RedisStats.usedMemory(admin);
			String oneKey = admin.scan(io.lettuce.core.ScanArgs.Builder.matches("*:e:1").limit(1_000_000))
				.getKeys()
				.stream()
				.findFirst()
				.orElseThrow();
			Long oneEntry = admin.memoryUsage(oneKey);
			int json = stacks.mapper.writeValueAsBytes(User.of(1)).length;
			print("Stored %,d users in Redis in %.1f s (each with 3 tags, %,d bytes of JSON)%n", entries,
					(System.nanoTime() - started) / 1e9, json);
			MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
			long empty = usedAfterGc(memory);
			// first the same values alone: decoded from the same JSON, held by an array (the near cache still empty,
			// so that its tables, which do not shrink when cleared, are counted as its own)
			User[] values = new User[entries];
			for (int id = 1; id <= entries; id++) {
				values[id - 1] = stacks.mapper.readValue(stacks.mapper.writeValueAsBytes(User.of(id)), User.class);
			}
			long valuesOnly = usedAfterGc(memory);
			Map<String, long[]> valuesHistogram = histogram();
			if (values[entries - 1] == null) {
				throw new IllegalStateException();
			}
			values = null;
			// read every user through the near cache: each read misses it, reads Redis, decodes and keeps
			for (long id = 1; id <= entries; id++) {
				if (nearCache.get(id, User.class) == null) {
					throw new IllegalStateException("user " + id + " was not in Redis");
				}
			}
			long kept = nearCache.getStatistics().getNearCacheSize();
			long full = usedAfterGc(memory);
			Map<String, long[]> fullHistogram = histogram();
			if (kept != entries) {
				throw new IllegalStateException("the near cache holds " + kept + " entries, not " + entries);
			}
			long arrayBytes = 16L + 4L * entries;
			double perEntry = (full - empty) / (double) entries;
			double perValue = (valuesOnly - empty - arrayBytes) / (double) entries;
			print("### Memory per entry, %,d entries (heap used after System.gc(), G1, compressed oops)%n", entries);
			print("| | bytes |");
			print("|---|---|");
			print("| Heap, near cache empty | %,d |", empty);
			print("| Heap, near cache holding %,d entries | %,d |", kept, full);
			print("| **Near cache, per entry** (value, key, tags, Caffeine node, tag index) | **%,.0f** |", perEntry);
			print("| The decoded value alone, per entry (%,d `User`s in an array, before the near cache was filled) | %,.0f |", entries,
					perValue);
			print("| **Near cache overhead per entry** (the difference) | **%,.0f** |", perEntry - perValue);
			print("| JSON of one user | %,d |", json);
			print("| Redis: `MEMORY USAGE` of one entry key (`%s`) | %,d |", oneKey, oneEntry);
			print("| Redis: `used_memory` per entry, its 3 tag records included | %,.0f |",
					(redisAfter - redisBefore) / (double) entries);
			print("");
			print("Where the overhead goes: the heap's class histogram (`GC.class_histogram`, after a full GC) with the "
					+ "near cache full, minus the one with the values alone (classes over 4 bytes per entry):%n");
			print("| Class | instances per entry | bytes per entry |");
			print("|---|---|---|");
			List<Map.Entry<String, long[]>> rows = new ArrayList<>();
			for (Map.Entry<String, long[]> row : fullHistogram.entrySet()) {
				long[] other = valuesHistogram.getOrDefault(row.getKey(), new long[2]);
				rows.add(Map.entry(row.getKey(), new long[] { row.getValue()[0] - other[0], row.getValue()[1] - other[1] }));
			}
			for (Map.Entry<String, long[]> row : valuesHistogram.entrySet()) {
				if (!fullHistogram.containsKey(row.getKey())) {
					rows.add(Map.entry(row.getKey(), new long[] { -row.getValue()[0], -row.getValue()[1] }));
				}
			}
			rows.sort((a, b) -> Long.compare(Math.abs(b.getValue()[1]), Math.abs(a.getValue()[1])));
			long listed = 0;
			for (Map.Entry<String, long[]> row : rows) {
				if (Math.abs(row.getValue()[1]) / (double) entries > 4) {
					listed += row.getValue()[1];
					print("| `%s` | %.2f | %.0f |", row.getKey(), row.getValue()[0] / (double) entries,
							row.getValue()[1] / (double) entries);
				}
			}
			print("| (listed) | | %.0f |", listed / (double) entries);
			print("");
		}
	}

	/** The live heap by class (a full GC first): class name to {instances, bytes}. */
	private static Map<String, long[]> histogram() throws Exception {
		javax.management.MBeanServer server = ManagementFactory.getPlatformMBeanServer();
		String text = (String) server.invoke(new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"),
				"gcClassHistogram", new Object[] { new String[0] }, new String[] { String[].class.getName() });
		Map<String, long[]> classes = new LinkedHashMap<>();
		for (String line : text.split("\\R")) {
			String[] fields = line.trim().split("\\s+");
			if (fields.length >= 4 && fields[0].endsWith(":")) {
				classes.merge(fields[3], new long[] { Long.parseLong(fields[1]), Long.parseLong(fields[2]) },
						(a, b) -> new long[] { a[0] + b[0], a[1] + b[1] });
			}
		}
		return classes;
	}

	/** Heap used after full collections, repeated until it no longer falls (at most 5). */
	private static long usedAfterGc(MemoryMXBean memory) {
		long best = Long.MAX_VALUE;
		for (int i = 0; i < 5; i++) {
			System.gc();
			RedisProcess.sleep(100);
			long used = memory.getHeapMemoryUsage().getUsed();
			if (used >= best) {
				return best;
			}
			best = used;
		}
		return best;
	}

}
