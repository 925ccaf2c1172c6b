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
import io.lettuce.core.RedisFuture;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.StoredEntry;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * How long the longest script of a put with many tags holds Redis: {@code put.lua} alone (how every
 * put was written before puts with many tags were split), the first split put whose last step checked
 * every record ({@code unbounded-check/}: {@code put-records.lua} per chunk of tags, then a
 * {@code put-checked.lua} that looks at every tag), and the split put as the writer sends it now
 * (chunks that check the fence of their tags, then a last step in O(1)), at 1,000 and 10,000 tags,
 * measured in the same run on a {@code redis-server} of its own with
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
				byte[] singleScript = script(resource("lib.lua"), resource("put.lua"));
				byte[] unboundedRecords = script(before("lib.lua"), before("put-records.lua"));
				byte[] unboundedCheck = script(before("lib.lua"), before("put-checked.lua"));
				System.out.printf(Locale.ROOT, "%-8s %-24s %10s %10s %10s %8s%n", "tags", "put", "min us",
						"median us", "max us", "scripts");
				for (int tags : new int[] { 1000, 10_000 }) {
					List<String> tagList = IntStream.range(0, tags).mapToObj(i -> "user-" + i).toList();
					List<Long> single = new ArrayList<>();
					List<Long> unbounded = new ArrayList<>();
					List<Long> unboundedChunk = new ArrayList<>();
					List<Long> unboundedCheckTimes = new ArrayList<>();
					List<Long> split = new ArrayList<>();
					List<Long> chunk = new ArrayList<>();
					List<Long> check = new ArrayList<>();
					int splitScripts = 0;
					for (int round = 0; round < ROUNDS; round++) {
						admin.slowlogReset();
						putInOneScript(admin, singleScript, "single-" + tags + "-" + round, tagList);
						single.add(longest(admin, false));
						admin.slowlogReset();
						putUnboundedCheck(connection.async(), unboundedRecords, unboundedCheck, "unbounded-" + tags + "-" + round,
								tagList);
						unbounded.add(longest(admin, false));
						unboundedChunk.add(longest(admin, true));
						unboundedCheckTimes.add(longestCheck(admin));
						admin.slowlogReset();
						cache.put("split-" + tags + "-" + round, "[{\"id\":1,\"name\":\"a user\"}]", tagList);
						split.add(longest(admin, false));
						chunk.add(longest(admin, true));
						check.add(longestCheck(admin));
						splitScripts = scripts(admin);
					}
					int chunks = splitScripts - 1;
					report(tags, "one script (put.lua)", single, 1);
					report(tags, "split, unbounded check", unbounded, splitScripts);
					report(tags, "  of which a chunk", unboundedChunk, chunks);
					report(tags, "  of which the check", unboundedCheckTimes, 1);
					report(tags, "split, O(1) check", split, splitScripts);
					report(tags, "  of which a chunk", chunk, chunks);
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
		argv[2] = entry(tags);
		argv[3] = bytes(Long.toString(CacheStacks.TTL.toMillis()));
		argv[4] = new byte[0];
		argv[5] = new byte[0];
		for (int i = 0; i < tags.size(); i++) {
			keys[3 + i] = bytes(base + "t:" + tags.get(i));
			argv[6 + i] = bytes(tags.get(i));
		}
		redis.eval(script, ScriptOutputType.MULTI, keys, argv);
	}

	/**
	 * The split put as the writer sent it before the last step was bounded: the records of each chunk
	 * of 128 tags, then the check of every record and the fence, unfenced, with the cache's TTL; all
	 * sent before any reply is awaited, as the writer sends them.
	 */
	private static void putUnboundedCheck(RedisAsyncCommands<byte[], byte[]> redis, byte[] records, byte[] check,
			String key, List<String> tags) throws Exception {
		List<RedisFuture<?>> replies = new ArrayList<>();
		String base = "bench:{lists}:";
		byte[] ttl = bytes(Long.toString(CacheStacks.TTL.toMillis()));
		for (int from = 0; from < tags.size(); from += 128) {
			int to = Math.min(from + 128, tags.size());
			byte[][] keys = new byte[to - from][];
			for (int i = from; i < to; i++) {
				keys[i - from] = bytes(base + "t:" + tags.get(i));
			}
			replies.add(redis.eval(records, ScriptOutputType.INTEGER, keys, bytes(key), ttl));
		}
		byte[][] keys = new byte[4 + tags.size()][];
		keys[0] = bytes(base + "e:" + key);
		keys[1] = bytes(base + "fence");
		keys[2] = bytes(base + "gen");
		keys[3] = bytes(base + "put-check");
		byte[][] argv = new byte[5 + tags.size()][];
		argv[0] = bytes(base);
		argv[1] = bytes(key);
		argv[2] = entry(tags);
		argv[3] = ttl;
		argv[4] = new byte[0];
		for (int i = 0; i < tags.size(); i++) {
			keys[4 + i] = bytes(base + "t:" + tags.get(i));
			argv[5 + i] = bytes(tags.get(i));
		}
		replies.add(redis.eval(check, ScriptOutputType.MULTI, keys, argv));
		for (RedisFuture<?> reply : replies) {
			reply.get();
		}
	}

	private static byte[] entry(List<String> tags) {
		return StoredEntry.encode(VALUE, "java.util.List", System.currentTimeMillis() + 600_000, 0, tags);
	}

	/**
	 * The longest script in the slow log, in microseconds: of every script, or of the chunks only (every
	 * script but the last step of a split put, which is the only one whose first key is an entry).
	 */
	private static long longest(RedisCommands<byte[], byte[]> redis, boolean chunksOnly) {
		long longest = 0;
		for (List<?> script : scripts(redis.slowlogGet(100_000))) {
			if (!chunksOnly || !isCheck(script)) {
				longest = Math.max(longest, (Long) script.get(2));
			}
		}
		return longest;
	}

	/** How long the last step of the split put in the slow log took, in microseconds. */
	private static long longestCheck(RedisCommands<byte[], byte[]> redis) {
		long longest = 0;
		for (List<?> script : scripts(redis.slowlogGet(100_000))) {
			if (isCheck(script)) {
				longest = Math.max(longest, (Long) script.get(2));
			}
		}
		return longest;
	}

	private static boolean isCheck(List<?> script) {
		List<?> command = (List<?>) script.get(3);
		return command.size() > 3 && new String((byte[]) command.get(3), StandardCharsets.UTF_8).contains("}:e:");
	}

	private static List<List<?>> scripts(List<Object> slowlog) {
		List<List<?>> scripts = new ArrayList<>();
		for (Object entry : slowlog) {
			List<?> fields = (List<?>) entry;
			String name = new String((byte[]) ((List<?>) fields.get(3)).get(0), StandardCharsets.UTF_8);
			if (name.equalsIgnoreCase("eval") || name.equalsIgnoreCase("evalsha")) {
				scripts.add(fields);
			}
		}
		return scripts;
	}

	private static int scripts(RedisCommands<byte[], byte[]> redis) {
		return scripts(redis.slowlogGet(100_000)).size();
	}

	private static void report(int tags, String variant, List<Long> longest, int scripts) {
		List<Long> sorted = longest.stream().sorted().toList();
		System.out.printf(Locale.ROOT, "%-8d %-24s %10d %10d %10d %8d%n", tags, variant, sorted.get(0),
				sorted.get(sorted.size() / 2), sorted.get(sorted.size() - 1), scripts);
	}

	private static byte[] script(String lib, String script) {
		return (lib + "\n" + script).getBytes(StandardCharsets.UTF_8);
	}

	/** The scripts of the split put before its last step was bounded, kept here to measure against. */
	private static String before(String name) {
		return read(ManyTagsPutCost.class, "unbounded-check/" + name);
	}

	private static String resource(String name) {
		return read(RedisTaggedCache.class, name);
	}

	private static String read(Class<?> base, String name) {
		try (InputStream in = base.getResourceAsStream(name)) {
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
