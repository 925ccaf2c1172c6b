package io.tagcache.test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanIterator;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;

/**
 * Administrative access to a Redis that the harness started, independent of the code and
 * the connection factory under test.
 * <p>
 * Tests must hold for a cluster too, where no single node sees every key or script. So
 * the node-local operations here ({@link #scan}, {@link #scriptFlush}, {@link #configSet},
 * {@link #dbSize}) run against every master, while {@link #sync} offers ordinary commands
 * routed by key. Obtain an instance from {@link RedisTopology#admin()}.
 */
public final class RedisAdmin implements AutoCloseable {

	private static final int SCAN_COUNT = 1000;

	private final AbstractRedisClient client;

	private final StatefulConnection<String, String> connection;

	private final RedisClusterCommands<String, String> commands;

	private final Supplier<List<RedisClusterCommands<String, String>>> masters;

	private RedisAdmin(AbstractRedisClient client, StatefulConnection<String, String> connection,
			RedisClusterCommands<String, String> commands, Supplier<List<RedisClusterCommands<String, String>>> masters) {
		this.client = client;
		this.connection = connection;
		this.commands = commands;
		this.masters = masters;
	}

	static RedisAdmin standalone(RedisURI node) {
		RedisClient client = RedisClient.create(node);
		return connect(client, () -> {
			StatefulRedisConnection<String, String> connection = client.connect();
			return new RedisAdmin(client, connection, connection.sync(), () -> List.of(connection.sync()));
		});
	}

	static RedisAdmin cluster(List<RedisURI> nodes) {
		RedisClusterClient client = RedisClusterClient.create(nodes);
		return connect(client, () -> {
			StatefulRedisClusterConnection<String, String> connection = client.connect();
			return new RedisAdmin(client, connection, connection.sync(), () -> connection.getPartitions()
				.stream()
				.filter((node) -> node.getRole().isUpstream())
				.<RedisClusterCommands<String, String>>map((node) -> connection.getConnection(node.getNodeId()).sync())
				.toList());
		});
	}

	private static RedisAdmin connect(AbstractRedisClient client, Supplier<RedisAdmin> connector) {
		try {
			return connector.get();
		}
		catch (RuntimeException ex) {
			shutdown(client);
			throw ex;
		}
	}

	/**
	 * Find keys with {@code SCAN ... MATCH pattern COUNT 1000} on every master (never
	 * {@code KEYS}, which production code must not use either).
	 * @param matchPattern a glob-style pattern such as {@code "tagcache:*"}
	 * @return the matching keys, each once
	 */
	public List<String> scan(String matchPattern) {
		ScanArgs args = ScanArgs.Builder.matches(matchPattern).limit(SCAN_COUNT);
		return masters().stream().flatMap((master) -> ScanIterator.scan(master, args).stream()).distinct().toList();
	}

	/**
	 * Remove every cached Lua script from every master, as after a restart or failover,
	 * to check that scripts are reloaded on {@code NOSCRIPT}.
	 */
	public void scriptFlush() {
		masters().forEach(RedisClusterCommands::scriptFlush);
	}

	/**
	 * Whether every master has the script with this SHA-1 digest in its script cache.
	 * @param sha1 the digest {@code EVALSHA} uses
	 * @return true when {@code SCRIPT EXISTS} answers yes on every master
	 */
	public boolean scriptCachedOnEveryMaster(String sha1) {
		return masters().stream().allMatch(master -> master.scriptExists(sha1).get(0));
	}

	/**
	 * Run a command on every master, e.g. {@code CLIENT KILL TYPE pubsub}.
	 * @param action what to run on each
	 */
	public void onEveryMaster(java.util.function.Consumer<RedisClusterCommands<String, String>> action) {
		masters().forEach(action);
	}

	/**
	 * Change a setting with {@code CONFIG SET} on every master.
	 * @param parameter the parameter, e.g. {@code "maxmemory-policy"}
	 * @param value its new value
	 */
	public void configSet(String parameter, String value) {
		masters().forEach((master) -> master.configSet(parameter, value));
	}

	/**
	 * The number of keys, summed over all masters.
	 * @return the total {@code DBSIZE}
	 */
	public long dbSize() {
		return masters().stream().mapToLong(RedisClusterCommands::dbsize).sum();
	}

	/**
	 * How often each command ran since the last {@link #resetStats()}, summed over all masters,
	 * from {@code INFO commandstats}: the way to prove which commands an operation sends.
	 * @return calls by lower-case command name, e.g. {@code "hmget" -> 10}
	 */
	public Map<String, Long> commandCalls() {
		Map<String, Long> calls = new TreeMap<>();
		for (RedisClusterCommands<String, String> master : masters()) {
			for (String line : master.info("commandstats").split("\r?\n")) {
				if (line.startsWith("cmdstat_")) {
					// cmdstat_hmget:calls=100,usec=52,usec_per_call=0.52,rejected_calls=0,failed_calls=0
					String command = line.substring("cmdstat_".length(), line.indexOf(':'));
					String callsField = line.substring(line.indexOf(':') + 1).split(",")[0];
					long count = Long.parseLong(callsField.substring("calls=".length()));
					calls.merge(command, count, Long::sum);
				}
			}
		}
		return calls;
	}

	/**
	 * Reset the command statistics ({@code CONFIG RESETSTAT}) and the slow log on every master.
	 */
	public void resetStats() {
		masters().forEach((master) -> {
			master.configResetstat();
			master.slowlogReset();
		});
	}

	/**
	 * The durations of the commands in the slow log of every master, in microseconds; only
	 * commands slower than {@code slowlog-log-slower-than} are logged.
	 * @return the durations, longest first
	 */
	public List<Long> slowlogMicros() {
		return masters().stream()
			.flatMap((master) -> master.slowlogGet(1024).stream())
			.map((entry) -> (Long) ((List<?>) entry).get(2))
			.sorted(java.util.Comparator.reverseOrder())
			.toList();
	}

	/**
	 * Run ordinary commands, routed by key on a cluster.
	 * @param <T> the result type
	 * @param action the commands to run, e.g. {@code (redis) -> redis.ttl(key)}
	 * @return the action's result
	 */
	public <T> T sync(Function<RedisClusterCommands<String, String>, T> action) {
		return action.apply(this.commands);
	}

	/**
	 * The cluster hash slot of a key, honouring {@code {hash tags}}.
	 * @param key the key
	 * @return the slot, between 0 and 16383
	 */
	public int slotOf(String key) {
		return SlotHash.getSlot(key);
	}

	@Override
	public void close() {
		this.connection.close();
		shutdown(this.client);
	}

	private List<RedisClusterCommands<String, String>> masters() {
		return this.masters.get();
	}

	private static void shutdown(AbstractRedisClient client) {
		client.shutdown(Duration.ZERO, RedisConnections.COMMAND_TIMEOUT);
	}

}
