package io.tagcache.benchmarks;

import java.util.concurrent.TimeUnit;

import io.lettuce.core.api.sync.RedisCommands;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cache hits: {@code @CacheableTagged} against {@code @Cacheable} on spring-data-redis's
 * {@code RedisCacheManager} and against a raw Lettuce {@code GET} of the same JSON bytes, plus the
 * steps in between, so that the gap can be taken apart:
 * <ul>
 * <li>{@link #rawGet} - the floor: one round trip, no decoding;</li>
 * <li>{@link #rawGetEntry} - tagcache's hit command ({@code GET e:<key>}, header line and JSON) sent raw;</li>
 * <li>{@link #rawGetAndDecode} - the floor plus Jackson reading the user;</li>
 * <li>{@link #tagcacheLookup} - {@code RedisTaggedCache.get(key, User.class)}: the engine without AOP
 * and SpEL;</li>
 * <li>{@link #tagcacheAnnotation} - the full {@code @CacheableTagged} hit;</li>
 * <li>{@link #springDataRedisAnnotation} - the full {@code @Cacheable} hit (a cache with immediate
 * writes; hits do not depend on the write mode).</li>
 * </ul>
 * 10,000 users (about 1.1 KiB of JSON each) are stored in every store before measuring; keys are
 * drawn from a Zipf distribution (s = 0.99, seeded) into an array up front. Every call is a hit
 * (checked at the end).
 *
 * <p>Run (latency percentiles at 1 thread, throughput at 8):
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar HitBenchmark -t 1 -bm sample -tu us
 * java -jar benchmarks/target/benchmarks.jar HitBenchmark -t 8 -bm thrpt -tu s -wi 4 -w 3s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class HitBenchmark {

	static final int USERS = 10_000;

	private RedisProcess redis;

	private CacheStacks stacks;

	private RedisCommands<byte[], byte[]> raw;

	private long[] ids;

	private byte[][] rawKeys;

	private byte[][] entryKeys;

	@Setup(Level.Trial)
	public void setUp() {
		this.redis = RedisProcess.start();
		this.stacks = new CacheStacks(this.redis);
		this.stacks.fill(USERS);
		this.raw = this.stacks.raw.sync();
		this.ids = new Zipf(USERS, 0.99, 42).draw(KeyCursor.DRAWS, 1);
		this.rawKeys = new byte[USERS + 1][];
		this.entryKeys = new byte[USERS + 1][];
		for (int id = 1; id <= USERS; id++) {
			this.rawKeys[id] = CacheStacks.rawKey(id);
			// the entry key layout documented in the README: <prefix>:{<cache>}:e:<key>
			this.entryKeys[id] = ("tagcache:{" + CacheStacks.CACHE + "}:e:" + id).getBytes();
		}
		byte[] entry = this.raw.get(this.entryKeys[1]);
		check(entry != null && entry[0] == '0', "tagcache entry layout changed");
		check(this.stacks.tagged.user(1).equals(User.of(1)) && this.stacks.spring.userImmediate(1).equals(User.of(1))
				&& this.stacks.tagged.loads() == 0 && this.stacks.spring.loads() == 0, "the fill did not make hits");
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		try {
			check(this.stacks.tagged.loads() == 0 && this.stacks.spring.loads() == 0,
					"a benchmarked call missed the cache");
		}
		finally {
			this.stacks.close();
			this.redis.close();
		}
	}

	private static void check(boolean condition, String message) {
		if (!condition) {
			throw new IllegalStateException(message);
		}
	}

	@Benchmark
	public byte[] rawGet(KeyCursor cursor) {
		return this.raw.get(this.rawKeys[(int) cursor.next(this.ids)]);
	}

	@Benchmark
	public byte[] rawGetEntry(KeyCursor cursor) {
		return this.raw.get(this.entryKeys[(int) cursor.next(this.ids)]);
	}

	@Benchmark
	public User rawGetAndDecode(KeyCursor cursor) {
		return this.stacks.mapper.readValue(this.raw.get(this.rawKeys[(int) cursor.next(this.ids)]), User.class);
	}

	@Benchmark
	public User tagcacheLookup(KeyCursor cursor) {
		return this.stacks.tagcache.get(cursor.next(this.ids), User.class);
	}

	@Benchmark
	public User tagcacheAnnotation(KeyCursor cursor) {
		return this.stacks.tagged.user(cursor.next(this.ids));
	}

	@Benchmark
	public User springDataRedisAnnotation(KeyCursor cursor) {
		return this.stacks.spring.userImmediate(cursor.next(this.ids));
	}

}
