package io.tagcache.benchmarks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Turns the JMH JSON files and the invalidation CSV that {@code benchmarks/run-benchmarks.sh} leaves in
 * the results directory into the Markdown tables of {@code BENCHMARKS.md}: absolute figures, ratios
 * against the baselines of the same run, and each goal met or not.
 *
 * <p>Run: {@code java -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.ResultsSummary
 * benchmarks/target/results}
 */
public final class ResultsSummary {

	private final Path directory;

	private final List<String> goals = new ArrayList<>();

	private ResultsSummary(Path directory) {
		this.directory = directory;
	}

	public static void main(String[] args) throws IOException {
		ResultsSummary summary = new ResultsSummary(Path.of((args.length > 0) ? args[0] : "benchmarks/target/results"));
		summary.hits();
		summary.puts();
		summary.tagExtraction();
		summary.invalidation();
		System.out.println();
		System.out.println("## Goals, judged on these JMH runs");
		System.out.println();
		System.out.println("JMH runs each variant in its own fork, one after the other: on a shared machine their ratios carry the "
				+ "load differences between forks. `InterleavedComparison` (interleaved.md) measures the hit and put ratios "
				+ "with all variants in turns; BENCHMARKS.md judges those goals on it.");
		System.out.println();
		System.out.println("| Goal | Achieved | Met |");
		System.out.println("|---|---|---|");
		summary.goals.forEach(System.out::println);
	}

	/** One benchmark's result. */
	private record Result(double score, String unit, Map<String, Double> percentiles, Map<String, Double> secondary) {

		double percentile(String p) {
			return this.percentiles.getOrDefault(p, Double.NaN);
		}

	}

	/** Results of a JSON file by short name ({@code method} or {@code method:param}). */
	private Map<String, Result> read(String file) throws IOException {
		Map<String, Result> results = new LinkedHashMap<>();
		Path path = this.directory.resolve(file);
		if (!Files.exists(path)) {
			return results;
		}
		for (JsonNode node : JsonMapper.builder().build().readTree(path.toFile())) {
			String name = node.get("benchmark").asString();
			name = name.substring(name.lastIndexOf('.') + 1);
			JsonNode params = node.get("params");
			if (params != null && params.has("size")) {
				name = name + ":" + params.get("size").asString();
			}
			JsonNode primary = node.get("primaryMetric");
			Map<String, Double> percentiles = new LinkedHashMap<>();
			JsonNode p = primary.get("scorePercentiles");
			if (p != null) {
				p.properties().forEach(e -> percentiles.put(e.getKey(), e.getValue().asDouble()));
			}
			Map<String, Double> secondary = new LinkedHashMap<>();
			JsonNode s = node.get("secondaryMetrics");
			if (s != null) {
				s.properties().forEach(e -> secondary.put(e.getKey(), e.getValue().get("score").asDouble()));
			}
			results.put(name, new Result(primary.get("score").asDouble(), primary.get("scoreUnit").asString(),
					percentiles, secondary));
		}
		return results;
	}

	private static String f(double value) {
		if (Double.isNaN(value)) {
			return "-";
		}
		return (Math.abs(value) >= 100) ? String.format(Locale.ROOT, "%,.0f", value)
				: String.format(Locale.ROOT, "%.2f", value);
	}

	private static String x(double value) {
		return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.2fx", value);
	}

	private void goal(String goal, String achieved, boolean met) {
		this.goals.add("| " + goal + " | " + achieved + " | " + (met ? "met" : "**not met**") + " |");
	}

	private static String alloc(Result result) {
		Double bytes = result.secondary().get("gc.alloc.rate.norm");
		return (bytes != null) ? f(bytes) : "-";
	}

	private void hits() throws IOException {
		Map<String, Result> t1 = read("hit-t1.json");
		Map<String, Result> t8 = read("hit-t8.json");
		if (t1.isEmpty() && t8.isEmpty()) {
			return;
		}
		String[] order = { "rawGet", "rawGetEntry", "rawGetAndDecode", "tagcacheLookup", "tagcacheAnnotation",
				"springDataRedisAnnotation" };
		Result raw1 = t1.get("rawGet");
		Result sdr1 = t1.get("springDataRedisAnnotation");
		Result raw8 = t8.get("rawGet");
		Result sdr8 = t8.get("springDataRedisAnnotation");
		System.out.println("## Hits");
		System.out.println();
		System.out.println("1 thread (`-bm sample`, us per call; ops/s = 1 / mean), 8 threads (`-bm thrpt`).");
		System.out.println();
		System.out.println("| Benchmark | p50 us | p99 us | mean us | ops/s, 1 thread | p50 / raw GET | p99 / raw GET | ops/s / raw GET | ops/s / spring-data-redis | alloc B/op | ops/s, 8 threads | / raw GET | / spring-data-redis | alloc B/op, 8 threads |");
		System.out.println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
		for (String name : order) {
			Result a = t1.get(name);
			Result b = t8.get(name);
			StringBuilder row = new StringBuilder("| " + name + " | ");
			if (a != null) {
				double ops = 1e6 / a.score();
				row.append(f(a.percentile("50.0"))).append(" | ").append(f(a.percentile("99.0"))).append(" | ")
					.append(f(a.score())).append(" | ").append(f(ops)).append(" | ")
					.append(x(a.percentile("50.0") / raw1.percentile("50.0"))).append(" | ")
					.append(x(a.percentile("99.0") / raw1.percentile("99.0"))).append(" | ")
					.append(x(raw1.score() / a.score())).append(" | ")
					.append(x(sdr1.score() / a.score())).append(" | ").append(alloc(a)).append(" | ");
			}
			else {
				row.append("- | - | - | - | - | - | - | - | - | ");
			}
			if (b != null) {
				row.append(f(b.score())).append(" | ").append(x(b.score() / raw8.score())).append(" | ")
					.append(x(b.score() / sdr8.score())).append(" | ").append(alloc(b)).append(" |");
			}
			else {
				row.append("- | - | - | - |");
			}
			System.out.println(row);
		}
		System.out.println();
		Result tc1 = t1.get("tagcacheAnnotation");
		Result tc8 = t8.get("tagcacheAnnotation");
		if (tc1 != null) {
			double p50 = tc1.percentile("50.0") / raw1.percentile("50.0");
			double p99 = tc1.percentile("99.0") / raw1.percentile("99.0");
			goal("Hit p50 <= 1.10x raw GET (1 thread)", f(tc1.percentile("50.0")) + " us vs " + f(raw1.percentile("50.0"))
					+ " us = " + x(p50), p50 <= 1.10);
			goal("Hit p99 <= 1.3x raw GET (1 thread)", f(tc1.percentile("99.0")) + " us vs " + f(raw1.percentile("99.0"))
					+ " us = " + x(p99), p99 <= 1.3);
			goal("(context) raw GET ~13K/s on one thread; spring-data-redis hit ~0.9x raw",
					f(1e6 / raw1.score()) + " ops/s; spring-data-redis " + x(raw1.score() / sdr1.score()), true);
		}
		if (tc8 != null) {
			double vsRaw = tc8.score() / raw8.score();
			double vsSdr = tc8.score() / sdr8.score();
			goal("Hit throughput at 8 threads >= 0.85x raw GET", f(tc8.score()) + " vs " + f(raw8.score()) + " ops/s = "
					+ x(vsRaw), vsRaw >= 0.85);
			goal("Hit throughput at 8 threads >= 1.5x spring-data-redis @Cacheable", f(tc8.score()) + " vs "
					+ f(sdr8.score()) + " ops/s = " + x(vsSdr), vsSdr >= 1.5);
			goal("(context) spring-data-redis hits 0.5-0.65x raw at 8 threads", x(sdr8.score() / raw8.score()), true);
		}
	}

	private void puts() throws IOException {
		Map<String, Result> t1 = read("put-t1.json");
		Map<String, Result> t8 = read("put-t8.json");
		if (t1.isEmpty() && t8.isEmpty()) {
			return;
		}
		String[] order = { "springPutImmediate", "springPutDeferred", "tagcachePut", "tagcacheFencedPut",
				"springMissAndPutImmediate", "springMissAndPutDeferred", "tagcacheMissAndPut" };
		Result base1 = t1.get("springPutImmediate");
		Result base8 = t8.get("springPutImmediate");
		System.out.println("## Puts and misses");
		System.out.println();
		System.out.println("Baseline: spring-data-redis `RedisCache.put` with immediate writes. Deferred puts return before Redis answers.");
		System.out.println();
		System.out.println("| Benchmark | p50 us | p99 us | mean us | p50 / immediate put | mean / immediate put | alloc B/op | ops/s, 8 threads | / immediate put |");
		System.out.println("|---|---|---|---|---|---|---|---|---|");
		for (String name : order) {
			Result a = t1.get(name);
			Result b = t8.get(name);
			StringBuilder row = new StringBuilder("| " + name + " | ");
			if (a != null) {
				row.append(f(a.percentile("50.0"))).append(" | ").append(f(a.percentile("99.0"))).append(" | ")
					.append(f(a.score())).append(" | ").append(x(a.percentile("50.0") / base1.percentile("50.0")))
					.append(" | ").append(x(a.score() / base1.score())).append(" | ").append(alloc(a)).append(" | ");
			}
			else {
				row.append("- | - | - | - | - | - | ");
			}
			if (b != null) {
				row.append(f(b.score())).append(" | ").append(x(b.score() / base8.score())).append(" |");
			}
			else {
				row.append("- | - |");
			}
			System.out.println(row);
		}
		System.out.println();
		Result put = t1.get("tagcachePut");
		if (put != null) {
			double ratio = put.percentile("50.0") / base1.percentile("50.0");
			goal("Put with 3 tags p50 <= 1.3x spring-data-redis immediate put (one round trip)",
					f(put.percentile("50.0")) + " us vs " + f(base1.percentile("50.0")) + " us = " + x(ratio), ratio <= 1.3);
		}
	}

	private void tagExtraction() throws IOException {
		Map<String, Result> t1 = read("tags-t1.json");
		Map<String, Result> t8 = read("tags-t8.json");
		Result a = t1.get("extract");
		Result b = t8.get("extract");
		if (a == null) {
			return;
		}
		System.out.println("## Tag extraction (1,000 users, 1,100 tags)");
		System.out.println();
		System.out.println("| Threads | us per extraction | alloc B per extraction |");
		System.out.println("|---|---|---|");
		System.out.println("| 1 | " + f(a.score()) + " | " + alloc(a) + " |");
		if (b != null) {
			System.out.println("| 8 | " + f(b.score()) + " | " + alloc(b) + " |");
		}
		System.out.println();
		goal("Tag extraction for 1,000 users <= 1 ms (1 thread)", f(a.score()) + " us", a.score() <= 1000);
	}

	private void invalidation() throws IOException {
		Map<String, Result> t1 = read("invalidation-t1.json");
		Map<String, Result> t8 = read("invalidation-t8.json");
		Path csv = this.directory.resolve("invalidation.csv");
		if (t1.isEmpty() || !Files.exists(csv)) {
			return;
		}
		// worst over the measured iterations, per (threads, size)
		Map<String, double[]> worst = new LinkedHashMap<>();
		List<String> lines = Files.readAllLines(csv);
		for (String line : lines.subList(1, lines.size())) {
			String[] c = line.split(",");
			double[] w = worst.computeIfAbsent(c[0] + ":" + c[1], k -> new double[6]);
			w[0] = Math.max(w[0], Double.parseDouble(c[4]));
			w[1] = Math.max(w[1], Double.parseDouble(c[5]));
			w[2] += Double.parseDouble(c[6]);
			w[3] = Math.max(w[3], Double.parseDouble(c[7]));
			w[4] = Math.max(w[4], Double.parseDouble(c[8]));
			w[5] = Math.max(w[5], Double.parseDouble(c[10]));
		}
		System.out.println("## Invalidation");
		System.out.println();
		System.out.println("Time until `invalidate(tag)` returns (mean of the measured iterations); probe and slow log: worst over those iterations.");
		System.out.println();
		System.out.println("| Threads | Entries with the tag | ms to complete | Probe: longest GET ms | Probe: p99.9 GET ms | Scripts (max per iteration) | Longest script us (>= 500 logged) | Scripts over 2 ms | GC ms in window (max) |");
		System.out.println("|---|---|---|---|---|---|---|---|---|");
		for (String threads : new String[] { "1", "8" }) {
			Map<String, Result> results = threads.equals("1") ? t1 : t8;
			for (String size : new String[] { "1", "100", "10000", "100000" }) {
				Result r = results.get("invalidate:" + size);
				double[] w = worst.get(threads + ":" + size);
				if (r == null || w == null) {
					continue;
				}
				System.out.println("| " + threads + " | " + String.format(Locale.ROOT, "%,d", Integer.parseInt(size)) + " | "
						+ f(r.score()) + " | " + f(w[0]) + " | " + f(w[1]) + " | " + (long) w[4] + " | "
						+ ((w[3] > 0) ? String.valueOf((long) w[3]) : "< 500") + " | " + (long) w[2] + " | " + (long) w[5] + " |");
				if (threads.equals("1") && size.equals("10000")) {
					goal("10,000 entries acknowledged in <= 50 ms", f(r.score()) + " ms", r.score() <= 50);
				}
				if (threads.equals("1") && size.equals("100000")) {
					goal("100,000 entries with no probe stall over 5 ms", f(w[0]) + " ms longest probe GET", w[0] <= 5);
				}
			}
		}
		long over = 0;
		double longest = 0;
		for (double[] w : worst.values()) {
			over += (long) w[2];
			longest = Math.max(longest, w[3]);
		}
		System.out.println();
		goal("No script over 2 ms of Redis time at any size (SLOWLOG)", over + " scripts over 2 ms; longest "
				+ ((longest > 0) ? (long) longest + " us" : "< 500 us"), over == 0);
	}

}
