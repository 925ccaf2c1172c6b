package io.tagcache.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * The measuring loop the interleaved reports share: a timed turn of every thread calling one variant,
 * and the statistics they print.
 */
final class Turns {

	private Turns() {
	}

	/**
	 * One turn: every thread calls the variant with ids from its own offset until the turn ends.
	 * @return {calls, nanos}
	 */
	static long[] turn(ExecutorService pool, int threads, long millis, LongConsumer variant, long[] ids)
			throws Exception {
		AtomicBoolean running = new AtomicBoolean(true);
		CyclicBarrier start = new CyclicBarrier(threads + 1);
		List<Future<Long>> results = new ArrayList<>();
		for (int t = 0; t < threads; t++) {
			int offset = t * 7919;
			results.add(pool.submit(() -> {
				start.await();
				long calls = 0;
				int cursor = offset;
				while (running.get()) {
					variant.accept(ids[cursor++ & 0xFFFF]);
					calls++;
				}
				return calls;
			}));
		}
		start.await();
		long started = System.nanoTime();
		Thread.sleep(millis);
		running.set(false);
		long calls = 0;
		for (Future<Long> result : results) {
			calls += result.get();
		}
		return new long[] { calls, System.nanoTime() - started };
	}

	/**
	 * Interleaved turns: in each round every variant has one turn, starting from a different variant each
	 * round, so that the machine's drift falls on every variant alike.
	 * @return {calls, nanos} of each variant, summed over its turns
	 */
	static Map<String, long[]> interleave(Map<String, LongConsumer> variants, long[] ids, int rounds, int threads,
			long millis) throws Exception {
		Map<String, long[]> counts = new LinkedHashMap<>();
		variants.keySet().forEach(name -> counts.put(name, new long[2]));
		List<String> names = new ArrayList<>(variants.keySet());
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		try {
			for (int round = 0; round < rounds; round++) {
				for (int v = 0; v < names.size(); v++) {
					String name = names.get((v + round) % names.size());
					long[] done = turn(pool, threads, millis, variants.get(name), ids);
					counts.get(name)[0] += done[0];
					counts.get(name)[1] += done[1];
				}
			}
		}
		finally {
			pool.shutdown();
		}
		return counts;
	}

	/**
	 * Interleaved single-threaded turns in which every call is timed: in each round every variant makes
	 * {@code callsPerTurn} calls, starting from a different variant each round.
	 * @return each variant's call durations in nanoseconds, sorted
	 */
	static Map<String, long[]> timeEach(Map<String, LongConsumer> variants, long[] ids, int rounds, int callsPerTurn) {
		Map<String, long[]> latencies = new LinkedHashMap<>();
		variants.keySet().forEach(name -> latencies.put(name, new long[rounds * callsPerTurn]));
		List<String> names = new ArrayList<>(variants.keySet());
		int cursor = 0;
		for (int round = 0; round < rounds; round++) {
			for (int v = 0; v < names.size(); v++) {
				String name = names.get((v + round) % names.size());
				LongConsumer variant = variants.get(name);
				long[] samples = latencies.get(name);
				for (int i = 0; i < callsPerTurn; i++) {
					long id = ids[cursor++ & 0xFFFF];
					long started = System.nanoTime();
					variant.accept(id);
					samples[round * callsPerTurn + i] = System.nanoTime() - started;
				}
			}
		}
		latencies.values().forEach(Arrays::sort);
		return latencies;
	}

	/** Calls per second of a turn's {calls, nanos}. */
	static double rate(long[] counts) {
		return counts[0] * 1e9 / counts[1];
	}

	/** A quantile of sorted samples. */
	static double p(long[] sorted, double quantile) {
		return sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * quantile) - 1)];
	}

	static double mean(long[] samples) {
		return Arrays.stream(samples).average().orElse(0);
	}

}
