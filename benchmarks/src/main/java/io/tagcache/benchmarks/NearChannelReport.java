package io.tagcache.benchmarks;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TrackingArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.push.PushMessage;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.protocol.ProtocolVersion;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.tagcache.Loaded;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Near cache, which channel (issue 14): what tagcache's invalidation channel delivers to one
 * subscribing instance, against what RESP3 client tracking would deliver to it, for the same
 * workload on the same Redis.
 *
 * <ul>
 * <li><b>channel</b>: a Lettuce pub/sub connection that {@code SSUBSCRIBE}s {@code <base>inv}, the
 * channel the scripts publish on ({@code notify} in {@code lib.lua});</li>
 * <li><b>bcast</b>: a RESP3 connection with {@code CLIENT TRACKING ON BCAST PREFIX <base>e:}, which
 * receives an {@code invalidate} push for every entry key written or removed, by any client;</li>
 * <li><b>default</b>: a RESP3 connection with {@code CLIENT TRACKING ON} (default mode) that itself
 * {@code GET}s every entry right after it was loaded (the emulation of a near cache that reads
 * through its tracking connection), so Redis remembers it and sends a push when it changes.</li>
 * </ul>
 *
 * <p>The three subscribers are connections of one Lettuce client with RESP3 (same event loops); the
 * tagcache instance is a separate {@code LettuceConnectionFactory}, its near cache subscribed as usual.
 *
 * <p>The workload, one thread, seeded: {@value #KEYS} users loaded through
 * {@code cache.get(id, User.class, true, loader)} with the tags {@code user-<id>} and
 * {@code loc-<id % 100>}, then {@code -Dops} (default {@value #OPS}) operations: 90% reads of a
 * loaded id (near hits, or a reload when the entry was invalidated), 5% loads of a new id, 4%
 * {@code manager.invalidate(List.of("user-<id>"))}, 1% {@code manager.invalidate(List.of("loc-<n>"))};
 * then one explicit {@code cache.put}. Per subscriber: messages, items (tags or keys), payload bytes,
 * and the bytes of the RESP frames (computed from the frames' parts). Then the propagation delay of
 * {@code -Ddelays} (default {@value #DELAYS}) single-user invalidations to each subscriber, from just
 * before {@code manager.invalidate} to the arrival callback. Then Redis CPU ({@code used_cpu_sys} +
 * {@code used_cpu_user}) over the mix with no extra subscriber, with the channel subscriber only and
 * with the bcast subscriber only, {@code -Drounds} (default {@value #ROUNDS}) rounds interleaved,
 * each on a fresh key prefix.
 *
 * <p>Run:
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -Xms1g -Xmx1g -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.NearChannelReport
 * </pre>
 * Writes {@code near-channel.md} to the results directory.
 */
public final class NearChannelReport {

	static final String CACHE = "users";

	static final int KEYS = 10_000;

	static final int OPS = Integer.getInteger("ops", 50_000);

	static final int DELAYS = Integer.getInteger("delays", 2_000);

	static final int ROUNDS = Integer.getInteger("rounds", 3);

	private final StringBuilder report = new StringBuilder();

	private final LongAdder loaderCalls = new LongAdder();

	public static void main(String[] args) throws Exception {
		new NearChannelReport().run();
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	// Counting subscribers

	/** What one subscriber received: messages, items, payload and wire bytes; and the arrival of an awaited item. */
	abstract static class Subscriber implements AutoCloseable {

		final String name;

		final AtomicLong messages = new AtomicLong();

		final AtomicLong items = new AtomicLong();

		final AtomicLong payloadBytes = new AtomicLong();

		final AtomicLong wireBytes = new AtomicLong();

		/** The item whose arrival {@link #arrival} records (a tag or an entry key); {@code null} for none. */
		volatile String awaited;

		final AtomicLong arrival = new AtomicLong();

		Subscriber(String name) {
			this.name = name;
		}

		@Override
		public abstract void close();

		long[] snapshot() {
			return new long[] { this.messages.get(), this.items.get(), this.payloadBytes.get(), this.wireBytes.get() };
		}

		private volatile CountDownLatch arrived = new CountDownLatch(0);

		void received(List<String> receivedItems) {
			String wanted = this.awaited;
			if (wanted != null && receivedItems.contains(wanted) && this.arrival.compareAndSet(0, System.nanoTime())) {
				this.arrived.countDown();
			}
		}

		void await(String item) {
			this.arrival.set(0);
			this.arrived = new CountDownLatch(1);
			this.awaited = item;
		}

		/**
		 * Nanoseconds of the awaited arrival after {@code start}, or -1 on a timeout of 2 s. Blocks on a
		 * latch (no spinning: the machine has 2 CPUs for Redis, the subscribers and the caller).
		 */
		long delayFrom(long start) {
			try {
				if (!this.arrived.await(2, TimeUnit.SECONDS)) {
					this.awaited = null;
					return -1;
				}
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
			this.awaited = null;
			return this.arrival.get() - start;
		}

	}

	/** The length of a RESP bulk string holding {@code length} bytes: {@code $<len>\r\n<bytes>\r\n}. */
	static long bulk(long length) {
		return 1 + Long.toString(length).length() + 2 + length + 2;
	}

	/** tagcache's channel: SSUBSCRIBE {@code <base>inv}. */
	static final class ChannelSubscriber extends Subscriber {

		private final StatefulRedisPubSubConnection<byte[], byte[]> connection;

		final AtomicLong[] kinds = { new AtomicLong(), new AtomicLong(), new AtomicLong() };

		ChannelSubscriber(RedisClient client, String channel) {
			super("channel");
			this.connection = client.connectPubSub(ByteArrayCodec.INSTANCE);
			this.connection.addListener(new RedisPubSubAdapter<>() {
				@Override
				public void smessage(byte[] channelName, byte[] message) {
					List<String> parsed = parse(message);
					ChannelSubscriber.this.messages.incrementAndGet();
					ChannelSubscriber.this.items.addAndGet(parsed.size() - 1);
					ChannelSubscriber.this.payloadBytes.addAndGet(message.length);
					// >3 (or *3) smessage <channel> <message>
					ChannelSubscriber.this.wireBytes
						.addAndGet(4 + bulk(8) + bulk(channelName.length) + bulk(message.length));
					char kind = parsed.get(0).charAt(0);
					ChannelSubscriber.this.kinds[(kind == 't') ? 0 : (kind == 'k') ? 1 : 2].incrementAndGet();
					received(parsed);
				}
			});
			this.connection.sync().ssubscribe(channel.getBytes(StandardCharsets.UTF_8));
		}

		/** The kind, then the items of a message {@code <kind>(<len>:<item>)*}. */
		static List<String> parse(byte[] message) {
			List<String> parsed = new ArrayList<>();
			parsed.add(new String(message, 0, 1, StandardCharsets.UTF_8));
			int at = 1;
			while (at < message.length) {
				int colon = at;
				while (message[colon] != ':') {
					colon++;
				}
				int length = Integer.parseInt(new String(message, at, colon - at, StandardCharsets.US_ASCII));
				parsed.add(new String(message, colon + 1, length, StandardCharsets.UTF_8));
				at = colon + 1 + length;
			}
			return parsed;
		}

		@Override
		public void close() {
			this.connection.close();
		}

	}

	/** Client tracking: {@code CLIENT TRACKING ON} with the given arguments on a RESP3 connection. */
	static final class TrackingSubscriber extends Subscriber {

		final StatefulRedisConnection<String, String> connection;

		final AtomicLong flushes = new AtomicLong();

		TrackingSubscriber(String name, RedisClient resp3, TrackingArgs tracking) {
			super(name);
			this.connection = resp3.connect(StringCodec.UTF8);
			this.connection.addListener((PushMessage message) -> {
				if (!message.getType().equals("invalidate")) {
					return;
				}
				List<Object> content = message.getContent(StringCodec.UTF8::decodeKey);
				Object keys = content.get(1);
				this.messages.incrementAndGet();
				if (!(keys instanceof List<?> list)) {
					// a flush of the whole keyspace: >2 invalidate _
					this.flushes.incrementAndGet();
					this.wireBytes.addAndGet(4 + bulk(10) + 3);
					return;
				}
				List<String> received = new ArrayList<>(list.size());
				long wire = 4 + bulk(10) + 1 + Integer.toString(list.size()).length() + 2;
				long payload = 0;
				for (Object key : list) {
					String text = (String) key;
					received.add(text);
					int length = text.getBytes(StandardCharsets.UTF_8).length;
					payload += length;
					wire += bulk(length);
				}
				this.items.addAndGet(list.size());
				this.payloadBytes.addAndGet(payload);
				this.wireBytes.addAndGet(wire);
				received(received);
			});
			String ok = this.connection.sync().clientTracking(tracking);
			if (!"OK".equals(ok)) {
				throw new IllegalStateException("CLIENT TRACKING answered " + ok);
			}
		}

		@Override
		public void close() {
			this.connection.close();
		}

	}

	// The stack under test

	/** One instance: its context, manager and near-cached "users". */
	record Stack(AnnotationConfigApplicationContext context, RedisTaggedCacheManager manager, RedisTaggedCache cache,
			String base) implements AutoCloseable {

		@Override
		public void close() {
			this.context.close();
		}

	}

	static Stack stack(int port, String prefix) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.registerBean(LettuceConnectionFactory.class, () -> CacheStacks.connectionFactory(port));
		context.registerBean("cacheManager", RedisTaggedCacheManager.class,
				() -> RedisTaggedCacheManager.builder(context.getBean(LettuceConnectionFactory.class))
					.jsonMapper(JsonMapper.builder().build())
					.keyPrefix(prefix)
					.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig()
						.withTimeToLive(Duration.ofHours(1))
						.withNearCache(true))
					.withCacheNames(CACHE)
					.build());
		context.refresh();
		RedisTaggedCacheManager manager = context.getBean(RedisTaggedCacheManager.class);
		RedisTaggedCache cache = manager.getCache(CACHE);
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (!cache.isNearCacheServing()) {
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("The near cache did not start serving in 10 s");
			}
			RedisProcess.sleep(10);
		}
		return new Stack(context, manager, cache, prefix + ":{" + CACHE + "}:");
	}

	static List<String> tags(long id) {
		return List.of("user-" + id, "loc-" + (id % User.LOCATIONS));
	}

	/** Read through the near cache; the loader (a miss) counts its call and returns the user with its 2 tags. */
	User read(RedisTaggedCache cache, long id, RedisCommands<String, String> reader, String base) {
		boolean[] loaded = new boolean[1];
		User user = cache.get(id, User.class, true, () -> {
			this.loaderCalls.increment();
			loaded[0] = true;
			return Loaded.of(User.of(id), tags(id));
		});
		if (loaded[0] && reader != null) {
			// default-mode tracking: the near cache reads the entry through its tracking connection
			if (reader.get(base + "e:" + id) == null) {
				this.trackedNils.increment();
			}
		}
		return user;
	}

	private final LongAdder trackedNils = new LongAdder();

	/** The operations of one run of the mix. */
	static final class Mix {

		long reads;

		long newLoads;

		long userInvalidations;

		long locationInvalidations;

		long userEntries;

		long locationEntries;

		long calls() {
			return this.userInvalidations + this.locationInvalidations;
		}

	}

	void fill(Stack stack, RedisCommands<String, String> reader) {
		for (long id = 1; id <= KEYS; id++) {
			read(stack.cache(), id, reader, stack.base());
		}
	}

	Mix mix(Stack stack, RedisCommands<String, String> reader, long seed) {
		Random random = new Random(seed);
		Mix mix = new Mix();
		long nextNew = KEYS + 1;
		for (int op = 0; op < OPS; op++) {
			int dice = random.nextInt(100);
			if (dice < 90) {
				read(stack.cache(), 1 + random.nextInt((int) (nextNew - 1)), reader, stack.base());
				mix.reads++;
			}
			else if (dice < 95) {
				read(stack.cache(), nextNew++, reader, stack.base());
				mix.newLoads++;
			}
			else if (dice < 99) {
				mix.userEntries += stack.manager()
					.invalidate(List.of("user-" + (1 + random.nextInt((int) (nextNew - 1)))));
				mix.userInvalidations++;
			}
			else {
				mix.locationEntries += stack.manager().invalidate(List.of("loc-" + random.nextInt(User.LOCATIONS)));
				mix.locationInvalidations++;
			}
		}
		return mix;
	}

	/** Wait until no subscriber has received anything for 300 ms (at most 10 s). */
	static void quiesce(List<? extends Subscriber> subscribers) {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		long[] last = null;
		long stableSince = System.nanoTime();
		while (System.nanoTime() < deadline) {
			long[] now = subscribers.stream().flatMapToLong(s -> Arrays.stream(s.snapshot())).toArray();
			if (!Arrays.equals(now, last)) {
				last = now;
				stableSince = System.nanoTime();
			}
			else if (System.nanoTime() - stableSince > TimeUnit.MILLISECONDS.toNanos(300)) {
				return;
			}
			RedisProcess.sleep(20);
		}
	}

	static long[] minus(long[] after, long[] before) {
		long[] delta = new long[after.length];
		for (int i = 0; i < after.length; i++) {
			delta[i] = after[i] - before[i];
		}
		return delta;
	}

	static double cpuSeconds(RedisCommands<String, String> admin) {
		double total = 0;
		for (String line : admin.info("cpu").split("\r?\n")) {
			if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
				total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
			}
		}
		return total;
	}

	// The run

	void run() throws Exception {
		print("# Near cache: which channel (issue 14)");
		print("");
		print("Workload: %,d users loaded through cache.get(id, User.class, true, loader) with tags user-<id>, loc-<id %% 100>;",
				KEYS);
		print("then %,d operations, one thread, seed 14: 90%% reads of a loaded id, 5%% loads of a new id, 4%% invalidate(user-<id>),",
				OPS);
		print("1%% invalidate(loc-<n>); then one explicit cache.put. Lettuce 6.8.2, %d CPUs, load before %s.",
				Runtime.getRuntime().availableProcessors(),
				StampedeReport.loadAverage());
		try (RedisProcess redis = RedisProcess.start()) {
			RedisURI uri = RedisURI.create("127.0.0.1", redis.port());
			RedisClient resp2 = RedisClient.create(uri);
			resp2.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP2).build());
			RedisClient resp3 = RedisClient.create(uri);
			resp3.setOptions(ClientOptions.builder().protocolVersion(ProtocolVersion.RESP3).build());
			try (StatefulRedisConnection<String, String> adminConnection = resp2.connect()) {
				RedisCommands<String, String> admin = adminConnection.sync();
				print("Redis: %s", admin.info("server").lines()
					.filter(line -> line.startsWith("redis_version:"))
					.findFirst()
					.orElse("?"));
				counts(redis.port(), resp2, resp3, admin);
				delays(redis.port(), resp2, resp3);
				cpu(redis.port(), resp2, resp3, admin);
			}
			finally {
				resp2.shutdown();
				resp3.shutdown();
			}
		}
		print("");
		print("Load after: %s", StampedeReport.loadAverage());
		Files.writeString(RedisStats.resultsDirectory().resolve("near-channel.md"), this.report);
	}

	private void counts(int port, RedisClient resp2, RedisClient resp3, RedisCommands<String, String> admin) {
		try (Stack stack = stack(port, "ncc");
				ChannelSubscriber channel = new ChannelSubscriber(resp3, stack.base() + "inv");
				TrackingSubscriber bcast = new TrackingSubscriber("bcast", resp3,
						TrackingArgs.Builder.enabled().bcast().prefixes(stack.base() + "e:"));
				TrackingSubscriber tracking = new TrackingSubscriber("default", resp3, TrackingArgs.Builder.enabled())) {
			List<Subscriber> subscribers = List.of(channel, bcast, tracking);
			RedisCommands<String, String> reader = tracking.connection.sync();
			long[][] start = snapshots(subscribers);
			long began = System.nanoTime();
			fill(stack, reader);
			quiesce(subscribers);
			long[][] filled = snapshots(subscribers);
			print("");
			print("Fill: %,d loads in %.1f s (loader calls %,d)", KEYS, (System.nanoTime() - began) / 1e9,
					this.loaderCalls.sum());
			long loadsBefore = this.loaderCalls.sum();
			began = System.nanoTime();
			Mix mix = mix(stack, reader, 14);
			double mixSeconds = (System.nanoTime() - began) / 1e9;
			quiesce(subscribers);
			long[][] mixed = snapshots(subscribers);
			long mixLoads = this.loaderCalls.sum() - loadsBefore;
			print("Mix: %,d ops in %.1f s: %,d reads, %,d new-key loads, %,d user invalidations (%,d entries removed), "
					+ "%,d location invalidations (%,d entries removed, %.1f per call); loader calls %,d "
					+ "(%,d reloads of invalidated entries); tracked GETs that found no entry: %,d",
					OPS, mixSeconds, mix.reads, mix.newLoads, mix.userInvalidations, mix.userEntries,
					mix.locationInvalidations, mix.locationEntries,
					(double) mix.locationEntries / Math.max(1, mix.locationInvalidations), mixLoads,
					mixLoads - mix.newLoads, this.trackedNils.sum());
			long id = 7;
			stack.cache().put(id, User.of(id), tags(id));
			quiesce(subscribers);
			long[][] put = snapshots(subscribers);
			print("Channel message kinds over the mix (t, k, *): %d, %d, %d", channel.kinds[0].get(),
					channel.kinds[1].get(), channel.kinds[2].get());
			print("");
			print("| Subscriber | Phase | Messages | Items (tags or keys) | Payload bytes | RESP bytes | Messages per invalidation call | RESP bytes per invalidation call |");
			print("|---|---|---|---|---|---|---|---|");
			for (int s = 0; s < subscribers.size(); s++) {
				row(subscribers.get(s).name, "fill (" + KEYS + " loads)", minus(filled[s], start[s]), 0);
				row(subscribers.get(s).name, "mix (" + OPS + " ops)", minus(mixed[s], filled[s]), mix.calls());
				row(subscribers.get(s).name, "one explicit put", minus(put[s], mixed[s]), 0);
			}
			long[] channelMix = minus(mixed[0], filled[0]);
			long[] bcastMix = minus(mixed[1], filled[1]);
			long[] defaultMix = minus(mixed[2], filled[2]);
			print("");
			print("Ratios over the mix, bcast / channel: messages %.2fx, items %.2fx, RESP bytes %.2fx; "
					+ "default / channel: messages %.2fx, RESP bytes %.2fx",
					ratio(bcastMix[0], channelMix[0]), ratio(bcastMix[1], channelMix[1]),
					ratio(bcastMix[3], channelMix[3]), ratio(defaultMix[0], channelMix[0]),
					ratio(defaultMix[3], channelMix[3]));
		}
	}

	static double ratio(long a, long b) {
		return (b == 0) ? Double.NaN : (double) a / b;
	}

	static long[][] snapshots(List<? extends Subscriber> subscribers) {
		return subscribers.stream().map(Subscriber::snapshot).toArray(long[][]::new);
	}

	private void row(String name, String phase, long[] delta, long calls) {
		print("| %s | %s | %,d | %,d | %,d | %,d | %s | %s |", name, phase, delta[0], delta[1], delta[2], delta[3],
				(calls > 0) ? String.format(Locale.ROOT, "%.2f", (double) delta[0] / calls) : "-",
				(calls > 0) ? String.format(Locale.ROOT, "%.0f", (double) delta[3] / calls) : "-");
	}

	private void delays(int port, RedisClient resp2, RedisClient resp3) {
		try (Stack stack = stack(port, "ncd");
				ChannelSubscriber channel = new ChannelSubscriber(resp3, stack.base() + "inv");
				TrackingSubscriber bcast = new TrackingSubscriber("bcast", resp3,
						TrackingArgs.Builder.enabled().bcast().prefixes(stack.base() + "e:"));
				TrackingSubscriber tracking = new TrackingSubscriber("default", resp3, TrackingArgs.Builder.enabled())) {
			RedisCommands<String, String> reader = tracking.connection.sync();
			List<TrackingSubscriber> keyed = List.of(bcast, tracking);
			long[][] delays = new long[3][DELAYS];
			int[] timeouts = new int[3];
			Random random = new Random(15);
			for (int i = -200; i < DELAYS; i++) {
				long id = 1 + random.nextInt(KEYS);
				String key = stack.base() + "e:" + id;
				// load the entry; its write reaches bcast: wait for that push before timing the invalidation
				bcast.await(key);
				long loads = this.loaderCalls.sum();
				read(stack.cache(), id, reader, stack.base());
				if (this.loaderCalls.sum() != loads) {
					bcast.delayFrom(System.nanoTime());
				}
				channel.await("user-" + id);
				keyed.forEach(s -> s.await(key));
				long start = System.nanoTime();
				stack.manager().invalidate(List.of("user-" + id));
				List<Subscriber> all = List.of(channel, bcast, tracking);
				for (int s = 0; s < 3; s++) {
					long delay = all.get(s).delayFrom(start);
					if (i >= 0) {
						if (delay < 0) {
							timeouts[s]++;
						}
						delays[s][i] = delay;
					}
				}
			}
			print("");
			print("Propagation delay, %,d invalidations of one user (after 200 of warm-up), from just before "
					+ "manager.invalidate to the subscriber's callback, loopback:", DELAYS);
			print("");
			print("| Subscriber | p50 us | p90 us | p99 us | max us | timeouts (2 s) |");
			print("|---|---|---|---|---|---|");
			String[] names = { "channel", "bcast", "default" };
			double[] p50 = new double[3];
			double[] p99 = new double[3];
			for (int s = 0; s < 3; s++) {
				long[] sorted = Arrays.stream(delays[s]).filter(d -> d >= 0).sorted().toArray();
				p50[s] = pct(sorted, 0.50);
				p99[s] = pct(sorted, 0.99);
				print("| %s | %.0f | %.0f | %.0f | %.0f | %d |", names[s], p50[s], pct(sorted, 0.90), p99[s],
						sorted[sorted.length - 1] / 1e3, timeouts[s]);
			}
			print("");
			print("Ratios bcast / channel: p50 %.2fx, p99 %.2fx; default / channel: p50 %.2fx, p99 %.2fx", p50[1] / p50[0],
					p99[1] / p99[0], p50[2] / p50[0], p99[2] / p99[0]);
		}
	}

	static double pct(long[] sorted, double p) {
		return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)] / 1e3;
	}

	private void cpu(int port, RedisClient resp2, RedisClient resp3, RedisCommands<String, String> admin) {
		String[] variants = { "none", "channel", "bcast" };
		List<List<Double>> seconds = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
		int stackNumber = 0;
		for (int round = 0; round < ROUNDS; round++) {
			for (int v = 0; v < variants.length; v++) {
				int variant = (round % 2 == 0) ? v : variants.length - 1 - v;
				try (Stack stack = stack(port, "ncu" + (stackNumber++))) {
					Subscriber subscriber = switch (variants[variant]) {
						case "channel" -> new ChannelSubscriber(resp3, stack.base() + "inv");
						case "bcast" -> new TrackingSubscriber("bcast", resp3,
								TrackingArgs.Builder.enabled().bcast().prefixes(stack.base() + "e:"));
						default -> null;
					};
					try {
						fill(stack, null);
						RedisProcess.sleep(200);
						double before = cpuSeconds(admin);
						mix(stack, null, 14);
						double used = cpuSeconds(admin) - before;
						seconds.get(variant).add(used);
						print("CPU round %d %s: Redis %.3f s over the mix%s", round + 1, variants[variant], used,
								(subscriber != null) ? String.format(Locale.ROOT, " (%,d messages)", subscriber.messages.get())
										: "");
					}
					finally {
						if (subscriber != null) {
							subscriber.close();
						}
					}
				}
				admin.flushall();
			}
		}
		print("");
		print("| Extra subscriber | Redis CPU over the mix, s (rounds) | median | / none |");
		print("|---|---|---|---|");
		double none = median(seconds.get(0));
		for (int v = 0; v < variants.length; v++) {
			double median = median(seconds.get(v));
			print("| %s | %s | %.3f | %.3f |", variants[v],
					String.join(" / ", seconds.get(v).stream().map(s -> String.format(Locale.ROOT, "%.3f", s)).toList()),
					median, median / none);
		}
	}

	static double median(List<Double> values) {
		List<Double> sorted = values.stream().sorted().toList();
		return sorted.get(sorted.size() / 2);
	}

}
