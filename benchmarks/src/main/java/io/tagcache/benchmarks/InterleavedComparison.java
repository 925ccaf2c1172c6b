package io.tagcache.benchmarks;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.LongConsumer;

/**
 * The hit and put comparisons of {@link HitBenchmark} and {@link PutBenchmark}, interleaved: every
 * variant runs in short turns, round after round, in one JVM on one Redis, so that whatever else the
 * machine does in the meantime hits all of them alike. On a shared 2-core machine this makes the
 * ratios far steadier than consecutive JMH forks, whose neighbours' load differs from fork to fork;
 * the JMH runs remain the reference for absolute figures and allocation.
 * <ul>
 * <li>1 thread: 40 rounds of 500 calls per variant; every call's latency is kept; p50, p99 and mean.</li>
 * <li>8 threads: 12 rounds of 400 ms per variant, all 8 threads calling; calls per second.</li>
 * </ul>
 * Variants as in the JMH classes; every hit variant reads keys drawn from the same Zipf sequence.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.InterleavedComparison
 * </pre>
 */
public final class InterleavedComparison {

	private static final int USERS = 10_000;

	private static final int ROUNDS = 40;

	private static final int CALLS_PER_TURN = 500;

	private static final int THREADED_ROUNDS = 12;

	private static final long TURN_MILLIS = 400;

	private static final int THREADS = 8;

	private final StringBuilder report = new StringBuilder();

	public static void main(String[] args) throws Exception {
		new InterleavedComparison().run();
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	private void run() throws Exception {
		try (RedisProcess redis = RedisProcess.start(); CacheStacks stacks = new CacheStacks(redis)) {
			stacks.fill(USERS);
			long[] ids = new Zipf(USERS, 0.99, 45).draw(1 << 16, 1);
			User[] users = new User[USERS + 1];
			List<List<String>> tags = new ArrayList<>();
			tags.add(List.of());
			for (int id = 1; id <= USERS; id++) {
				users[id] = User.of(id);
				tags.add(CacheStacks.tags(id));
			}
			var raw = stacks.raw.sync();
			Map<String, LongConsumer> hits = new LinkedHashMap<>();
			hits.put("rawGet", id -> raw.get(CacheStacks.rawKey(id)));
			hits.put("rawGetAndDecode", id -> stacks.mapper.readValue(raw.get(CacheStacks.rawKey(id)), User.class));
			hits.put("tagcacheLookup", id -> stacks.tagcache.get(id, User.class));
			hits.put("tagcacheAnnotation", id -> stacks.tagged.user(id));
			hits.put("springDataRedisAnnotation", id -> stacks.spring.userImmediate(id));
			Map<String, LongConsumer> puts = new LinkedHashMap<>();
			puts.put("springPutImmediate", id -> stacks.springImmediate.put(id, users[(int) id]));
			puts.put("tagcachePut", id -> stacks.tagcache.put(id, users[(int) id], tags.get((int) id)));
			Map<String, LongConsumer> all = new LinkedHashMap<>(hits);
			all.putAll(puts);
			// warm-up: JIT every path
			for (LongConsumer variant : all.values()) {
				for (int i = 0; i < 20_000; i++) {
					variant.accept(ids[i & 0xFFFF]);
				}
			}
			print("## Interleaved comparison (one JVM, one Redis, variants in turns)%n");
			oneThread(hits, ids, "rawGet", "Hits, 1 thread");
			oneThread(puts, ids, "springPutImmediate", "Puts, 1 thread");
			threaded(hits, ids, "rawGet", "springDataRedisAnnotation", "Hits, 8 threads");
			threaded(puts, ids, "springPutImmediate", null, "Puts, 8 threads");
			if (stacks.tagged.loads() != 0 || stacks.spring.loads() != 0) {
				throw new IllegalStateException("a hit variant missed the cache");
			}
		}
		Files.writeString(RedisStats.resultsDirectory().resolve("interleaved.md"), this.report);
	}

	private void oneThread(Map<String, LongConsumer> variants, long[] ids, String baseline, String title) {
		Map<String, long[]> latencies = Turns.timeEach(variants, ids, ROUNDS, CALLS_PER_TURN);
		long[] base = latencies.get(baseline);
		print("### %s (%,d calls per variant)%n", title, ROUNDS * CALLS_PER_TURN);
		print("| Variant | p50 us | p99 us | mean us | p50 / %s | p99 / %s | mean / %s |", baseline, baseline, baseline);
		print("|---|---|---|---|---|---|---|");
		for (Map.Entry<String, long[]> entry : latencies.entrySet()) {
			long[] s = entry.getValue();
			print("| %s | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.2fx |", entry.getKey(), Turns.p(s, 0.50) / 1e3, Turns.p(s, 0.99) / 1e3,
					Turns.mean(s) / 1e3, Turns.p(s, 0.50) / Turns.p(base, 0.50), Turns.p(s, 0.99) / Turns.p(base, 0.99), Turns.mean(s) / Turns.mean(base));
		}
		print("");
	}

	private void threaded(Map<String, LongConsumer> variants, long[] ids, String baseline, String second, String title)
			throws Exception {
		Map<String, long[]> counts = Turns.interleave(variants, ids, THREADED_ROUNDS, THREADS, TURN_MILLIS);
		double base = Turns.rate(counts.get(baseline));
		print("### %s (%d turns of %d ms per variant)%n", title, THREADED_ROUNDS, TURN_MILLIS);
		print("| Variant | calls/s | / %s |%s", baseline, (second != null) ? " / " + second + " |" : "");
		print("|---|---|---|%s", (second != null) ? "---|" : "");
		for (Map.Entry<String, long[]> entry : counts.entrySet()) {
			double rate = Turns.rate(entry.getValue());
			print("| %s | %,.0f | %.2fx |%s", entry.getKey(), rate, rate / base,
					(second != null) ? String.format(Locale.ROOT, " %.2fx |", rate / Turns.rate(counts.get(second))) : "");
		}
		print("");
	}


}
