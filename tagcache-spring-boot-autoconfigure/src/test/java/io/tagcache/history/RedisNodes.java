package io.tagcache.history;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.lettuce.core.ClientOptions.DisconnectedBehavior;
import io.lettuce.core.KillArgs;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.tagcache.redis.TestCaches;
import io.tagcache.test.RedisCluster;
import io.tagcache.test.RedisServer;

import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisNode;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * The Redis of a history test, started by the test and reached on every master by an
 * administrative connection of its own, which injects the faults. The application
 * instances get connection factories that reconnect by themselves, reject commands while
 * disconnected and time out quickly, so that a fault costs them a short failure rather than
 * a queue of stuck commands.
 */
final class RedisNodes implements AutoCloseable {

	/** The command timeout of the application instances: short, as the faults last longer. */
	static final Duration COMMAND_TIMEOUT = Duration.ofMillis(500);

	private final RedisServer server;

	private final RedisCluster cluster;

	private final List<RedisClient> clients = new ArrayList<>();

	private final List<StatefulRedisConnection<String, String>> connections = new ArrayList<>();

	private RedisNodes(RedisServer server, RedisCluster cluster) {
		this.server = server;
		this.cluster = cluster;
		try {
			for (RedisServer node : servers()) {
				RedisClient client = RedisClient.create(node.uri());
				this.clients.add(client);
				this.connections.add(client.connect());
			}
		}
		catch (RuntimeException ex) {
			close();
			throw ex;
		}
	}

	static RedisNodes standalone() {
		return new RedisNodes(RedisServer.start(), null);
	}

	static RedisNodes cluster() {
		return new RedisNodes(null, RedisCluster.start());
	}

	boolean isCluster() {
		return this.cluster != null;
	}

	/**
	 * A started connection factory for one application instance; the caller destroys it.
	 * @return the connection factory
	 */
	LettuceConnectionFactory newConnectionFactory() {
		if (this.server != null) {
			return TestCaches.failFastConnectionFactory(this.server, COMMAND_TIMEOUT);
		}
		RedisClusterConfiguration configuration = new RedisClusterConfiguration();
		this.cluster.servers()
			.forEach((node) -> configuration.addClusterNode(new RedisNode(node.host(), node.port())));
		LettuceClientConfiguration client = LettuceClientConfiguration.builder()
			.commandTimeout(COMMAND_TIMEOUT)
			.shutdownQuietPeriod(Duration.ZERO)
			.clientOptions(ClusterClientOptions.builder()
				.disconnectedBehavior(DisconnectedBehavior.REJECT_COMMANDS)
				.build())
			.build();
		LettuceConnectionFactory connectionFactory = new LettuceConnectionFactory(configuration, client);
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		return connectionFactory;
	}

	/** {@code SCRIPT FLUSH} on every master. */
	void scriptFlush() {
		masters().forEach(RedisCommands::scriptFlush);
	}

	/**
	 * {@code CLIENT KILL TYPE normal} on every master: every connection of the application
	 * instances (the administrative one is spared, as {@code SKIPME} defaults to yes).
	 */
	void killClients() {
		masters().forEach((master) -> {
			master.clientKill(KillArgs.Builder.typeNormal());
			// the subscriptions of near caches, in the runs that have them
			master.clientKill(KillArgs.Builder.typePubsub());
		});
	}

	/**
	 * {@code CLIENT PAUSE <ms>} (mode {@code ALL}, the default) on every master: Redis keeps
	 * its connections and data but answers nobody for a while.
	 * @param duration how long
	 */
	void pause(Duration duration) {
		masters().forEach((master) -> master.clientPause(duration.toMillis()));
	}

	/**
	 * Restart the standalone server on its port; the new process starts empty.
	 */
	void restart() {
		if (this.server == null) {
			throw new IllegalStateException("Only a standalone server is restarted");
		}
		this.server.restart();
	}

	@Override
	public void close() {
		this.connections.forEach(StatefulRedisConnection::close);
		this.clients.forEach((client) -> client.shutdown(Duration.ZERO, Duration.ofSeconds(2)));
		if (this.server != null) {
			this.server.close();
		}
		if (this.cluster != null) {
			this.cluster.close();
		}
	}

	@Override
	public String toString() {
		return isCluster() ? "cluster" : "standalone";
	}

	private List<RedisServer> servers() {
		return (this.server != null) ? List.of(this.server) : this.cluster.servers();
	}

	private List<RedisCommands<String, String>> masters() {
		return this.connections.stream().map(StatefulRedisConnection::sync).toList();
	}

}
