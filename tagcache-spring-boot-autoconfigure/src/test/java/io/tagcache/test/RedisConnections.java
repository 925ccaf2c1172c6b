package io.tagcache.test;

import java.time.Duration;
import java.util.List;

import io.lettuce.core.RedisURI;

import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisConfiguration;
import org.springframework.data.redis.connection.RedisNode;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * The one place that decides how the harness talks to Redis, so that every server,
 * cluster and admin client uses the same short timeout: a test against a Redis that is
 * down should fail (or observe the failure) in seconds, not after Lettuce's default
 * minute.
 */
final class RedisConnections {

	/** Command timeout for every connection the harness creates. */
	static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);

	private RedisConnections() {
	}

	static RedisURI uri(String host, int port) {
		return RedisURI.builder().withHost(host).withPort(port).withTimeout(COMMAND_TIMEOUT).build();
	}

	static RedisStandaloneConfiguration standalone(RedisURI node) {
		return new RedisStandaloneConfiguration(node.getHost(), node.getPort());
	}

	static RedisClusterConfiguration cluster(List<RedisURI> nodes) {
		RedisClusterConfiguration configuration = new RedisClusterConfiguration();
		nodes.forEach((node) -> configuration.addClusterNode(new RedisNode(node.getHost(), node.getPort())));
		return configuration;
	}

	/**
	 * Create a {@link LettuceConnectionFactory} that is ready to use outside an
	 * application context, where nobody else would call its lifecycle methods. The
	 * caller owns it and must {@link LettuceConnectionFactory#destroy() destroy} it.
	 */
	static LettuceConnectionFactory newConnectionFactory(RedisConfiguration configuration) {
		LettuceClientConfiguration client = LettuceClientConfiguration.builder()
			.commandTimeout(COMMAND_TIMEOUT)
			.shutdownQuietPeriod(Duration.ZERO)
			.build();
		LettuceConnectionFactory factory = new LettuceConnectionFactory(configuration, client);
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

}
