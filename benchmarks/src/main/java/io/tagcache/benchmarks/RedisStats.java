package io.tagcache.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.lettuce.core.api.sync.RedisCommands;

/**
 * What the benchmarks read from Redis itself: {@code INFO commandstats} (Redis CPU per command),
 * {@code INFO memory}, and the slow log; plus where result files go.
 */
final class RedisStats {

	private RedisStats() {
	}

	/** One line of {@code INFO commandstats}. */
	record CommandStat(long calls, long usec, double usecPerCall) {

		static final CommandStat NONE = new CommandStat(0, 0, 0);

	}

	/** {@code INFO commandstats}, by lower-case command name ({@code get}, {@code evalsha}, ...). */
	static Map<String, CommandStat> commandStats(RedisCommands<String, String> redis) {
		Map<String, CommandStat> stats = new HashMap<>();
		for (String line : redis.info("commandstats").split("\r?\n")) {
			if (!line.startsWith("cmdstat_")) {
				continue;
			}
			String name = line.substring("cmdstat_".length(), line.indexOf(':'));
			Map<String, String> fields = fields(line.substring(line.indexOf(':') + 1));
			stats.put(name, new CommandStat(Long.parseLong(fields.get("calls")), Long.parseLong(fields.get("usec")),
					Double.parseDouble(fields.get("usec_per_call"))));
		}
		return stats;
	}

	private static Map<String, String> fields(String text) {
		Map<String, String> fields = new HashMap<>();
		for (String pair : text.split(",")) {
			int eq = pair.indexOf('=');
			fields.put(pair.substring(0, eq), pair.substring(eq + 1));
		}
		return fields;
	}

	/** {@code used_memory} from {@code INFO memory}, in bytes. */
	static long usedMemory(RedisCommands<String, String> redis) {
		for (String line : redis.info("memory").split("\r?\n")) {
			if (line.startsWith("used_memory:")) {
				return Long.parseLong(line.substring("used_memory:".length()).trim());
			}
		}
		throw new IllegalStateException("INFO memory has no used_memory");
	}

	/** One slow log entry: the command's name and how long it held Redis. */
	record SlowEntry(String command, long micros) {
	}

	/** Every slow log entry (at most 100,000), oldest last. */
	static List<SlowEntry> slowlog(RedisCommands<String, String> redis) {
		List<SlowEntry> entries = new ArrayList<>();
		for (Object raw : redis.slowlogGet(100_000)) {
			List<?> entry = (List<?>) raw;
			List<?> args = (List<?>) entry.get(3);
			entries.add(new SlowEntry(String.valueOf(args.get(0)).toLowerCase(), (Long) entry.get(2)));
		}
		return entries;
	}

	/** Where result files go: {@code $TAGCACHE_BENCH_OUT}, else {@code benchmarks/target/results}. */
	static Path resultsDirectory() {
		String configured = System.getenv("TAGCACHE_BENCH_OUT");
		Path directory = (configured != null) ? Path.of(configured)
				: Files.isDirectory(Path.of("benchmarks")) ? Path.of("benchmarks", "target", "results")
						: Path.of("target", "results");
		try {
			return Files.createDirectories(directory);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/** Append a line to a CSV file of the results directory, writing its header first if new. */
	static void appendCsv(String file, String header, String line) {
		Path path = resultsDirectory().resolve(file);
		try {
			if (!Files.exists(path)) {
				Files.writeString(path, header + System.lineSeparator());
			}
			Files.writeString(path, line + System.lineSeparator(), StandardOpenOption.APPEND);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

}
