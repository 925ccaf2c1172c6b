package io.tagcache.test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

import io.lettuce.core.RedisURI;

import org.springframework.data.redis.connection.RedisConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.util.function.SingletonSupplier;

/**
 * The Redis deployments integration tests run against. Each one is started on first use
 * and shared by every test in the JVM (a cluster takes seconds to form), then stopped by
 * a shutdown hook. Run a test class against both with:
 * <pre class="code">
 * &#064;ParameterizedClass
 * &#064;EnumSource(RedisTopology.class)
 * class SomethingIntegrationTests {
 *
 *     &#064;Parameter
 *     RedisTopology redis;
 *
 *     &#064;Test
 *     void works() {
 *         LettuceConnectionFactory connectionFactory = this.redis.connectionFactory();
 *         // ...
 *     }
 *
 * }
 * </pre>
 * <p>
 * As the deployments are shared, tests should use keys of their own rather than flush
 * the data of others.
 * <p>
 * The standalone server is a local {@code redis-server} if one is on the {@code PATH},
 * otherwise a Testcontainers container if Docker is available. The system property
 * {@value #MODE_PROPERTY} (or the environment variable {@value #MODE_VARIABLE}) set to
 * {@code local} or {@code docker} forces either; the default is {@code auto}. The cluster
 * always runs local processes (see {@link RedisCluster}).
 */
public enum RedisTopology {

	/**
	 * A single Redis server.
	 */
	STANDALONE {

		@Override
		List<RedisURI> deploy() {
			return List.of(startStandalone());
		}

		@Override
		RedisConfiguration configuration(List<RedisURI> nodes) {
			return RedisConnections.standalone(nodes.get(0));
		}

		@Override
		RedisAdmin connectAdmin(List<RedisURI> nodes) {
			return RedisAdmin.standalone(nodes.get(0));
		}

	},

	/**
	 * A Redis Cluster of three masters.
	 */
	CLUSTER {

		@Override
		List<RedisURI> deploy() {
			return closeAtShutdown(RedisCluster.start()).nodes();
		}

		@Override
		RedisConfiguration configuration(List<RedisURI> nodes) {
			return RedisConnections.cluster(nodes);
		}

		@Override
		RedisAdmin connectAdmin(List<RedisURI> nodes) {
			return RedisAdmin.cluster(nodes);
		}

	};

	/** Outside the {@code tagcache.} namespace, where an unknown key is reported as a mistake. */
	static final String MODE_PROPERTY = "tagcache-tests.redis";

	static final String MODE_VARIABLE = "REDIS_TEST_MODE";

	private final SingletonSupplier<List<RedisURI>> nodes = SingletonSupplier.of(this::deploy);

	private final SingletonSupplier<LettuceConnectionFactory> connectionFactory = SingletonSupplier.of(() -> {
		LettuceConnectionFactory factory = newConnectionFactory();
		closeAtShutdown(factory::destroy);
		return factory;
	});

	private final SingletonSupplier<RedisAdmin> admin = SingletonSupplier
		.of(() -> closeAtShutdown(connectAdmin(nodes())));

	/**
	 * Start the servers and register them to be stopped at shutdown.
	 */
	abstract List<RedisURI> deploy();

	abstract RedisConfiguration configuration(List<RedisURI> nodes);

	abstract RedisAdmin connectAdmin(List<RedisURI> nodes);

	/**
	 * The URIs of the (master) nodes, starting them if necessary, e.g. to set
	 * {@code spring.data.redis.*} properties.
	 * @return the nodes
	 */
	public List<RedisURI> nodes() {
		return this.nodes.obtain();
	}

	/**
	 * The shared connection factory, started. Do not stop or destroy it: other tests use
	 * it too.
	 * @return the connection factory
	 */
	public LettuceConnectionFactory connectionFactory() {
		return this.connectionFactory.obtain();
	}

	/**
	 * A new started connection factory, for tests that need one of their own (e.g. to
	 * destroy it). The caller must {@link LettuceConnectionFactory#destroy() destroy} it.
	 * @return the connection factory
	 */
	public LettuceConnectionFactory newConnectionFactory() {
		return RedisConnections.newConnectionFactory(configuration(nodes()));
	}

	/**
	 * The shared admin client, reaching every master.
	 * @return the admin client
	 */
	public RedisAdmin admin() {
		return this.admin.obtain();
	}

	@Override
	public String toString() {
		return name().toLowerCase(Locale.ROOT);
	}

	private static RedisURI startStandalone() {
		String mode = System.getProperty(MODE_PROPERTY, Objects.requireNonNullElse(System.getenv(MODE_VARIABLE), "auto"));
		return switch (mode.trim().toLowerCase(Locale.ROOT)) {
			case "local", "embedded" -> closeAtShutdown(RedisServer.start()).uri();
			case "docker" -> closeAtShutdown(DockerRedisServer.start()).uri();
			// Probing Docker is slow and logs errors: only do it without redis-server
			case "auto" -> {
				if (RedisServer.isInstalled()) {
					yield closeAtShutdown(RedisServer.start()).uri();
				}
				if (DockerRedisServer.isDockerAvailable()) {
					yield closeAtShutdown(DockerRedisServer.start()).uri();
				}
				if (RedisServer.isAvailable()) {
					// the redis-server that the embedded-redis test dependency ships
					yield closeAtShutdown(RedisServer.start()).uri();
				}
				throw new IllegalStateException(RedisServer.REDIS_MISSING);
			}
			default -> throw new IllegalStateException(
					"Unknown " + MODE_PROPERTY + " '" + mode + "': use auto, local, embedded or docker");
		};
	}

	private static <T extends AutoCloseable> T closeAtShutdown(T resource) {
		ShutdownHook.register(resource);
		return resource;
	}

	/**
	 * Closes the shared resources, most recently created first, so that clients are
	 * gone before their servers stop.
	 */
	private static final class ShutdownHook {

		private static final Deque<AutoCloseable> resources = new ArrayDeque<>();

		static {
			Runtime.getRuntime().addShutdownHook(new Thread(ShutdownHook::closeAll, "tagcache-redis-shutdown"));
		}

		static synchronized void register(AutoCloseable resource) {
			resources.push(resource);
		}

		private static synchronized void closeAll() {
			while (!resources.isEmpty()) {
				try {
					resources.pop().close();
				}
				catch (Exception ex) {
					// The JVM is exiting: carry on so that no redis-server is left behind
				}
			}
		}

	}

}
