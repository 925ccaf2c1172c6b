package io.tagcache.benchmarks;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Freshness under load (issue 13), the bound of soft marking: soft-invalidating a tag carried by
 * {@value #DEFAULT_SIZE} entries against a hard invalidation of the same tag in the same run, on a
 * {@code redis-server} this program starts. Each entry is a user (about 1.1 KiB of JSON) carrying the
 * tag plus {@code user-<key>} and {@code loc-<n>}, as in {@link InvalidationBenchmark}. For each
 * invalidation the slow log records every command of at least {@value #DEFAULT_SLOWLOG_MICROS} us
 * ({@code slowlog-log-slower-than}, set only around the invalidation, so the fill is not logged; not 0:
 * Redis 7 logs the commands a script calls too, about 7 per marked entry, which would overflow the
 * log and add its own cost to every script); {@code INFO commandstats} counts every script. Reported:
 * how long the call took, the entries it reached, and per script (told apart by SHA, computed as
 * tagcache computes it: {@code soft-invalidate.lua} or {@code invalidate.lua}, then the chunks,
 * {@code soft-drain.lua} or {@code drain.lua}) how many were logged, their median, longest and total
 * Redis time, and how many took over 2 ms (the goal: none, at 100,000 entries, as for a hard
 * invalidation). The slow log measures wall-clock time in Redis, so a script during which Redis
 * waited for a CPU counts that wait.
 *
 * <p>Rounds alternate soft and hard ({@value #ROUNDS} of each, the order swapped every round), each
 * after a fresh fill of the entries (overwritten in place); the scripts are loaded first ({@code SCRIPT
 * LOAD}, as the auto-configured manager does at start-up) and the client's invalidation path is warmed
 * up (JIT) with 200 small soft and hard invalidations and 10 of 500 entries first. Writes {@code soft-marking.md} to the results
 * directory.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -Xms2g -Xmx2g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.SoftMarkingReport
 * </pre>
 * {@code -Dsize=10000 -Drounds=1} for a smoke run.
 */
public final class SoftMarkingReport {

	static final String CACHE = "marking";

	static final String TAG = "big";

	private static final int DEFAULT_SIZE = 100_000;

	private static final int SIZE = Integer.getInteger("size", DEFAULT_SIZE);

	private static final int ROUNDS = Integer.getInteger("rounds", 3);

	private static final int DEFAULT_SLOWLOG_MICROS = 100;

	/** What the slow log records around an invalidation; {@code -Dslowlog-micros=0} logs every command. */
	private static final int SLOWLOG_MICROS = Integer.getInteger("slowlog-micros", DEFAULT_SLOWLOG_MICROS);

	/** The scripts an invalidation sends, by the SHA-1 tagcache sends them with. */
	private static final Map<String, String> SCRIPTS = new LinkedHashMap<>();

	private final StringBuilder report = new StringBuilder();

	public static void main(String[] args) throws Exception {
		new SoftMarkingReport().run();
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	/** The scripts of one SHA in one invalidation: durations in microseconds, in the order they ran. */
	record Scripts(String sha, List<Long> micros) {

		long max() {
			return this.micros.stream().mapToLong(Long::longValue).max().orElse(0);
		}

		long total() {
			return this.micros.stream().mapToLong(Long::longValue).sum();
		}

		long median() {
			long[] sorted = this.micros.stream().mapToLong(Long::longValue).sorted().toArray();
			return (sorted.length == 0) ? 0 : sorted[(sorted.length - 1) / 2];
		}

		long over(long limit) {
			return this.micros.stream().filter(m -> m > limit).count();
		}

	}

	/** One invalidation: its mode, the call's time, what it reached, its scripts by SHA, the longest other command. */
	record Round(String mode, long callNanos, long reached, List<Scripts> scripts, String longestOther,
			long longestOtherMicros, long scriptCalls, long scriptMicros, String load) {

		long longestScript() {
			return this.scripts.stream().mapToLong(Scripts::max).max().orElse(0);
		}

		long over2ms() {
			return this.scripts.stream().mapToLong(s -> s.over(2_000)).sum();
		}

		long logged() {
			return this.scripts.stream().mapToLong(s -> s.micros().size()).sum();
		}

	}

	private void run() throws Exception {
		print("## Soft marking bound: soft against hard invalidation of a %,d-entry tag, every script in the slow log%n",
				SIZE);
		print("load before: %s", StampedeReport.loadAverage());
		List<Round> rounds = new ArrayList<>();
		try (RedisProcess redis = RedisProcess.start();
				RedisClient adminClient = RedisClient.create(RedisURI.create("127.0.0.1", redis.port()));
				StatefulRedisConnection<String, String> adminConnection = adminClient.connect()) {
			RedisCommands<String, String> admin = adminConnection.sync();
			LettuceConnectionFactory factory = CacheStacks.connectionFactory(redis.port());
			factory.afterPropertiesSet();
			factory.start();
			try {
				RedisTaggedCacheManager manager = RedisTaggedCacheManager.builder(factory)
					.jsonMapper(JsonMapper.builder().build())
					// defaults otherwise: inline limit 200, drain budget 1 ms, stale-while-revalidate 1 min
					.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofHours(1)))
					.build();
				RedisTaggedCache cache = manager.getCache(CACHE);
				for (String script : List.of("soft-invalidate.lua", "soft-drain.lua", "invalidate.lua", "drain.lua",
						"put.lua")) {
					String body = resource("lib.lua") + "\n" + resource(script);
					String sha = admin.scriptLoad(body);
					if (!sha.equals(sha1(body))) {
						throw new IllegalStateException("SHA-1 of " + script + " differs from Redis's");
					}
					SCRIPTS.put(sha, script);
				}
				for (int i = 0; i < 200; i++) {
					cache.put("warm-up", User.of(1), List.of("warm-up"));
					cache.softInvalidateTags(List.of("warm-up"));
					cache.put("warm-up", User.of(1), List.of("warm-up"));
					cache.invalidateTags(List.of("warm-up"));
				}
				for (int i = 0; i < 10; i++) {
					for (String mode : List.of("soft", "hard")) {
						CacheStacks.parallel(500, 4, n -> cache.put("w" + n, User.of(n), List.of("warm-up-500", "user-w" + n)));
						if (mode.equals("soft")) {
							cache.softInvalidateTags(List.of("warm-up-500"));
						}
						else {
							cache.invalidateTags(List.of("warm-up-500"));
						}
					}
				}
				for (int round = 0; round < ROUNDS; round++) {
					List<String> modes = ((round & 1) == 0) ? List.of("soft", "hard") : List.of("hard", "soft");
					for (String mode : modes) {
						fill(cache);
						Round measured = invalidate(cache, admin, mode);
						rounds.add(measured);
						print("round %d %s: call %.0f ms, %,d entries, %d scripts, longest %,d us, %d over 2 ms, load %s",
								round + 1, mode, measured.callNanos() / 1e6, measured.reached(), measured.scriptCalls(),
								measured.longestScript(), measured.over2ms(), measured.load());
					}
				}
			}
			finally {
				factory.destroy();
			}
		}
		table(rounds);
		print("load after: %s", StampedeReport.loadAverage());
		Files.writeString(RedisStats.resultsDirectory().resolve("soft-marking.md"), this.report);
	}

	/** Every entry fresh and carrying the tag: written anew (in place after a soft round). */
	private static void fill(RedisTaggedCache cache) {
		long started = System.nanoTime();
		CacheStacks.parallel(SIZE, 4, n -> cache.put("k" + n, User.of(n),
				List.of(TAG, "user-k" + n, "loc-" + (n % User.LOCATIONS))));
		System.out.printf("filled %,d entries in %.1f s%n", SIZE, (System.nanoTime() - started) / 1e9);
	}

	private static Round invalidate(RedisTaggedCache cache, RedisCommands<String, String> admin, String mode) {
		admin.configSet("slowlog-log-slower-than", Integer.toString(SLOWLOG_MICROS));
		admin.slowlogReset();
		admin.configResetstat();
		long started = System.nanoTime();
		long reached = "soft".equals(mode) ? cache.softInvalidateTags(List.of(TAG))
				: cache.invalidateTags(List.of(TAG));
		long callNanos = System.nanoTime() - started;
		String load = StampedeReport.loadAverage();
		RedisStats.CommandStat evalsha = RedisStats.commandStats(admin)
			.getOrDefault("evalsha", RedisStats.CommandStat.NONE);
		List<Object> log = admin.slowlogGet(200_000);
		admin.configSet("slowlog-log-slower-than", Integer.toString(RedisProcess.SLOWLOG_MICROS));
		if (reached != SIZE) {
			throw new IllegalStateException(mode + " invalidation reached " + reached + " entries, not " + SIZE);
		}
		Map<String, Scripts> bySha = new LinkedHashMap<>();
		String longestOther = "-";
		long longestOtherMicros = 0;
		for (int i = log.size() - 1; i >= 0; i--) {
			List<?> entry = (List<?>) log.get(i);
			long micros = (Long) entry.get(2);
			List<?> args = (List<?>) entry.get(3);
			String command = String.valueOf(args.get(0)).toLowerCase(Locale.ROOT);
			if (command.equals("evalsha") || command.equals("eval")) {
				String sha = String.valueOf(args.get(1));
				bySha.computeIfAbsent(sha, s -> new Scripts(s, new ArrayList<>())).micros().add(micros);
			}
			else if (!command.startsWith("slowlog") && !command.equals("config") && micros > longestOtherMicros) {
				longestOther = command;
				longestOtherMicros = micros;
			}
		}
		return new Round(mode, callNanos, reached, new ArrayList<>(bySha.values()), longestOther, longestOtherMicros,
				evalsha.calls(), evalsha.usec(), load);
	}

	private void table(List<Round> rounds) {
		print("");
		print("Each invalidation (slow log from %d us, Redis wall-clock time per script; counts and totals of every script from INFO commandstats):",
				SLOWLOG_MICROS);
		print("");
		print("| Mode | Call ms | Entries | Scripts (commandstats) | Redis ms (commandstats) | Script | Logged | Median us | Longest us | Over 2 ms | Logged Redis ms | Load (1 min) |");
		print("|---|---|---|---|---|---|---|---|---|---|---|---|");
		for (Round r : rounds) {
			for (Scripts s : r.scripts()) {
				String name = SCRIPTS.getOrDefault(s.sha(), "other " + s.sha());
				print("| %s | %.0f | %,d | %,d | %.1f | %s | %,d | %,d | %,d | %d | %.1f | %s |", r.mode(),
						r.callNanos() / 1e6, r.reached(), r.scriptCalls(), r.scriptMicros() / 1e3, name, s.micros().size(),
						s.median(), s.max(), s.over(2_000), s.total() / 1e3, r.load().split(" ")[0]);
			}
			if (r.longestOtherMicros() > 0) {
				print("| %s | | | | | longest other command: %s | | | %,d | | | |", r.mode(), r.longestOther(),
						r.longestOtherMicros());
			}
		}
		print("");
		print("| Mode | Call ms (mean) | Scripts per invalidation (mean) | Longest script us, per round | Longest / hard's longest (mean of rounds) | Scripts over 2 ms (of all) | Redis ms per invalidation (mean) |");
		print("|---|---|---|---|---|---|---|");
		List<Round> hard = rounds.stream().filter(r -> r.mode().equals("hard")).toList();
		double hardLongest = hard.stream().mapToLong(Round::longestScript).average().orElse(0);
		double hardCall = hard.stream().mapToLong(Round::callNanos).average().orElse(0);
		for (String mode : List.of("soft", "hard")) {
			List<Round> of = rounds.stream().filter(r -> r.mode().equals(mode)).toList();
			double longest = of.stream().mapToLong(Round::longestScript).average().orElse(0);
			double call = of.stream().mapToLong(Round::callNanos).average().orElse(0);
			print("| %s | %.0f (%.2fx hard) | %.0f | %s | %.2fx | %d of %d | %.0f |", mode, call / 1e6, call / hardCall,
					of.stream().mapToLong(Round::scriptCalls).average().orElse(0),
					Arrays.toString(of.stream().mapToLong(Round::longestScript).toArray()), longest / hardLongest,
					of.stream().mapToLong(Round::over2ms).sum(), of.stream().mapToLong(Round::scriptCalls).sum(),
					of.stream().mapToLong(Round::scriptMicros).average().orElse(0) / 1e3);
		}
		print("");
	}

	private static String resource(String name) {
		try (java.io.InputStream in = RedisTaggedCache.class.getResourceAsStream(name)) {
			if (in == null) {
				throw new IllegalStateException("no " + name + " next to RedisTaggedCache");
			}
			return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
		}
		catch (java.io.IOException ex) {
			throw new java.io.UncheckedIOException(ex);
		}
	}

	private static String sha1(String body) {
		try {
			return java.util.HexFormat.of()
				.formatHex(java.security.MessageDigest.getInstance("SHA-1")
					.digest(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
		}
		catch (java.security.NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}

}
