package io.tagcache.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.data.redis.cache.RedisCache;
import org.springframework.data.redis.cache.RedisCacheConfiguration;
import org.springframework.data.redis.cache.RedisCacheManager;
import org.springframework.data.redis.cache.RedisCacheWriter;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.serializer.JacksonJsonRedisSerializer;
import org.springframework.data.redis.serializer.RedisSerializationContext.SerializationPair;

/**
 * What tagcache costs Redis itself, measured from Redis's side, against the same work done by
 * spring-data-redis and by raw commands. Not a JMH benchmark: it counts, it does not time.
 * <ol>
 * <li><b>Redis CPU per operation</b>: {@code CONFIG RESETSTAT}, 20,000 operations on Zipf-drawn keys,
 * then {@code INFO commandstats}: microseconds of Redis time per operation and per command (a hit is
 * a {@code GET} for each).</li>
 * <li><b>Memory</b>: on a fresh Redis for each layout, 10,000 users (about 1.1 KiB of JSON each)
 * written with a 10 s time to live; {@code INFO memory} {@code used_memory} before and after, and
 * {@code MEMORY USAGE} summed over the keys by kind. The overhead per entry is tagcache without tags
 * against a raw {@code SET} of the same bytes; the cost per (entry, tag) record is what each tag adds.
 * Then, once every entry expired and one {@code SCAN} pass went over the keyspace, what is left above
 * the baseline, against the peak memory of the tag indexes.</li>
 * </ol>
 * Prints two tables and writes them to {@code benchmarks/target/results/redis-cost.txt}.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.RedisCostReport
 * </pre>
 */
public final class RedisCostReport {

	private static final int OPERATIONS = 20_000;

	private static final int ENTRIES = 10_000;

	private static final Duration SHORT_TTL = Duration.ofSeconds(10);

	private final StringBuilder report = new StringBuilder();

	public static void main(String[] args) throws Exception {
		RedisCostReport report = new RedisCostReport();
		report.commandCosts();
		report.memory();
		java.nio.file.Files.writeString(RedisStats.resultsDirectory().resolve("redis-cost.txt"), report.report);
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	// Redis CPU per operation

	private void commandCosts() {
		try (RedisProcess redis = RedisProcess.start(); CacheStacks stacks = new CacheStacks(redis);
				Admin admin = new Admin(redis.port())) {
			stacks.fill(ENTRIES);
			long[] ids = new Zipf(ENTRIES, 0.99, 44).draw(1 << 15, 1);
			RedisCommands<byte[], byte[]> raw = stacks.raw.sync();
			java.util.concurrent.atomic.AtomicLong fresh = new java.util.concurrent.atomic.AtomicLong(2_000_000_000L);
			List<Operation> operations = List.of(
					new Operation("raw GET (baseline)", Map.of("get", 1), id -> raw.get(CacheStacks.rawKey(id))),
					new Operation("spring-data-redis @Cacheable hit", Map.of("get", 1),
							id -> stacks.spring.userImmediate(id)),
					new Operation("tagcache @CacheableTagged hit", Map.of("get", 1), id -> stacks.tagged.user(id)),
					new Operation("raw SET of the same bytes", Map.of("set", 1),
							id -> raw.set(CacheStacks.rawKey(id), stacks.mapper.writeValueAsBytes(User.of(id)))),
					new Operation("spring-data-redis put (immediate)", Map.of("set", 1),
							id -> stacks.springImmediate.put(id, User.of(id))),
					new Operation("tagcache put, 3 tags (re-put of a stored key)", Map.of("evalsha", 1),
							id -> stacks.tagcache.put(id, User.of(id), CacheStacks.tags(id))),
					new Operation("tagcache put, no tag", Map.of("evalsha", 1),
							id -> stacks.tagcache.put("untagged-" + id, User.of(id), List.of())),
					new Operation("tagcache miss + fenced put, 3 tags (new key)", Map.of("get", 2, "evalsha", 1),
							id -> stacks.tagged.user(fresh.incrementAndGet())),
					new Operation("spring-data-redis miss + put (immediate, new key)", Map.of("get", 1, "set", 1),
							id -> stacks.spring.userImmediate(fresh.incrementAndGet())));
			// warm the JIT and load the scripts before counting
			for (Operation operation : operations) {
				for (int i = 0; i < 2000; i++) {
					operation.action().accept(ids[i]);
				}
			}
			print("%n## Redis CPU per operation (%,d operations each, 1 thread)%n", OPERATIONS);
			print("Top-level commands: INFO commandstats usec_per_call of the commands the client sends (a script's "
					+ "time includes the commands it calls). Process CPU: INFO cpu (user + sys) per operation, "
					+ "which adds reading, parsing and replying.%n");
			print("| Operation | Top-level commands (usec_per_call) | Redis us per op (commands) | vs raw GET | Redis CPU us per op (process) | vs raw GET | Commands inside the script, per op |");
			print("|---|---|---|---|---|---|---|");
			double baseline = 0;
			double cpuBaseline = 0;
			for (Operation operation : operations) {
				admin.redis.configResetstat();
				double cpuBefore = cpuSeconds(admin);
				for (int i = 0; i < OPERATIONS; i++) {
					operation.action().accept(ids[i & (ids.length - 1)]);
				}
				double cpu = (cpuSeconds(admin) - cpuBefore) * 1e6 / OPERATIONS;
				Map<String, RedisStats.CommandStat> stats = RedisStats.commandStats(admin.redis);
				double perOperation = 0;
				StringBuilder topLevel = new StringBuilder();
				for (Map.Entry<String, Integer> command : new java.util.TreeMap<>(operation.topLevel()).entrySet()) {
					RedisStats.CommandStat stat = stats.getOrDefault(command.getKey(), RedisStats.CommandStat.NONE);
					perOperation += stat.usecPerCall() * command.getValue();
					topLevel.append(String.format(Locale.ROOT, "%s %.2f us; ", command.getKey().toUpperCase(Locale.ROOT),
							stat.usecPerCall()));
				}
				StringBuilder inside = new StringBuilder();
				stats.entrySet().stream()
					.filter(stat -> !stat.getKey().startsWith("config") && !stat.getKey().startsWith("info")
							&& !stat.getKey().startsWith("eval"))
					.sorted(Map.Entry.comparingByKey())
					.forEach(stat -> {
						double calls = (double) stat.getValue().calls() / OPERATIONS
								- operation.topLevel().getOrDefault(stat.getKey(), 0);
						if (calls > 0.005) {
							inside.append(String.format(Locale.ROOT, "%s %.2f; ", stat.getKey().toUpperCase(Locale.ROOT),
									calls));
						}
					});
				if (baseline == 0) {
					baseline = perOperation;
					cpuBaseline = cpu;
				}
				print("| %s | %s | %.2f | %.2fx | %.1f | %.2fx | %s |", operation.name(), topLevel.toString().trim(),
						perOperation, perOperation / baseline, cpu, cpu / cpuBaseline,
						inside.isEmpty() ? "-" : inside.toString().trim());
			}
			print("%nEntry encoding: tagcache entry %s (MEMORY USAGE %d B), raw string %s (MEMORY USAGE %d B)",
					admin.redis.objectEncoding("tagcache:{users}:e:1"), admin.redis.memoryUsage("tagcache:{users}:e:1"),
					admin.redis.objectEncoding("raw:1"), admin.redis.memoryUsage("raw:1"));
		}
	}

	/** An operation, the commands its client sends per call, and the call. */
	private record Operation(String name, Map<String, Integer> topLevel, LongConsumer action) {
	}

	/** {@code used_cpu_user + used_cpu_sys} from {@code INFO cpu}, in seconds. */
	private static double cpuSeconds(Admin admin) {
		double seconds = 0;
		for (String line : admin.redis.info("cpu").split("\r?\n")) {
			if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
				seconds += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
			}
		}
		return seconds;
	}

	// Memory

	/** How one layout writes entry {@code id}. */
	private record Layout(String name, int tagsPerEntry, Function<Writers, LongConsumer> writer) {
	}

	/** Writers for one fresh Redis. */
	private static final class Writers implements AutoCloseable {

		final JsonMapper mapper = JsonMapper.builder().build();

		final LettuceConnectionFactory factory;

		final RedisTaggedCache tagcache;

		final RedisCache spring;

		final RedisClient client;

		final StatefulRedisConnection<byte[], byte[]> raw;

		Writers(int port) {
			this.factory = CacheStacks.connectionFactory(port);
			this.factory.afterPropertiesSet();
			this.factory.start();
			RedisTaggedCacheManager manager = RedisTaggedCacheManager.builder(this.factory)
				.jsonMapper(this.mapper)
				.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(SHORT_TTL))
				.build();
			this.tagcache = manager.getCache(CacheStacks.CACHE);
			RedisCacheManager springManager = RedisCacheManager
				.builder(RedisCacheWriter.create(this.factory, writer -> writer.immediateWrites()))
				.cacheDefaults(RedisCacheConfiguration.defaultCacheConfig()
					.entryTtl(SHORT_TTL)
					.serializeValuesWith(
							SerializationPair.fromSerializer(new JacksonJsonRedisSerializer<>(this.mapper, User.class))))
				.build();
			this.spring = (RedisCache) springManager.getCache(CacheStacks.CACHE);
			this.client = RedisClient.create(RedisURI.create("127.0.0.1", port));
			this.raw = this.client.connect(ByteArrayCodec.INSTANCE);
			// load the put script and register the cache before the baseline is taken
			this.tagcache.put("warm-up", "x", List.of("warm-up"));
			this.tagcache.evict("warm-up");
		}

		LongConsumer tagcache(LongFunction<List<String>> tags) {
			return id -> this.tagcache.put(id, User.of(id), tags.apply(id));
		}

		@Override
		public void close() {
			this.raw.close();
			this.client.shutdown();
			this.factory.destroy();
		}

	}

	private void memory() {
		List<Layout> layouts = List.of(
				new Layout("raw SET PX (baseline)", 0, w -> id -> w.raw.sync().set(CacheStacks.rawKey(id),
						w.mapper.writeValueAsBytes(User.of(id)), SetArgs.Builder.px(SHORT_TTL.toMillis()))),
				new Layout("spring-data-redis RedisCache.put", 0, w -> id -> w.spring.put(id, User.of(id))),
				new Layout("tagcache, no tag", 0, w -> w.tagcache(id -> List.of())),
				new Layout("tagcache, 1 unique tag (user-<id>)", 1, w -> w.tagcache(id -> List.of("user-" + id))),
				new Layout("tagcache, 1 tag shared by 100 entries", 1, w -> w.tagcache(id -> List.of("loc-" + (id % 100)))),
				new Layout("tagcache, 1 tag shared by 1,000 entries", 1,
						w -> w.tagcache(id -> List.of("grp-" + (id % 10)))),
				new Layout("tagcache, 3 tags as @CacheableTagged gives (user, loc, team)", 3,
						w -> w.tagcache(CacheStacks::tags)));
		print("%n## Memory per entry (%,d users of %,d B of JSON, TTL %d s; used_memory deltas and MEMORY USAGE sums)%n",
				ENTRIES, JsonMapper.builder().build().writeValueAsBytes(User.of(1)).length, SHORT_TTL.toSeconds());
		print("| Layout | used_memory per entry (B) | MEMORY USAGE per entry: entry / index / other (B) | Overhead vs raw SET per entry (B) | Per (entry, tag) record (B) | Index memory at peak | Left after expiry + 1 SCAN pass | Left beyond the raw layout's residue | That / peak index memory | Keys left |");
		print("|---|---|---|---|---|---|---|---|---|---|");
		double rawPerEntry = 0;
		double untaggedPerEntry = 0;
		long rawResidue = -1;
		for (Layout layout : layouts) {
			try (RedisProcess redis = RedisProcess.start(); Writers writers = new Writers(redis.port());
					Admin admin = new Admin(redis.port())) {
				long keysBefore = admin.redis.dbsize();
				long before = settledMemory(admin);
				LongConsumer writer = layout.writer().apply(writers);
				long started = System.nanoTime();
				CacheStacks.parallel(ENTRIES, 4, writer);
				long peak = RedisStats.usedMemory(admin.redis);
				Map<String, Long> usage = memoryUsageByKind(admin);
				if (System.nanoTime() - started > SHORT_TTL.toNanos()) {
					print("WARNING: writing and measuring %s took longer than the time to live; its figures are low",
							layout.name());
				}
				double perEntry = (double) (peak - before) / ENTRIES;
				if (rawPerEntry == 0) {
					rawPerEntry = perEntry;
				}
				if (layout.name().equals("tagcache, no tag")) {
					untaggedPerEntry = perEntry;
				}
				String perRecord = (layout.tagsPerEntry() > 0)
						? String.format(Locale.ROOT, "%.0f", (perEntry - untaggedPerEntry) / layout.tagsPerEntry()) : "-";
				// wait for every entry to expire, then one SCAN pass over the keyspace (it expires what it meets)
				long expiresAt = started + SHORT_TTL.toNanos() + 1_000_000_000L;
				RedisProcess.sleep(Math.max(0, (expiresAt - System.nanoTime()) / 1_000_000));
				awaitExpiry(admin, keysBefore);
				scanPass(admin);
				long after = settledMemory(admin);
				long keysLeft = admin.redis.dbsize() - keysBefore;
				long index = usage.getOrDefault("index", 0L);
				long residue = after - before;
				if (rawResidue < 0) {
					rawResidue = residue;
				}
				long beyond = Math.max(0, residue - rawResidue);
				print("| %s | %.0f | %.0f / %.0f / %.0f | %.0f | %s | %,d B | %,d B | %,d B | %s | %d |", layout.name(),
						perEntry, (double) usage.getOrDefault("entry", 0L) / ENTRIES, (double) index / ENTRIES,
						(double) usage.getOrDefault("other", 0L) / ENTRIES, perEntry - rawPerEntry, perRecord, index,
						residue, beyond, (index > 0) ? String.format(Locale.ROOT, "%.2f%%", 100.0 * beyond / index) : "-",
						keysLeft);
			}
		}
	}

	/** {@code used_memory} once it stopped moving (the server's cron resizes tables in the background). */
	private static long settledMemory(Admin admin) {
		long previous = RedisStats.usedMemory(admin.redis);
		for (int i = 0; i < 20; i++) {
			RedisProcess.sleep(250);
			long now = RedisStats.usedMemory(admin.redis);
			if (now == previous) {
				return now;
			}
			previous = now;
		}
		return previous;
	}

	/** Wait (at most 30 s) until active expiry brought the key count back to where it was. */
	private static void awaitExpiry(Admin admin, long keys) {
		long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
		while (admin.redis.dbsize() > keys && System.nanoTime() < deadline) {
			RedisProcess.sleep(200);
		}
	}

	private static void scanPass(Admin admin) {
		ScanCursor cursor = ScanCursor.INITIAL;
		do {
			cursor = admin.redis.scan(cursor, ScanArgs.Builder.limit(1000));
		}
		while (!cursor.isFinished());
	}

	/** {@code MEMORY USAGE} summed over the keys: tagcache entries, tag indexes, and everything else. */
	private static Map<String, Long> memoryUsageByKind(Admin admin) {
		Map<String, Long> usage = new LinkedHashMap<>();
		KeyScanCursor<String> cursor = null;
		do {
			cursor = admin.redis.scan((cursor != null) ? cursor : ScanCursor.INITIAL, ScanArgs.Builder.limit(1000));
			List<String> keys = new ArrayList<>(cursor.getKeys());
			for (String key : keys) {
				Long bytes = admin.redis.memoryUsage(key);
				String kind = key.contains("}:e:") ? "entry" : key.contains("}:t:") ? "index"
						: (key.startsWith("raw:") || key.startsWith("users::")) ? "entry" : "other";
				usage.merge(kind, (bytes != null) ? bytes : 0L, Long::sum);
			}
		}
		while (!cursor.isFinished());
		return usage;
	}

	/** An admin connection (strings) to a Redis this program started. */
	private static final class Admin implements AutoCloseable {

		final RedisClient client;

		final StatefulRedisConnection<String, String> connection;

		final RedisCommands<String, String> redis;

		Admin(int port) {
			this.client = RedisClient.create(RedisURI.create("127.0.0.1", port));
			this.connection = this.client.connect();
			this.redis = this.connection.sync();
		}

		@Override
		public void close() {
			this.connection.close();
			this.client.shutdown();
		}

	}

}
