package io.tagcache.benchmarks;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

/**
 * The hottest methods of the execution samples whose stack passes through every given
 * {@code class.method} fragment: self (top frame) and inclusive shares. Used for the near-cache hit
 * profile (issue 14), restricted to the measuring threads of one variant:
 * <pre>
 * java -Xms1g -Xmx1g -XX:StartFlightRecording=filename=near.jfr,settings=$PWD/benchmarks/jfr/execution-sampling.jfc \
 *     -Drounds=1 -Dvariants=rawGet,nearAnnotation -cp benchmarks/target/benchmarks.jar \
 *     io.tagcache.benchmarks.NearCacheReport hits
 * java -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.JfrFrames near.jfr TaggedUserService lambda\$turn
 * </pre>
 */
public final class JfrFrames {

	public static void main(String[] args) throws Exception {
		List<String> required = List.of(args).subList(1, args.length);
		Map<String, Integer> self = new HashMap<>();
		Map<String, Integer> inclusive = new HashMap<>();
		int total = 0;
		for (RecordedEvent event : RecordingFile.readAllEvents(Path.of(args[0]))) {
			if (!event.getEventType().getName().equals("jdk.ExecutionSample") || event.getStackTrace() == null) {
				continue;
			}
			List<RecordedFrame> frames = event.getStackTrace().getFrames();
			List<String> names = frames.stream()
				.map(frame -> frame.getMethod().getType().getName() + "." + frame.getMethod().getName())
				.toList();
			if (!required.stream().allMatch(fragment -> names.stream().anyMatch(name -> name.contains(fragment)))) {
				continue;
			}
			total++;
			if (!names.isEmpty()) {
				self.merge(names.get(0), 1, Integer::sum);
			}
			Set<String> seen = new HashSet<>();
			for (String name : names) {
				if (seen.add(name)) {
					inclusive.merge(name, 1, Integer::sum);
				}
			}
		}
		System.out.printf("%d execution samples through %s%n%n", total, required);
		print("Self (top frame)", self, total, 25);
		print("Inclusive", inclusive, total, 45);
	}

	private static void print(String title, Map<String, Integer> counts, int total, int limit) {
		System.out.println("-- " + title);
		counts.entrySet()
			.stream()
			.sorted((a, b) -> b.getValue() - a.getValue())
			.limit(limit)
			.forEach(entry -> System.out.printf("%5.1f%% %s%n", 100.0 * entry.getValue() / Math.max(1, total),
					entry.getKey()));
		System.out.println();
	}

}
