package io.tagcache.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.infra.ThreadParams;
import org.openjdk.jmh.runner.IterationType;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Invalidation of a tag carried by 1, 100, 10,000 or 100,000 entries: the time until
 * {@code TagInvalidator.invalidate(tag)} returns (every entry removed, huge tags drained), one
 * invalidation per thread and iteration ({@code SingleShotTime}); with {@code -t 8}, eight threads
 * each invalidate their own tag at once.
 *
 * <p>Each entry is a user (about 1.1 KiB of JSON) carrying the invalidated tag plus
 * {@code user-<key>} and {@code loc-<n>}, so removing it also unlinks two other index records. The
 * entries are written before each iteration (not timed), and the invalidation path is warmed up (JIT) with 2,000
 * small invalidations before the first. Alongside, a {@linkplain LatencyProbe probe}
 * thread with its own connection issues {@code GET}s back to back; for every measured iteration the
 * benchmark reports the longest probe {@code GET} overlapping the invalidations, the slow log (every
 * script over {@value RedisProcess#SLOWLOG_MICROS} us, how many took over 2 ms), the scripts run and
 * their mean Redis time ({@code INFO commandstats}), and the JVM's GC time in the window. These go to
 * standard output and to {@code benchmarks/target/results/invalidation.csv}.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar InvalidationBenchmark -t 1
 * java -jar benchmarks/target/benchmarks.jar InvalidationBenchmark -t 8 -p size=1,100,10000
 * java -jar benchmarks/target/benchmarks.jar InvalidationBenchmark -t 1 -p size=10000 -p otherTags=0,2
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = { "-Xms2g", "-Xmx2g" })
@Warmup(iterations = 1)
@Measurement(iterations = 3)
public class InvalidationBenchmark {

	@Param({ "1", "100", "10000", "100000" })
	public int size;

	/**
	 * How many tags each entry carries besides the invalidated one: 2 ({@code user-<key>} and
	 * {@code loc-<n>}, the default), or 0 to measure what unlinking them costs.
	 */
	@Param({ "2" })
	public int otherTags;

	private RedisProcess redis;

	private LettuceConnectionFactory connectionFactory;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	private RedisClient adminClient;

	private StatefulRedisConnection<String, String> adminConnection;

	private RedisCommands<String, String> admin;

	private LatencyProbe probe;

	private GcPauses gc;

	private CyclicBarrier ready;

	private int threads;

	private final AtomicLong windowStart = new AtomicLong();

	private final AtomicLong windowEnd = new AtomicLong();

	private final List<String> measured = new ArrayList<>();

	private long worstProbeNanos;

	private long worstScriptMicros;

	private long scriptsOver2ms;

	@Setup(Level.Trial)
	public void setUp(BenchmarkParams params) {
		this.threads = params.getThreads();
		this.redis = RedisProcess.start();
		this.connectionFactory = CacheStacks.connectionFactory(this.redis.port());
		this.connectionFactory.afterPropertiesSet();
		this.connectionFactory.start();
		this.manager = RedisTaggedCacheManager.builder(this.connectionFactory)
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(CacheStacks.TTL))
			.build();
		this.cache = this.manager.getCache("invalidation");
		// A single-shot benchmark measures one call per iteration: without this, the client side of an
		// invalidation would run interpreted, and small tags would measure the JIT rather than tagcache.
		for (int i = 0; i < 2_000; i++) {
			this.cache.put("warm-up", User.of(1), List.of("warm-up"));
			this.manager.invalidate("warm-up");
		}
		this.adminClient = RedisClient.create(RedisURI.create("127.0.0.1", this.redis.port()));
		this.adminConnection = this.adminClient.connect();
		this.admin = this.adminConnection.sync();
		this.probe = new LatencyProbe(this.redis.port());
		this.gc = new GcPauses();
		this.ready = new CyclicBarrier(this.threads, this::openWindow);
	}

	/** Runs once every thread has written its entries, just before they invalidate. */
	private void openWindow() {
		this.admin.slowlogReset();
		this.admin.configResetstat();
		this.windowStart.set(Long.MAX_VALUE);
		this.windowEnd.set(Long.MIN_VALUE);
	}

	/** Each thread's tag for the coming iteration, written before it (not timed). */
	@State(Scope.Thread)
	public static class Tag {

		String tag;

		long removed;

		private int iteration;

		private int thread;

		@Setup(Level.Iteration)
		public void fill(InvalidationBenchmark benchmark, ThreadParams params)
				throws InterruptedException, BrokenBarrierException {
			this.thread = params.getThreadIndex();
			this.iteration++;
			this.tag = "grp-" + this.thread + "-" + this.iteration;
			benchmark.fill(this.tag, this.thread + "-" + this.iteration + "-");
			benchmark.ready.await();
		}

		@TearDown(Level.Iteration)
		public void check(InvalidationBenchmark benchmark) {
			if (this.removed != benchmark.size) {
				throw new IllegalStateException("invalidate(" + this.tag + ") removed " + this.removed + " entries, expected "
						+ benchmark.size);
			}
		}

	}

	private void fill(String tag, String keyPrefix) {
		CacheStacks.parallel(this.size, Math.max(1, 8 / this.threads), n -> {
			String key = keyPrefix + n;
			this.cache.put(key, User.of(n), (this.otherTags == 0) ? List.of(tag)
					: List.of(tag, "user-" + key, "loc-" + (n % User.LOCATIONS)));
		});
	}

	@Benchmark
	public long invalidate(Tag tag) {
		this.windowStart.accumulateAndGet(System.nanoTime(), Math::min);
		tag.removed = this.manager.invalidate(tag.tag);
		this.windowEnd.accumulateAndGet(System.nanoTime(), Math::max);
		return tag.removed;
	}

	@TearDown(Level.Iteration)
	public void readIteration(IterationParams iteration) {
		long from = this.windowStart.get();
		long to = this.windowEnd.get();
		LatencyProbe.Window probed = this.probe.window(from, to);
		List<RedisStats.SlowEntry> slow = RedisStats.slowlog(this.admin).stream()
			.filter(entry -> entry.command().startsWith("eval"))
			.toList();
		long maxScript = slow.stream().mapToLong(RedisStats.SlowEntry::micros).max().orElse(0);
		long over2ms = slow.stream().filter(entry -> entry.micros() > 2000).count();
		Map<String, RedisStats.CommandStat> stats = RedisStats.commandStats(this.admin);
		RedisStats.CommandStat scripts = stats.getOrDefault("evalsha", RedisStats.CommandStat.NONE);
		long gcMillis = this.gc.millisWithin(from, to);
		String line = String.format("%d,%d,%.3f,%d,%.3f,%.3f,%d,%d,%d,%.1f,%d", this.threads, this.size,
				(to - from) / 1e6, probed.gets(), probed.maxNanos() / 1e6, probed.p999Nanos() / 1e6, over2ms, maxScript,
				scripts.calls(), scripts.usecPerCall(), gcMillis);
		System.out.println();
		System.out.println("[invalidation] otherTags=" + this.otherTags + " " + iteration.getType() + " threads,size,windowMs,probeGets,probeMaxMs,"
				+ "probeP999Ms,scriptsOver2ms,maxScriptUs(>=" + RedisProcess.SLOWLOG_MICROS
				+ " us logged),scripts,usecPerScript,gcMsInWindow = " + line);
		if (iteration.getType() == IterationType.MEASUREMENT) {
			this.measured.add(line);
			this.worstProbeNanos = Math.max(this.worstProbeNanos, probed.maxNanos());
			this.worstScriptMicros = Math.max(this.worstScriptMicros, maxScript);
			this.scriptsOver2ms += over2ms;
		}
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		try {
			for (String line : this.measured) {
				RedisStats.appendCsv("invalidation.csv", "threads,size,windowMs,probeGets,probeMaxMs,probeP999Ms,"
						+ "scriptsOver2ms,maxScriptUs,scripts,usecPerScript,gcMsInWindow", line);
			}
			System.out.printf("%n[invalidation] summary threads=%d size=%d: worst probe GET %.3f ms, longest script %d us"
					+ " (scripts >= %d us are logged), scripts over 2 ms: %d%n", this.threads, this.size,
					this.worstProbeNanos / 1e6, this.worstScriptMicros, RedisProcess.SLOWLOG_MICROS, this.scriptsOver2ms);
		}
		finally {
			this.probe.close();
			this.adminConnection.close();
			this.adminClient.shutdown();
			this.connectionFactory.destroy();
			this.redis.close();
		}
	}

}
