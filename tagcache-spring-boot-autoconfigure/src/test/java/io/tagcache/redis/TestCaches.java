package io.tagcache.redis;

import java.time.Duration;
import java.util.UUID;
import java.util.function.UnaryOperator;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.ClientOptions.DisconnectedBehavior;
import io.tagcache.test.RedisServer;
import io.tagcache.test.RedisTopology;

import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Managers on a key prefix of their own, so that tests sharing a Redis never see each other's keys.
 * Public for the tests of the packages built on the engine (metrics, actuator).
 */
public final class TestCaches {

	private TestCaches() {
	}

	public static String uniquePrefix() {
		return "t" + UUID.randomUUID().toString().substring(0, 8);
	}

	public static RedisTaggedCacheManager manager(RedisTopology redis) {
		return manager(redis.connectionFactory(), UnaryOperator.identity());
	}

	public static RedisTaggedCacheManager manager(RedisTopology redis,
			UnaryOperator<RedisTaggedCacheManager.Builder> customizer) {
		return manager(redis.connectionFactory(), customizer);
	}

	public static RedisTaggedCacheManager manager(LettuceConnectionFactory connectionFactory,
			UnaryOperator<RedisTaggedCacheManager.Builder> customizer) {
		RedisTaggedCacheManager.Builder builder = RedisTaggedCacheManager.builder(connectionFactory)
			.keyPrefix(uniquePrefix())
			.allowedTypes(TypeAllowList.jdkValueTypes().and("io.tagcache"));
		return customizer.apply(builder).build();
	}

	/**
	 * A started connection factory for a server of the test's own that fails fast once the server
	 * is gone: commands are rejected while disconnected instead of queued. The command timeout (5 s)
	 * only matters while Redis is up, so it is generous for a loaded machine. The caller must
	 * {@link LettuceConnectionFactory#destroy() destroy} it.
	 */
	public static LettuceConnectionFactory failFastConnectionFactory(RedisServer server) {
		return failFastConnectionFactory(server, Duration.ofSeconds(5));
	}

	/**
	 * Like {@link #failFastConnectionFactory(RedisServer)}, with the given command timeout: for
	 * tests that make Redis stop answering without disconnecting ({@code CLIENT PAUSE}).
	 */
	public static LettuceConnectionFactory failFastConnectionFactory(RedisServer server, Duration commandTimeout) {
		RedisStandaloneConfiguration standalone = new RedisStandaloneConfiguration(server.host(), server.port());
		LettuceClientConfiguration client = LettuceClientConfiguration.builder()
			.commandTimeout(commandTimeout)
			.shutdownQuietPeriod(Duration.ZERO)
			.clientOptions(ClientOptions.builder().disconnectedBehavior(DisconnectedBehavior.REJECT_COMMANDS).build())
			.build();
		LettuceConnectionFactory connectionFactory = new LettuceConnectionFactory(standalone, client);
		connectionFactory.afterPropertiesSet();
		connectionFactory.start();
		return connectionFactory;
	}

	record Location(long id, String name) {
	}

	record User(long id, String mail, Location location) {
	}

}
