package io.tagcache.benchmarks;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tagcache.Loaded;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisConfiguration;
import org.springframework.data.redis.connection.RedisNode;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Issue 14: how long after one instance invalidates a tag another instance's near cache stops serving
 * the entry. Instance A (this JVM, its own {@link LettuceConnectionFactory}, no near cache) and
 * instance B (a near cache, its own factory) share a key prefix. Per invalidation:
 * <ol>
 * <li>A loads user {@code id} with its 3 tags (a fenced put, which publishes nothing); B reads it (a near miss, then kept) and checks that its
 * next read is a near hit; B answers "armed" and starts polling: a read through B's cache every
 * ~{@value #POLL_MICROS} us ({@code parkNanos}), which is a near hit as long as B serves the entry, and a
 * Redis read returning {@code null} once the near entry was dropped (the script removed the Redis entry
 * in the step that published the message);</li>
 * <li>A takes {@code t0 = nanoTime()}, calls {@code invalidate(["user-<id>"])}, takes {@code t1} on return;</li>
 * <li>B reports the {@code nanoTime()} at the start of its first read that did not serve the entry
 * ({@code tB}): the drop happened between the start of the previous read and then.</li>
 * </ol>
 * Reported: {@code tB - t0} (from just before the call) and {@code tB - t1} (from its return; negative when
 * B dropped the entry before A's call returned), p50/p99/max over {@code -Dinvalidations=} (1,000) after
 * 200 discarded ones. B runs either in a second JVM ({@code process}: {@code nanoTime} is
 * {@code CLOCK_MONOTONIC}, shared by the processes of one Linux machine) or on a thread of this JVM
 * ({@code thread}: a second manager on a second factory, linked by pipes); on a standalone Redis and on a
 * 3-master cluster started here ({@code -Dtopologies=standalone,cluster}, {@code -Dpeers=process,thread}).
 *
 * <pre>
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.NearCachePropagationReport
 * </pre>
 */
public final class NearCachePropagationReport {

	static final String CACHE = "users";

	static final String PREFIX = "near-propagation";

	private static final long POLL_MICROS = 20;

	private static final int WARM_UP = 200;

	private static final String MARK = "@@ ";

	private final StringBuilder report = new StringBuilder();

	public static void main(String[] args) throws Exception {
		if (args.length > 0 && args[0].equals("peer")) {
			peer(args[1], System.in, System.out);
			return;
		}
		new NearCachePropagationReport().run();
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	private void run() throws Exception {
		int invalidations = Integer.getInteger("invalidations", 1000);
		List<String> topologies = List.of(System.getProperty("topologies", "standalone,cluster").split(","));
		List<String> peers = List.of(System.getProperty("peers", "process,thread").split(","));
		print("## Near cache propagation (issue 14): %,d invalidations per case after %d discarded, %d CPUs, "
				+ "load %.2f at start%n", invalidations, WARM_UP, Runtime.getRuntime().availableProcessors(),
				ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
		print("| Topology | Instance B | from call p50 ms | p99 ms | max ms | from return p50 ms | p99 ms | max ms "
				+ "| over 10 ms | B's poll period us (mean) | load |");
		print("|---|---|---|---|---|---|---|---|---|---|---|");
		for (String topology : topologies) {
			List<RedisProcess> servers = topology.equals("cluster") ? startCluster() : List.of(RedisProcess.start());
			try {
				String nodes = String.join(",", servers.stream().map(s -> Integer.toString(s.port())).toList());
				String spec = topology + ":" + nodes;
				for (String peer : peers) {
					measure(spec, topology, peer, invalidations);
				}
			}
			finally {
				servers.forEach(RedisProcess::close);
			}
		}
		Files.writeString(RedisStats.resultsDirectory().resolve("near-cache-propagation.md"), this.report);
	}

	private void measure(String spec, String topology, String peerKind, int invalidations) throws Exception {
		LettuceConnectionFactory factory = factory(spec);
		RedisTaggedCacheManager manager = manager(factory, false);
		RedisTaggedCache cache = manager.getCache(CACHE);
		Peer peer = peerKind.equals("process") ? Peer.process(spec) : Peer.thread(spec);
		long[] fromCall = new long[invalidations];
		long[] fromReturn = new long[invalidations];
		List<String> outliers = new ArrayList<>();
		double pollSum = 0;
		GcPauses gc = new GcPauses();
		try {
			peer.expect("serving");
			for (int i = -WARM_UP; i < invalidations; i++) {
				long id = 1 + Math.floorMod(i, 5000);
				// a load: its fenced put publishes nothing, so no message of it can reach B after B kept the entry
				cache.get(id, User.class, false, () -> Loaded.of(User.of(id), CacheStacks.tags(id)));
				peer.send("arm " + id);
				peer.expect("armed");
				long t0 = System.nanoTime();
				manager.invalidate(List.of("user-" + id));
				long t1 = System.nanoTime();
				String[] dropped = peer.expect("dropped").split(" ");
				long tB = Long.parseLong(dropped[1]);
				if (i >= 0) {
					fromCall[i] = tB - t0;
					fromReturn[i] = tB - t1;
					pollSum += Double.parseDouble(dropped[2]);
					if (tB - t0 > TimeUnit.MILLISECONDS.toNanos(10)) {
						outliers.add(String.format(Locale.ROOT, "#%d %.1f ms (call took %.1f ms; GC in A %d ms, in B %s ms)", i,
								(tB - t0) / 1e6, (t1 - t0) / 1e6, gc.millisWithin(t0, tB), dropped[3]));
					}
				}
			}
		}
		finally {
			peer.close();
			manager.destroy();
			factory.destroy();
		}
		long[] call = fromCall.clone();
		long[] ret = fromReturn.clone();
		Arrays.sort(call);
		Arrays.sort(ret);
		print("| %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %d | %.0f | %.2f |", topology,
				peerKind.equals("process") ? "second JVM" : "same JVM, own factory", ms(p(call, 0.5)),
				ms(p(call, 0.99)), ms(call[call.length - 1]), ms(p(ret, 0.5)), ms(p(ret, 0.99)), ms(ret[ret.length - 1]),
				outliers.size(), pollSum / invalidations,
				ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
		if (!outliers.isEmpty()) {
			System.out.println("  over 10 ms: " + outliers);
			this.report.append("<!-- ")
				.append(topology)
				.append('/')
				.append(peerKind)
				.append(" over 10 ms: ")
				.append(outliers)
				.append(" -->")
				.append(System.lineSeparator());
		}
	}

	private static double ms(double nanos) {
		return nanos / 1e6;
	}

	private static double p(long[] sorted, double quantile) {
		return sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * quantile) - 1)];
	}

	// Instance B

	/**
	 * B: a manager with a near cache; answers "serving" once it serves, then per "arm id" reads the
	 * entry into its near cache and polls until it is no longer served.
	 */
	static void peer(String spec, java.io.InputStream commands, PrintStream replies) throws Exception {
		LettuceConnectionFactory factory = factory(spec);
		RedisTaggedCacheManager manager = manager(factory, true);
		GcPauses gc = new GcPauses();
		try {
			RedisTaggedCache cache = manager.getCache(CACHE);
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
			while (!cache.isNearCacheServing()) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException("B's near cache did not start serving");
				}
				RedisProcess.sleep(5);
			}
			reply(replies, "serving");
			BufferedReader in = new BufferedReader(new InputStreamReader(commands, StandardCharsets.UTF_8));
			String line;
			while ((line = in.readLine()) != null && line.startsWith("arm ")) {
				long id = Long.parseLong(line.substring(4));
				if (cache.get(id, User.class) == null) {
					throw new IllegalStateException("B did not find user " + id + " in Redis");
				}
				long hits = cache.getStatistics().getNearCacheGets("hit");
				if (cache.get(id, User.class) == null || cache.getStatistics().getNearCacheGets("hit") != hits + 1) {
					throw new IllegalStateException("B's second read of user " + id + " was not a near hit (serving: "
							+ cache.isNearCacheServing() + ")");
				}
				reply(replies, "armed");
				long polls = 0;
				long firstPoll = System.nanoTime();
				long limit = firstPoll + TimeUnit.SECONDS.toNanos(10);
				while (true) {
					long started = System.nanoTime();
					polls++;
					if (cache.get(id, User.class) == null) {
						reply(replies, "dropped " + started + " "
								+ String.format(Locale.ROOT, "%.1f", (started - firstPoll) / 1e3 / Math.max(1, polls - 1)) + " "
								+ gc.millisWithin(firstPoll, started));
						break;
					}
					if (started > limit) {
						throw new IllegalStateException("B still served user " + id + " 10 s after it was armed");
					}
					LockSupport.parkNanos(POLL_MICROS * 1000);
				}
			}
		}
		finally {
			manager.destroy();
			factory.destroy();
		}
	}

	private static void reply(PrintStream replies, String message) {
		replies.println(MARK + message);
		replies.flush();
	}

	/** Instance B, seen from A: commands go out, replies (lines starting with the mark) come back. */
	private static final class Peer implements AutoCloseable {

		private final PrintStream out;

		private final BufferedReader in;

		private final AutoCloseable stop;

		private Peer(PrintStream out, BufferedReader in, AutoCloseable stop) {
			this.out = out;
			this.in = in;
			this.stop = stop;
		}

		static Peer process(String spec) throws IOException {
			String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
			Process process = new ProcessBuilder(java, "-Xms256m", "-Xmx256m", "-cp",
					System.getProperty("java.class.path"), NearCachePropagationReport.class.getName(), "peer", spec)
				.redirectError(ProcessBuilder.Redirect.INHERIT)
				.start();
			return new Peer(new PrintStream(process.getOutputStream(), true, StandardCharsets.UTF_8),
					new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), () -> {
						process.getOutputStream().close();
						if (!process.waitFor(20, TimeUnit.SECONDS)) {
							process.destroyForcibly();
						}
					});
		}

		static Peer thread(String spec) throws IOException {
			PipedOutputStream commands = new PipedOutputStream();
			PipedInputStream commandsIn = new PipedInputStream(commands, 1 << 16);
			PipedInputStream replies = new PipedInputStream(1 << 16);
			PrintStream repliesOut = new PrintStream(new PipedOutputStream(replies), true, StandardCharsets.UTF_8);
			Thread thread = new Thread(() -> {
				try {
					peer(spec, commandsIn, repliesOut);
				}
				catch (Exception ex) {
					ex.printStackTrace();
				}
				finally {
					repliesOut.close();
				}
			}, "instance-b");
			thread.start();
			return new Peer(new PrintStream(commands, true, StandardCharsets.UTF_8),
					new BufferedReader(new InputStreamReader(replies, StandardCharsets.UTF_8)), () -> {
						commands.close();
						thread.join(20_000);
					});
		}

		void send(String command) {
			this.out.println(command);
			this.out.flush();
		}

		/** The next reply, which must start with {@code word}. */
		String expect(String word) throws IOException {
			String line;
			while ((line = this.in.readLine()) != null) {
				if (line.startsWith(MARK)) {
					String message = line.substring(MARK.length());
					if (!message.startsWith(word)) {
						throw new IllegalStateException("expected '" + word + "' from B, got '" + message + "'");
					}
					return message;
				}
				System.out.println("B: " + line);
			}
			throw new IllegalStateException("B stopped before it said '" + word + "'");
		}

		@Override
		public void close() throws Exception {
			this.stop.close();
		}

	}

	// Set-up

	/** {@code standalone:<port>} or {@code cluster:<port>,<port>,<port>}. */
	static LettuceConnectionFactory factory(String spec) {
		String[] parts = spec.split(":");
		List<Integer> ports = Arrays.stream(parts[1].split(",")).map(Integer::valueOf).toList();
		RedisConfiguration configuration;
		if (parts[0].equals("cluster")) {
			RedisClusterConfiguration cluster = new RedisClusterConfiguration();
			ports.forEach(port -> cluster.addClusterNode(new RedisNode("127.0.0.1", port)));
			configuration = cluster;
		}
		else {
			configuration = new RedisStandaloneConfiguration("127.0.0.1", ports.get(0));
		}
		LettuceConnectionFactory factory = new LettuceConnectionFactory(configuration,
				LettuceClientConfiguration.builder()
					.commandTimeout(Duration.ofSeconds(5))
					.shutdownQuietPeriod(Duration.ZERO)
					.build());
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

	static RedisTaggedCacheManager manager(LettuceConnectionFactory factory, boolean near) {
		return RedisTaggedCacheManager.builder(factory)
			.keyPrefix(PREFIX)
			.withCache(CACHE,
					RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(CacheStacks.TTL).withNearCache(near))
			.build();
	}

	/** Three cluster-enabled servers, each given a third of the slots, met and ready. */
	static List<RedisProcess> startCluster() {
		List<RedisProcess> servers = new ArrayList<>();
		for (int i = 0; i < 3; i++) {
			servers.add(RedisProcess.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
					"--cluster-node-timeout", "5000"));
		}
		List<RedisClient> clients = new ArrayList<>();
		try {
			List<RedisCommands<String, String>> nodes = new ArrayList<>();
			for (RedisProcess server : servers) {
				RedisClient client = RedisClient.create(RedisURI.create("127.0.0.1", server.port()));
				clients.add(client);
				StatefulRedisConnection<String, String> connection = client.connect();
				nodes.add(connection.sync());
			}
			for (int i = 0; i < 3; i++) {
				int first = 16384 * i / 3;
				int last = 16384 * (i + 1) / 3 - 1;
				int[] slots = new int[last - first + 1];
				for (int s = 0; s < slots.length; s++) {
					slots[s] = first + s;
				}
				nodes.get(i).clusterAddSlots(slots);
			}
			for (int i = 1; i < 3; i++) {
				nodes.get(0).clusterMeet("127.0.0.1", servers.get(i).port());
			}
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
			while (!nodes.stream().allMatch(node -> {
				String info = node.clusterInfo();
				return info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3");
			})) {
				if (System.nanoTime() > deadline) {
					throw new IllegalStateException("the cluster did not form in 30 s");
				}
				RedisProcess.sleep(50);
			}
			// every node must know every other's slots before clients read the topology
			RedisProcess.sleep(500);
			return servers;
		}
		catch (RuntimeException ex) {
			servers.forEach(RedisProcess::close);
			throw ex;
		}
		finally {
			clients.forEach(RedisClient::shutdown);
		}
	}

}
