package io.tagcache.benchmarks;

import java.util.Arrays;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;

/**
 * A thread with its own connection issuing {@code GET}s back to back, recording when each one started
 * and how long it took, so that the stall an invalidation causes to other clients can be read for any
 * window afterwards. Keeps the last 2^20 samples (over a minute at loopback speed).
 */
final class LatencyProbe implements AutoCloseable {

	private static final int CAPACITY = 1 << 20;

	private static final int MASK = CAPACITY - 1;

	private final long[] starts = new long[CAPACITY];

	private final long[] durations = new long[CAPACITY];

	private volatile int count;

	private volatile boolean running = true;

	private final RedisClient client;

	private final StatefulRedisConnection<String, String> connection;

	private final Thread thread;

	LatencyProbe(int port) {
		this.client = RedisClient.create(RedisURI.create("127.0.0.1", port));
		this.connection = this.client.connect();
		this.connection.sync().set("probe", "x");
		this.thread = new Thread(this::run, "latency-probe");
		this.thread.setDaemon(true);
		this.thread.start();
	}

	private void run() {
		RedisCommands<String, String> redis = this.connection.sync();
		while (this.running) {
			long started = System.nanoTime();
			redis.get("probe");
			long took = System.nanoTime() - started;
			int i = this.count;
			this.starts[i & MASK] = started;
			this.durations[i & MASK] = took;
			this.count = i + 1;
		}
	}

	/** What the probe saw in a window: how many GETs overlapped it, the longest, and the 99.9th percentile. */
	record Window(int gets, long maxNanos, long p999Nanos) {
	}

	/** The GETs that overlapped {@code [from, to]} (nanoTime). */
	Window window(long from, long to) {
		int end = this.count;
		int begin = Math.max(0, end - CAPACITY);
		long[] overlapping = new long[end - begin];
		int n = 0;
		for (int i = begin; i < end; i++) {
			long start = this.starts[i & MASK];
			long duration = this.durations[i & MASK];
			if (start <= to && start + duration >= from) {
				overlapping[n++] = duration;
			}
		}
		if (n == 0) {
			return new Window(0, 0, 0);
		}
		Arrays.sort(overlapping, 0, n);
		return new Window(n, overlapping[n - 1], overlapping[Math.min(n - 1, (int) Math.ceil(n * 0.999) - 1)]);
	}

	@Override
	public void close() {
		this.running = false;
		try {
			this.thread.join(5000);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		this.connection.close();
		this.client.shutdown();
	}

}
