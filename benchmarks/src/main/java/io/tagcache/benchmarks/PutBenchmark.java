package io.tagcache.benchmarks;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

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
 * Writes: tagcache's put of a user with 3 tags against spring-data-redis's {@code RedisCache.put}
 * of the same user, with its default deferred writes (the call returns before Redis answers) and with
 * {@code immediateWrites()}; and a whole miss through each annotation.
 * <ul>
 * <li>{@link #tagcachePut} - {@code TaggedCache.put(key, user, 3 tags)}: one {@code EVALSHA} of the
 * put script (value, tag list and 3 index records in one step);</li>
 * <li>{@link #tagcacheFencedPut} - what a miss stores: {@code readFence(key)} then
 * {@code putFenced(...)}, two round trips;</li>
 * <li>{@link #springPutImmediate} / {@link #springPutDeferred} - {@code RedisCache.put}: one
 * {@code SET ... PX}, awaited or not;</li>
 * <li>{@link #tagcacheMissAndPut} - a {@code @CacheableTagged} call on a key never seen: {@code GET}
 * (miss), fence read, method, tag extraction, put script;</li>
 * <li>{@link #springMissAndPutImmediate} / {@link #springMissAndPutDeferred} - the same through
 * {@code @Cacheable}: {@code GET} (miss), method, {@code SET}.</li>
 * </ul>
 * Puts overwrite the 10,000 users with Zipf-drawn keys (s = 0.99, drawn up front); misses use fresh
 * ids from a counter. Each pair runs on the same Redis build and settings. Deferred puts return before
 * Redis answers; at 8 threads their backlog grows without bound (the fork ran out of heap), hence
 * {@code -e springPutDeferred} there.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar PutBenchmark -t 1 -bm sample -tu us
 * java -jar benchmarks/target/benchmarks.jar PutBenchmark -t 8 -bm thrpt -tu s -wi 4 -w 3s -e springPutDeferred
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class PutBenchmark {

	static final int USERS = 10_000;

	private RedisProcess redis;

	private CacheStacks stacks;

	private long[] ids;

	private User[] users;

	private List<String>[] tags;

	private final AtomicLong fresh = new AtomicLong(1_000_000_000L);

	@Setup(Level.Trial)
	@SuppressWarnings("unchecked")
	public void setUp() {
		this.redis = RedisProcess.start();
		this.stacks = new CacheStacks(this.redis);
		this.stacks.fill(USERS);
		this.ids = new Zipf(USERS, 0.99, 43).draw(KeyCursor.DRAWS, 1);
		this.users = new User[USERS + 1];
		this.tags = new List[USERS + 1];
		for (int id = 1; id <= USERS; id++) {
			this.users[id] = User.of(id);
			this.tags[id] = CacheStacks.tags(id);
		}
	}

	@TearDown(Level.Trial)
	public void tearDown() {
		long rejected = this.stacks.tagcache.getStatistics().getRejectedPuts();
		if (rejected > 0) {
			System.out.println("WARNING: " + rejected + " fenced puts were refused");
		}
		this.stacks.close();
		this.redis.close();
	}

	@Benchmark
	public void tagcachePut(KeyCursor cursor) {
		int id = (int) cursor.next(this.ids);
		this.stacks.tagcache.put(id, this.users[id], this.tags[id]);
	}

	@Benchmark
	public boolean tagcacheFencedPut(KeyCursor cursor) {
		int id = (int) cursor.next(this.ids);
		long fence = this.stacks.tagcache.readFence(id);
		return this.stacks.tagcache.putFenced(id, this.users[id], this.tags[id], null, fence);
	}

	@Benchmark
	public void springPutImmediate(KeyCursor cursor) {
		int id = (int) cursor.next(this.ids);
		this.stacks.springImmediate.put(id, this.users[id]);
	}

	@Benchmark
	public void springPutDeferred(KeyCursor cursor) {
		int id = (int) cursor.next(this.ids);
		this.stacks.springDeferred.put(id, this.users[id]);
	}

	@Benchmark
	public User tagcacheMissAndPut() {
		return this.stacks.tagged.user(this.fresh.incrementAndGet());
	}

	@Benchmark
	public User springMissAndPutImmediate() {
		return this.stacks.spring.userImmediate(this.fresh.incrementAndGet());
	}

	@Benchmark
	public User springMissAndPutDeferred() {
		return this.stacks.spring.user(this.fresh.incrementAndGet());
	}

}
