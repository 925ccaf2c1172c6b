package io.tagcache.benchmarks;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * How long the longest script of a put with many tags holds Redis: {@code put.lua} alone (how every
 * put was written before puts with many tags were split) against the split put
 * ({@code put-records.lua} per chunk of tags, then {@code put-checked.lua}), at 1,000 and 10,000
 * tags, measured in the same run on a {@code redis-server} of its own with
 * {@code slowlog-log-slower-than 0}: every script's duration is read from {@code SLOWLOG}. Each
 * variant puts {@value #ROUNDS} keys per size, alternating, and reports the longest script of each
 * put: its minimum, median and maximum over the rounds. On a shared machine the slow log's wall
 * time includes the moments the server was not scheduled; the minimum is the closest to the cost.
 * <pre class="code">
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.ManyTagsPutCost
 * </pre>
 */
public final class ManyTagsPutCost {

	private static final int ROUNDS = 15;

	private static final byte[] VALUE = "[{\"id\":1,\"name\":\"a user\"}]".getBytes(StandardCharsets.UTF_8);

	private ManyTagsPutCost() {
	}

	public static void main(String[] args) throws Exception {
		try (RedisProcess redis = RedisProcess.start()) {
			RedisClient client = RedisClient.create("redis://127.0.0.1:" + redis.port());
			try (StatefulRedisConnection<byte[], byte[]> connection = client.connect(ByteArrayCodec.INSTANCE)) {
				RedisCommands<byte[], byte[]> admin = connection.sync();
				admin.configSet("slowlog-log-slower-than", "0");
				admin.configSet("slowlog-max-len", "100000");
				LettuceConnectionFactory connectionFactory = CacheStacks.connectionFactory(redis.port());
				connectionFactory.afterPropertiesSet();
				connectionFactory.start();
				RedisTaggedCacheManager manager = RedisTaggedCacheManager.builder(connectionFactory)
					.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(CacheStacks.TTL))
					.build();
				RedisTaggedCache cache = manager.getCache("lists");
				cache.put(0L, "warm-up", List.of());
				byte[] singleScript = (resource("lib.lua") + "\n" + resource("put.lua")).getBytes(StandardCharsets.UTF_8);
				System.out.printf(Locale.ROOT, "%-8s %-22s %10s %10s %10s %8s%n", "tags", "put", "min us",
						"median us", "max us", "scripts");
				for (int tags : new int[] { 1000, 10_000 }) {
					List<String> tagList = IntStream.range(0, tags).mapToObj(i -> "user-" + i).toList();
					List<Long> single = new ArrayList<>();
					List<Long> split = new ArrayList<>();
					List<Long> chunk = new ArrayList<>();
					List<Long> check = new ArrayList<>();
					int splitScripts = 0;
					for (int round = 0; round < ROUNDS; round++) {
						admin.slowlogReset();
						putInOneScript(admin, singleScript, "single-" + tags + "-" + round, tagList);
						single.add(longest(admin));
						admin.slowlogReset();
						cache.put("split-" + tags + "-" + round, "[{\"id\":1,\"name\":\"a user\"}]", tagList);
						split.add(longest(admin));
						chunk.add(longest(admin, 0, 128));
						check.add(longest(admin, 129, Integer.MAX_VALUE));
						splitScripts = scripts(admin);
					}
					report(tags, "one script (put.lua)", single, 1);
					report(tags, "split (records+check)", split, splitScripts);
					report(tags, "  of which a chunk", chunk, splitScripts - 1);
					report(tags, "  of which the check", check, 1);
				}
				connectionFactory.destroy();
			}
			finally {
				client.shutdown();
			}
		}
	}

	/** {@code put.lua} as the writer sends it for a put of few tags, unfenced, with the cache's TTL. */
	private static void putInOneScript(RedisCommands<byte[], byte[]> redis, byte[] script, String key,
			List<String> tags) {
		String base = "bench:{lists}:";
		byte[][] keys = new byte[3 + tags.size()][];
		keys[0] = bytes(base + "e:" + key);
		keys[1] = bytes(base + "fence");
		keys[2] = bytes(base + "gen");
		byte[][] argv = new byte[6 + tags.size()][];
		argv[0] = bytes(base);
		argv[1] = bytes(key);
		StringBuilder header = new StringBuilder("0java.util.List");
		for (String tag : tags) {
			header.append('\t').append(tag);
		}
		argv[2] = bytes(header.append('\n').append(new String(VALUE, StandardCharsets.UTF_8)).toString());
		argv[3] = bytes(Long.toString(CacheStacks.TTL.toMillis()));
		argv[4] = new byte[0];
		argv[5] = new byte[0];
		for (int i = 0; i < tags.size(); i++) {
			keys[3 + i] = bytes(base + "t:" + tags.get(i));
			argv[6 + i] = bytes(tags.get(i));
		}
		redis.eval(script, ScriptOutputType.MULTI, keys, argv);
	}

	/** The longest script in the slow log, in microseconds. */
	private static long longest(RedisCommands<byte[], byte[]> redis) {
		return longest(redis, Integer.MIN_VALUE, Integer.MAX_VALUE);
	}

	/** The longest script with between {@code minKeys} and {@code maxKeys} keys, in microseconds. */
	private static long longest(RedisCommands<byte[], byte[]> redis, int minKeys, int maxKeys) {
		long longest = 0;
		for (Object entry : redis.slowlogGet(100_000)) {
			List<?> fields = (List<?>) entry;
			List<?> command = (List<?>) fields.get(3);
			String name = new String((byte[]) command.get(0), StandardCharsets.UTF_8);
			if (name.equalsIgnoreCase("eval") || name.equalsIgnoreCase("evalsha")) {
				int keys = Integer.parseInt(new String((byte[]) command.get(2), StandardCharsets.UTF_8));
				if (keys >= minKeys && keys <= maxKeys) {
					longest = Math.max(longest, (Long) fields.get(2));
				}
			}
		}
		return longest;
	}

	private static int scripts(RedisCommands<byte[], byte[]> redis) {
		int scripts = 0;
		for (Object entry : redis.slowlogGet(100_000)) {
			String command = new String((byte[]) ((List<?>) ((List<?>) entry).get(3)).get(0), StandardCharsets.UTF_8);
			if (command.equalsIgnoreCase("eval") || command.equalsIgnoreCase("evalsha")) {
				scripts++;
			}
		}
		return scripts;
	}

	private static void report(int tags, String variant, List<Long> longest, int scripts) {
		List<Long> sorted = longest.stream().sorted().toList();
		System.out.printf(Locale.ROOT, "%-8d %-22s %10d %10d %10d %8d%n", tags, variant, sorted.get(0),
				sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1), scripts);
	}

	private static String resource(String name) {
		try (InputStream in = RedisTaggedCache.class.getResourceAsStream(name)) {
			if (in == null) {
				throw new IllegalStateException(name + " is missing from the classpath");
			}
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private static byte[] bytes(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
