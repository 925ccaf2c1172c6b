package io.tagcache.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the CPU of a benchmark goes, from a Java Flight Recorder file ({@code -prof jfr}): the share
 * of execution samples whose stack passes through each step of a cache hit (inclusive), split into
 * the benchmark threads and Lettuce's I/O threads, and the hottest frames.
 *
 * <p>Run:
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar 'HitBenchmark.tagcacheAnnotation$' -t 8 -bm thrpt -wi 4 -w 3s \
 *     -prof "jfr:dir=target/jfr;configName=$PWD/benchmarks/jfr/execution-sampling.jfc"
 * java -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.JfrSummary target/jfr/*&#47;profile.jfr
 * </pre>
 */
public final class JfrSummary {

	/** Steps of a hit, matched against "class.method" of any frame of a sample's stack. */
	private static final Map<String, List<String>> STEPS = new LinkedHashMap<>();

	static {
		STEPS.put("tagcache interceptor (all of a @CacheableTagged call)", List.of("io.tagcache.interceptor.TagCacheInterceptor.invoke"));
		STEPS.put("Spring CacheInterceptor (all of a @Cacheable call)", List.of("org.springframework.cache.interceptor.CacheInterceptor.invoke"));
		STEPS.put("SpEL: evaluation context and key expression", List.of("org.springframework.expression.", "org.springframework.context.expression."));
		STEPS.put("LettuceConnectionFactory.getConnection", List.of("LettuceConnectionFactory.getConnection"));
		STEPS.put("LettuceConnection.close", List.of("LettuceConnection.close"));
		STEPS.put("Waiting on the reply future (get/await)", List.of("java.util.concurrent.CompletableFuture.get", "java.util.concurrent.CompletableFuture.waitingGet", "io.lettuce.core.internal.Futures.await", "io.lettuce.core.LettuceFutures.awaitOrCancel"));
		STEPS.put("Lettuce command dispatch (caller side)", List.of("io.lettuce.core.RedisChannelHandler.dispatch", "io.lettuce.core.protocol.DefaultEndpoint.write"));
		STEPS.put("Jackson (read or write)", List.of("tools.jackson."));
		STEPS.put("Cache key to String (tagcache CacheKeyConverter)", List.of("io.tagcache.redis.CacheKeyConverter."));
		STEPS.put("Cache key to String (spring-data-redis RedisCache.createCacheKey/convertKey)", List.of("RedisCache.createCacheKey", "RedisCache.convertKey"));
		STEPS.put("Engine read through the outage guard (the whole Redis round trip and decode)", List.of("io.tagcache.redis.RedisOutageGuard.call"));
		STEPS.put("Jackson record creator (MethodHandle.invokeWithArguments)", List.of("java.lang.invoke.MethodHandle.invokeWithArguments"));
		STEPS.put("Netty/Lettuce I/O (event loop)", List.of("io.netty.channel.", "io.lettuce.core.protocol.CommandHandler"));
	}

	public static void main(String[] args) throws IOException {
		for (String file : args) {
			summarize(Path.of(file));
		}
	}

	private static void summarize(Path file) throws IOException {
		Map<String, int[]> steps = new LinkedHashMap<>();
		STEPS.keySet().forEach(step -> steps.put(step, new int[2]));
		Map<String, Integer> selfFrames = new HashMap<>();
		int[] totals = new int[2];
		for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
			if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
				continue;
			}
			RecordedStackTrace stack = event.getStackTrace();
			if (stack == null || stack.getFrames().isEmpty()) {
				continue;
			}
			String thread = (event.getThread("sampledThread") != null) ? event.getThread("sampledThread").getJavaName()
					: "";
			int group = thread.contains("jmh-worker") ? 0 : 1;
			totals[group]++;
			List<String> frames = stack.getFrames().stream().map(JfrSummary::name).toList();
			for (Map.Entry<String, List<String>> step : STEPS.entrySet()) {
				if (frames.stream().anyMatch(frame -> step.getValue().stream().anyMatch(frame::contains))) {
					steps.get(step.getKey())[group]++;
				}
			}
			selfFrames.merge(((group == 0) ? "[bench] " : "[other] ") + frames.get(0), 1, Integer::sum);
		}
		System.out.printf(Locale.ROOT, "%n### %s%n%nExecution samples: %,d in benchmark threads, %,d in other threads "
				+ "(Lettuce I/O, JMH, GC helpers).%n%n", file.getFileName(), totals[0], totals[1]);
		System.out.println("| Step (inclusive) | Share of benchmark-thread samples | Share of other-thread samples |");
		System.out.println("|---|---|---|");
		steps.forEach((step, counts) -> {
			if (counts[0] + counts[1] > 0) {
				System.out.printf(Locale.ROOT, "| %s | %.1f%% | %.1f%% |%n", step, 100.0 * counts[0] / Math.max(1, totals[0]),
						100.0 * counts[1] / Math.max(1, totals[1]));
			}
		});
		System.out.println();
		System.out.println("Hottest frames (self):");
		System.out.println();
		selfFrames.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(15)
			.forEach(e -> System.out.printf(Locale.ROOT, "- %s: %.1f%%%n", e.getKey(),
					100.0 * e.getValue() / Math.max(1, totals[0] + totals[1])));
	}

	private static String name(RecordedFrame frame) {
		return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
	}

}
