package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.cluster.pubsub.StatefulRedisClusterPubSubConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * The subscription through which near caches learn of other instances' changes, and instances of
 * other instances' invalidations ({@code tagcache.events.broadcast}).
 *
 * <p>Every script that removes, rewrites or marks entries publishes what it did on its cache slot's
 * channel ({@code <base>inv}, see {@code notify} in {@code lib.lua}), in the same atomic step. The
 * channel hashes to the slot of the cache's keys, so on a cluster it is a sharded channel
 * ({@code SSUBSCRIBE}, Redis 7.0) of the master holding that slot, and a message never crosses the
 * cluster bus; this class subscribes each channel on its master, with connections of the factory's
 * own Lettuce client. On Redis 6.2, which has no sharded pub/sub, it falls back to {@code SUBSCRIBE}
 * (the scripts to {@code PUBLISH}).
 *
 * <p>Pub/sub delivers to the subscribers connected when a message is published, and nothing later.
 * So whenever a subscription may have missed a message (a connection dropped or was killed, Redis
 * restarted, a slot moved or failed over, which Redis reports by unsubscribing the channel), every
 * near cache is cleared and serves nothing until all its channels are subscribed again: a loss
 * costs misses, never a stale value. Subscribing again happens on this class's own thread, retried
 * with a growing wait.
 */
final class InvalidationChannel implements AutoCloseable {

	private static final Log logger = LogFactory.getLog(InvalidationChannel.class);

	/** The suffix of a cache slot's channel after its base (see {@code lib.lua}). */
	static final String CHANNEL_SUFFIX = "inv";

	/** How often each subscribed connection is pinged. */
	static final Duration HEARTBEAT = Duration.ofMillis(20);

	/**
	 * How old the last confirmation may be for near caches to serve: a hit is never older than this
	 * after an invalidation was acknowledged, pauses of the JVM and silent connections included.
	 */
	static final Duration LIVENESS = Duration.ofMillis(250);

	private static final long FIRST_RETRY_MILLIS = 100;

	private static final long LAST_RETRY_MILLIS = 2000;

	private final LettuceConnectionFactory connectionFactory;

	private final Duration timeout;

	private final ScheduledExecutorService executor;

	private final ScheduledExecutorService heartbeats;

	/** The near cache of each channel (a cache with several shards has one channel per shard). */
	private final Map<String, NearCache> nearCaches = new ConcurrentHashMap<>();

	/** The channel of instances' invalidation events and what receives them; {@code null} without. */
	private final @Nullable String eventsChannel;

	private final Consumer<byte[]> events;

	/** The connections subscribed (one, or one per master of a cluster): a loss of any is a loss. */
	private final Set<Object> pipes = ConcurrentHashMap.newKeySet();

	private final Listener listener = new Listener();

	private final StateListener stateListener = new StateListener();

	/**
	 * When each connection last confirmed (its {@code PONG} arrived) that every message Redis published
	 * before the {@code PING} was sent had been applied: replies come in order, after the messages.
	 */
	private final Map<Object, Long> confirmed = new ConcurrentHashMap<>();

	/** The connections the last complete round subscribed on: those a near cache depends on. */
	private volatile Set<Object> active = Set.of();

	/** The oldest confirmation of the subscribed connections ({@link System#nanoTime()}). */
	private volatile long confirmedUpTo = System.nanoTime() - LIVENESS.toNanos();

	/** Raised by every loss: a round of subscriptions started before it enables nothing. */
	private long generation;

	private boolean roundScheduled;

	private long retryMillis = FIRST_RETRY_MILLIS;

	private boolean lossReported;

	private boolean closed;

	/** Whether the server has sharded pub/sub; {@code null} until the first subscription tells. */
	private volatile @Nullable Boolean sharded;

	private @Nullable AbstractRedisClient client;

	private @Nullable StatefulRedisPubSubConnection<byte[], byte[]> standalone;

	private @Nullable StatefulRedisClusterPubSubConnection<byte[], byte[]> cluster;

	/**
	 * @param eventsChannel the channel of invalidation events to receive, {@code null} for none
	 * @param events what receives each event message
	 */
	InvalidationChannel(LettuceConnectionFactory connectionFactory, @Nullable String eventsChannel,
			Consumer<byte[]> events) {
		this.connectionFactory = connectionFactory;
		this.timeout = connectionFactory.getClientConfiguration().getCommandTimeout();
		this.eventsChannel = eventsChannel;
		this.events = events;
		this.executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
			Thread thread = new Thread(runnable, "tagcache-invalidation-channel");
			thread.setDaemon(true);
			return thread;
		});
		if (eventsChannel != null) {
			scheduleRound(0);
		}
		// a thread of its own: a round of subscriptions or an event listener must not hold the heartbeat back
		this.heartbeats = Executors.newSingleThreadScheduledExecutor(runnable -> {
			Thread thread = new Thread(runnable, "tagcache-near-cache-heartbeat");
			thread.setDaemon(true);
			return thread;
		});
		this.heartbeats.scheduleWithFixedDelay(this::heartbeat, HEARTBEAT.toMillis(), HEARTBEAT.toMillis(),
				TimeUnit.MILLISECONDS);
	}

	/**
	 * Whether every subscribed connection confirmed within {@link #LIVENESS} that the messages published
	 * before were applied; near caches serve hits only then.
	 */
	boolean isLive() {
		return System.nanoTime() - this.confirmedUpTo < LIVENESS.toNanos();
	}

	/**
	 * Ping every subscribed connection; its {@code PONG} confirms the messages published before the ping
	 * was sent were applied (the listener runs them first, on the same connection's thread). A connection
	 * that stops answering, or a JVM that paused, lets the confirmation age: near caches stop serving.
	 */
	private void heartbeat() {
		if (this.nearCaches.isEmpty()) {
			// events only: nothing is served on the strength of this channel
			return;
		}
		for (Object pipe : this.active) {
			long sent = System.nanoTime();
			@SuppressWarnings("unchecked")
			StatefulRedisPubSubConnection<byte[], byte[]> connection = (StatefulRedisPubSubConnection<byte[], byte[]>) pipe;
			try {
				connection.async().ping().thenRun(() -> confirm(pipe, sent));
			}
			catch (RuntimeException ex) {
				// not connected: the confirmation ages
			}
		}
	}

	private void confirm(Object pipe, long sent) {
		this.confirmed.merge(pipe, sent, (earlier, later) -> (later - earlier > 0) ? later : earlier);
		Long oldest = null;
		for (Object each : this.active) {
			Long at = this.confirmed.get(each);
			if (at == null) {
				return;
			}
			if (oldest == null || at - oldest < 0) {
				oldest = at;
			}
		}
		if (oldest != null) {
			this.confirmedUpTo = oldest;
		}
	}

	/** The channel of a cache slot. */
	static String channelOf(CacheKeyspace keyspace) {
		return keyspace.base() + CHANNEL_SUFFIX;
	}

	/**
	 * Subscribe the channels of a cache's slots for its near cache, which serves once they are all
	 * subscribed.
	 */
	synchronized void register(List<CacheKeyspace> keyspaces, NearCache nearCache) {
		for (CacheKeyspace keyspace : keyspaces) {
			this.nearCaches.put(channelOf(keyspace), nearCache);
		}
		scheduleRound(0);
	}

	/** Whether the server has sharded pub/sub ({@code SPUBLISH}); {@code null} while unknown. */
	@Nullable Boolean isSharded() {
		return this.sharded;
	}

	// Subscribing

	private synchronized void scheduleRound(long delayMillis) {
		if (this.roundScheduled || this.closed) {
			return;
		}
		this.roundScheduled = true;
		try {
			this.executor.schedule(this::round, delayMillis, TimeUnit.MILLISECONDS);
		}
		catch (RejectedExecutionException ex) {
			this.roundScheduled = false;
		}
	}

	/**
	 * Subscribe every channel on the connection of the node that holds it (subscribing a channel
	 * again is harmless), then let the near caches of this generation whose channels are all
	 * subscribed serve.
	 */
	private void round() {
		long started;
		Set<String> channels;
		synchronized (this) {
			this.roundScheduled = false;
			if (this.closed) {
				return;
			}
			started = this.generation;
			channels = new LinkedHashSet<>(this.nearCaches.keySet());
			if (this.eventsChannel != null) {
				channels.add(this.eventsChannel);
			}
		}
		Map<StatefulRedisPubSubConnection<byte[], byte[]>, List<String>> plan;
		try {
			plan = plan(channels);
			for (Map.Entry<StatefulRedisPubSubConnection<byte[], byte[]>, List<String>> subscription : plan.entrySet()) {
				subscribe(subscription.getKey(), subscription.getValue());
			}
		}
		catch (Exception ex) {
			retry(ex);
			return;
		}
		synchronized (this) {
			if (this.generation != started || this.closed) {
				// lost meanwhile: the round the loss scheduled subscribes again
				return;
			}
			this.retryMillis = FIRST_RETRY_MILLIS;
			this.active = Set.copyOf(plan.keySet());
			if (this.lossReported) {
				logger.info("Near caches serve again: their invalidation channels are subscribed");
				this.lossReported = false;
			}
			this.nearCaches.forEach((channel, nearCache) -> {
				if (channels.contains(channel) && !nearCache.isServing() && allSubscribed(nearCache, channels)) {
					nearCache.enable();
				}
			});
		}
	}

	private boolean allSubscribed(NearCache nearCache, Set<String> subscribed) {
		return this.nearCaches.entrySet()
			.stream()
			.filter(entry -> entry.getValue() == nearCache)
			.allMatch(entry -> subscribed.contains(entry.getKey()));
	}

	private void retry(Exception ex) {
		long wait;
		synchronized (this) {
			wait = this.retryMillis;
			this.retryMillis = Math.min(LAST_RETRY_MILLIS, this.retryMillis * 2);
		}
		if (wait == FIRST_RETRY_MILLIS) {
			Throwable cause = RedisErrors.unwrap(ex);
			logger.warn("Could not subscribe the invalidation channels of near caches (" + cause.getClass().getSimpleName()
					+ ": " + cause.getMessage() + "); near caches serve nothing until they are subscribed, retrying");
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Subscribing the invalidation channels failed again; next try in " + wait + " ms", ex);
		}
		scheduleRound(wait);
	}

	/** The connection each channel is subscribed on: the one connection, or that of its slot's master. */
	private Map<StatefulRedisPubSubConnection<byte[], byte[]>, List<String>> plan(Set<String> channels) {
		connect();
		Map<StatefulRedisPubSubConnection<byte[], byte[]>, List<String>> plan = new LinkedHashMap<>();
		StatefulRedisClusterPubSubConnection<byte[], byte[]> clusterConnection = this.cluster;
		if (clusterConnection == null) {
			plan.put(this.standalone, new ArrayList<>(channels));
			return plan;
		}
		RedisClusterClient clusterClient = (RedisClusterClient) this.client;
		// the topology as it is now: after a failover the slot has a new master
		clusterClient.refreshPartitions();
		Partitions partitions = clusterClient.getPartitions();
		for (String channel : channels) {
			RedisClusterNode master = partitions.getMasterBySlot(SlotHash.getSlot(bytes(channel)));
			if (master == null) {
				throw new IllegalStateException("No master holds the slot of channel '" + channel + "'");
			}
			StatefulRedisPubSubConnection<byte[], byte[]> pipe = clusterConnection.getConnection(master.getNodeId());
			if (this.pipes.add(pipe)) {
				pipe.addListener(this.listener);
			}
			plan.computeIfAbsent(pipe, node -> new ArrayList<>()).add(channel);
		}
		return plan;
	}

	private synchronized void connect() {
		if (this.client != null) {
			return;
		}
		AbstractRedisClient nativeClient = this.connectionFactory.getRequiredNativeClient();
		if (nativeClient instanceof RedisClusterClient clusterClient) {
			clusterClient.addListener(this.stateListener);
			this.client = clusterClient;
			this.cluster = clusterClient.connectPubSub(ByteArrayCodec.INSTANCE);
		}
		else {
			RedisClient redisClient = (RedisClient) nativeClient;
			redisClient.addListener(this.stateListener);
			this.client = redisClient;
			StatefulRedisPubSubConnection<byte[], byte[]> connection = redisClient.connectPubSub(ByteArrayCodec.INSTANCE);
			connection.addListener(this.listener);
			this.pipes.add(connection);
			this.standalone = connection;
		}
	}

	/** Subscribe the channels on the connection, one command per hash slot (an {@code SSUBSCRIBE} stays in one). */
	private void subscribe(StatefulRedisPubSubConnection<byte[], byte[]> pipe, List<String> channels) throws Exception {
		Map<Integer, List<byte[]>> bySlot = new LinkedHashMap<>();
		for (String channel : channels) {
			byte[] name = bytes(channel);
			bySlot.computeIfAbsent(SlotHash.getSlot(name), slot -> new ArrayList<>()).add(name);
		}
		for (List<byte[]> names : bySlot.values()) {
			subscribe(pipe, names.toArray(byte[][]::new));
		}
	}

	private void subscribe(StatefulRedisPubSubConnection<byte[], byte[]> pipe, byte[][] names) throws Exception {
		if (!Boolean.FALSE.equals(this.sharded)) {
			try {
				pipe.async().ssubscribe(names).get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
				this.sharded = true;
				return;
			}
			catch (ExecutionException ex) {
				if (!isUnknownCommand(ex.getCause())) {
					throw ex;
				}
				// Redis 6.2: its scripts publish with PUBLISH
				this.sharded = false;
			}
		}
		pipe.async().subscribe(names).get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
	}

	private static boolean isUnknownCommand(@Nullable Throwable ex) {
		String message = (ex != null) ? ex.getMessage() : null;
		return message != null && message.toLowerCase(Locale.ROOT).contains("unknown command");
	}

	// Losing it

	/**
	 * A subscription may have missed messages: clear every near cache and keep it from serving until
	 * its channels are subscribed again.
	 */
	private void lost(String why) {
		synchronized (this) {
			if (this.closed) {
				return;
			}
			this.generation++;
			new LinkedHashSet<>(this.nearCaches.values()).forEach(NearCache::disable);
			if (!this.lossReported) {
				logger.info("Near caches cleared: " + why + "; they serve again once their invalidation channels "
						+ "are subscribed");
				this.lossReported = true;
			}
		}
		scheduleRound(0);
	}

	// Receiving

	private void received(byte[] channel, byte[] message) {
		String name = new String(channel, StandardCharsets.UTF_8);
		if (name.equals(this.eventsChannel)) {
			// listeners run on this class's thread, not on Lettuce's, which delivers the near caches' messages
			try {
				this.executor.execute(() -> this.events.accept(message));
			}
			catch (RejectedExecutionException ex) {
				// closed
			}
			return;
		}
		NearCache nearCache = this.nearCaches.get(name);
		if (nearCache != null) {
			apply(nearCache, message);
		}
	}

	/** Apply a script's message (see {@code notify} in {@code lib.lua}); one it cannot read clears the cache. */
	static void apply(NearCache nearCache, byte[] message) {
		List<String> items = (message.length > 0) ? items(message) : null;
		char kind = (message.length > 0) ? (char) message[0] : '?';
		if (kind == 't' && items != null) {
			nearCache.dropTags(items);
		}
		else if (kind == 'k' && items != null) {
			nearCache.dropKeys(items);
		}
		else {
			nearCache.clear();
		}
	}

	/** The items of a message: each its length in bytes, ':', then its bytes; {@code null} when malformed. */
	static @Nullable List<String> items(byte[] message) {
		List<String> items = new ArrayList<>();
		int position = 1;
		while (position < message.length) {
			int length = 0;
			int digits = 0;
			while (position < message.length && message[position] >= '0' && message[position] <= '9') {
				length = length * 10 + (message[position++] - '0');
				digits++;
			}
			if (digits == 0 || position >= message.length || message[position] != ':'
					|| message.length - position - 1 < length) {
				return null;
			}
			position++;
			items.add(new String(message, position, length, StandardCharsets.UTF_8));
			position += length;
		}
		return items;
	}

	private static byte[] bytes(String value) {
		return value.getBytes(StandardCharsets.UTF_8);
	}

	@Override
	public void close() {
		AbstractRedisClient redisClient;
		synchronized (this) {
			if (this.closed) {
				return;
			}
			this.closed = true;
			redisClient = this.client;
		}
		this.executor.shutdownNow();
		this.heartbeats.shutdownNow();
		if (redisClient != null) {
			redisClient.removeListener(this.stateListener);
		}
		if (this.cluster != null) {
			this.cluster.closeAsync();
		}
		if (this.standalone != null) {
			this.standalone.closeAsync();
		}
		new LinkedHashSet<>(this.nearCaches.values()).forEach(NearCache::disable);
	}

	private final class Listener extends RedisPubSubAdapter<byte[], byte[]> {

		@Override
		public void message(byte[] channel, byte[] message) {
			received(channel, message);
		}

		@Override
		public void smessage(byte[] channel, byte[] message) {
			received(channel, message);
		}

		@Override
		public void unsubscribed(byte[] channel, long count) {
			// never asked for: Redis dropped the subscription
			lost("Redis unsubscribed channel '" + new String(channel, StandardCharsets.UTF_8) + "'");
		}

		@Override
		public void sunsubscribed(byte[] channel, long count) {
			// a slot of the channel moved to another node (a failover, a resharding)
			lost("Redis unsubscribed sharded channel '" + new String(channel, StandardCharsets.UTF_8)
					+ "' (its slot moved)");
		}

	}

	private final class StateListener implements RedisConnectionStateListener {

		@Override
		public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
			if (InvalidationChannel.this.pipes.contains(connection)) {
				lost("the connection of their invalidation channel closed");
			}
		}

	}

}
