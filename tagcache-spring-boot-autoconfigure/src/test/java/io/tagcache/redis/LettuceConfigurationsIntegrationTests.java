package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.stream.LongStream;

import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisConfiguration;
import org.springframework.data.redis.connection.RedisNode;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.lettuce.LettucePoolingClientConfiguration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every Lettuce set-up Spring Boot can produce works: a shared native connection or not
 * ({@code shareNativeConnection=false}, what users set for blocking-heavy workloads), pooled or not,
 * standalone and cluster. 200 puts and 200 reads through the cache all reach Redis, with no error,
 * and the circuit stays closed.
 */
class LettuceConfigurationsIntegrationTests {

	private LettuceConnectionFactory connectionFactory;

	private RedisTaggedCacheManager manager;

	@AfterEach
	void close() {
		if (this.manager != null) {
			this.manager.destroy();
		}
		if (this.connectionFactory != null) {
			this.connectionFactory.destroy();
		}
	}

	static List<Arguments> configurations() {
		return List.of(RedisTopology.STANDALONE, RedisTopology.CLUSTER)
			.stream()
			.flatMap(topology -> List.of(false, true)
				.stream()
				.flatMap(shared -> List.of(false, true).stream().map(pooled -> Arguments.of(topology, shared, pooled))))
			.toList();
	}

	@ParameterizedTest(name = "{0}, shared native connection: {1}, pooled: {2}")
	@MethodSource("configurations")
	void putsAndReadsReachRedis(RedisTopology redis, boolean shared, boolean pooled) {
		this.connectionFactory = connectionFactory(redis, shared, pooled);
		this.manager = TestCaches.manager(this.connectionFactory, builder -> builder);
		RedisTaggedCache cache = this.manager.getCache("users");

		LongStream.range(0, 200).forEach(id -> cache.put(id, "user " + id, List.of("user-" + id)));
		long hits = LongStream.range(0, 200).filter(id -> cache.get(id) != null).count();
		long asyncHits = LongStream.range(0, 200)
			.filter(id -> cache.retrieve(id).join() != null)
			.count();

		assertThat(cache.getStatistics().getPuts()).isEqualTo(200);
		assertThat(hits).isEqualTo(200);
		assertThat(asyncHits).isEqualTo(200);
		assertThat(cache.getStatistics().getErrors()).isZero();
		assertThat(this.manager.ping()).isEqualTo("PONG");
		assertThat(this.manager.invalidate("user-1")).isOne();
		assertThat(this.manager.isRedisAvailable()).isTrue();
	}

	private static LettuceConnectionFactory connectionFactory(RedisTopology redis, boolean shared, boolean pooled) {
		LettuceClientConfiguration client = pooled
				? LettucePoolingClientConfiguration.builder()
					.poolConfig(new GenericObjectPoolConfig<>())
					.commandTimeout(Duration.ofSeconds(5))
					.shutdownQuietPeriod(Duration.ZERO)
					.build()
				: LettuceClientConfiguration.builder()
					.commandTimeout(Duration.ofSeconds(5))
					.shutdownQuietPeriod(Duration.ZERO)
					.build();
		RedisConfiguration configuration;
		if (redis == RedisTopology.CLUSTER) {
			RedisClusterConfiguration cluster = new RedisClusterConfiguration();
			redis.nodes().forEach(node -> cluster.addClusterNode(new RedisNode(node.getHost(), node.getPort())));
			configuration = cluster;
		}
		else {
			configuration = new RedisStandaloneConfiguration(redis.nodes().get(0).getHost(), redis.nodes().get(0).getPort());
		}
		LettuceConnectionFactory factory = new LettuceConnectionFactory(configuration, client);
		factory.setShareNativeConnection(shared);
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

}
