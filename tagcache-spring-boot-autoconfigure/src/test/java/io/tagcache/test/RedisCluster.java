package io.tagcache.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.lettuce.core.RedisURI;

import static org.awaitility.Awaitility.await;

/**
 * A Redis Cluster of three local {@code redis-server} masters without replicas: each master is
 * given a third of the slots ({@code CLUSTER ADDSLOTS}) and the first meets the others
 * ({@code CLUSTER MEET}), what {@code redis-cli --cluster create} does, so no {@code redis-cli} is
 * needed.
 * <p>
 * It is the smallest real cluster, and enough to catch code that silently assumes one
 * node holds every key: multi-key commands across slots, {@code SCAN} or scripts run
 * against a single node. Each node is a {@link RedisServer} with its own temporary
 * directory (holding its {@code nodes.conf}). Docker is never used here: cluster nodes
 * announce addresses that must be reachable from the tests, which a local process
 * guarantees and a container's port mapping does not.
 */
public final class RedisCluster implements AutoCloseable {

	static final String CLUSTER_TOOLS_MISSING = "The cluster integration tests need a local redis-server (Docker is "
			+ "not used for the cluster): install redis-server (e.g. `apt-get install redis-server`), or run on a "
			+ "platform whose redis-server the embedded-redis test dependency ships.";

	private static final int SLOTS = 16384;

	private static final int MASTERS = 3;

	private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(30);

	private final List<RedisServer> servers = new ArrayList<>();

	private final List<RedisServer> replicas = new ArrayList<>();

	private RedisCluster() {
	}

	/**
	 * Start the three masters, join them into a cluster and wait until every node
	 * reports {@code cluster_state:ok} with all 16384 slots assigned.
	 * @return the running cluster, to be {@linkplain #close() closed} by the caller
	 */
	public static RedisCluster start() {
		if (!RedisServer.isAvailable()) {
			throw new IllegalStateException(CLUSTER_TOOLS_MISSING);
		}
		RedisCluster cluster = new RedisCluster();
		try {
			for (int i = 0; i < MASTERS; i++) {
				cluster.servers.add(RedisServer.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
						"--cluster-node-timeout", "5000"));
			}
			cluster.create();
			await().alias("every node of " + cluster + " reports cluster_state:ok with all slots assigned")
				.atMost(STARTUP_TIMEOUT)
				.pollDelay(Duration.ZERO)
				.pollInterval(Duration.ofMillis(50))
				.until(() -> cluster.servers.stream().allMatch(RedisCluster::isReady));
			return cluster;
		}
		catch (RuntimeException ex) {
			cluster.close();
			throw ex;
		}
	}

	/**
	 * The URIs of the masters, e.g. to seed a cluster client.
	 * @return the nodes in the order they were started
	 */
	public List<RedisURI> nodes() {
		return this.servers.stream().map(RedisServer::uri).toList();
	}

	/**
	 * The masters' processes, e.g. to inspect or stop a single node.
	 * @return the servers in the order they were started
	 */
	public List<RedisServer> servers() {
		return List.copyOf(this.servers);
	}

	/**
	 * Start a replica of one master, join it to the cluster and wait until it is in sync. For a
	 * cluster of a test's own: the shared one must keep its three masters.
	 * @param master the index of the master in {@link #servers()}
	 * @return the replica
	 */
	public RedisServer addReplica(int master) {
		RedisServer replica = RedisServer.start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
				"--cluster-node-timeout", "5000");
		this.replicas.add(replica);
		RedisServer primary = this.servers.get(master);
		try {
			String primaryId = primary.call("CLUSTER", "MYID").trim();
			replica.call("CLUSTER", "MEET", primary.host(), String.valueOf(primary.port()));
			await().alias(replica + " knows " + primary)
				.atMost(STARTUP_TIMEOUT)
				.pollInterval(Duration.ofMillis(50))
				.until(() -> replica.call("CLUSTER", "NODES").contains(primaryId));
			replica.call("CLUSTER", "REPLICATE", primaryId);
			await().alias(replica + " in sync with " + primary)
				.atMost(STARTUP_TIMEOUT)
				.pollInterval(Duration.ofMillis(50))
				.until(() -> replica.call("INFO", "replication").contains("master_link_status:up"));
			return replica;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not add a replica of " + primary, ex);
		}
	}

	/**
	 * A manual failover ({@code CLUSTER FAILOVER}): the replica takes its master's slots over, and the
	 * master becomes its replica. Waits until the replica is a master that every node agrees on.
	 * @param replica a replica added with {@link #addReplica(int)}
	 */
	public void failover(RedisServer replica) {
		try {
			replica.call("CLUSTER", "FAILOVER");
			String replicaId = replica.call("CLUSTER", "MYID").trim();
			await().alias(replica + " is a master for every node")
				.atMost(STARTUP_TIMEOUT)
				.pollInterval(Duration.ofMillis(50))
				.until(() -> replica.call("INFO", "replication").contains("role:master") && this.servers.stream()
					.allMatch(node -> masterLine(node, replicaId)));
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not fail over to " + replica, ex);
		}
	}

	private static boolean masterLine(RedisServer node, String nodeId) {
		try {
			return node.call("CLUSTER", "NODES")
				.lines()
				.anyMatch(line -> line.startsWith(nodeId) && line.contains("master") && !line.contains("fail"));
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Stop every node and delete their directories.
	 */
	@Override
	public void close() {
		this.replicas.forEach(RedisServer::close);
		this.servers.forEach(RedisServer::close);
	}

	@Override
	public String toString() {
		return "Redis Cluster " + this.servers.stream().map((server) -> server.host() + ":" + server.port()).toList();
	}

	private void create() {
		try {
			for (int i = 0; i < MASTERS; i++) {
				int first = SLOTS * i / MASTERS;
				int last = SLOTS * (i + 1) / MASTERS - 1;
				List<String> command = new ArrayList<>(List.of("CLUSTER", "ADDSLOTS"));
				for (int slot = first; slot <= last; slot++) {
					command.add(String.valueOf(slot));
				}
				this.servers.get(i).call(command.toArray(String[]::new));
			}
			RedisServer first = this.servers.get(0);
			for (RedisServer other : this.servers.subList(1, MASTERS)) {
				first.call("CLUSTER", "MEET", other.host(), String.valueOf(other.port()));
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not create " + this, ex);
		}
	}

	private static boolean isReady(RedisServer node) {
		try {
			String info = node.call("CLUSTER", "INFO");
			return info.contains("cluster_state:ok") && info.contains("cluster_slots_assigned:16384")
					&& info.contains("cluster_known_nodes:" + MASTERS);
		}
		catch (IOException ex) {
			return false;
		}
	}

}
