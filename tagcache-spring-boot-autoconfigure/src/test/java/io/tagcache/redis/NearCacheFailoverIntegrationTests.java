package io.tagcache.redis;

import java.time.Duration;
import java.util.List;

import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.SlotHash;
import io.tagcache.test.RedisCluster;
import io.tagcache.test.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.RedisClusterConfiguration;
import org.springframework.data.redis.connection.RedisNode;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A near cache across a failover of the master that holds its cache's slot, on a 3-master cluster of
 * the test's own with one replica: the subscription on the old master may miss what the new one
 * publishes, so the near cache is cleared and subscribes on the new master; an invalidation by
 * another instance after the failover reaches it, and nothing it kept before is served after it.
 */
class NearCacheFailoverIntegrationTests {

	private static final int SLOTS = 16384;

	private final NearCacheRow row = new NearCacheRow();

	private RedisCluster cluster;

	private LettuceConnectionFactory oneConnections;

	private LettuceConnectionFactory otherConnections;

	private RedisTaggedCacheManager one;

	private RedisTaggedCacheManager other;

	@BeforeEach
	void start() {
		this.cluster = RedisCluster.start();
		this.oneConnections = connectionFactory();
		this.otherConnections = connectionFactory();
		String prefix = TestCaches.uniquePrefix();
		this.one = NearCacheRow.manager(this.oneConnections, prefix);
		this.other = NearCacheRow.manager(this.otherConnections, prefix);
		await().atMost(Duration.ofSeconds(10)).until(() -> this.one.getCache("users").isNearCacheServing());
	}

	@AfterEach
	void stop() {
		if (this.one != null) {
			this.one.destroy();
			this.other.destroy();
		}
		if (this.oneConnections != null) {
			this.oneConnections.destroy();
			this.otherConnections.destroy();
		}
		this.cluster.close();
	}

	/** With adaptive topology refresh, as a production cluster client has it: Lettuce follows the failover. */
	private LettuceConnectionFactory connectionFactory() {
		RedisClusterConfiguration configuration = new RedisClusterConfiguration();
		this.cluster.nodes().forEach(node -> configuration.addClusterNode(new RedisNode(node.getHost(), node.getPort())));
		LettuceClientConfiguration client = LettuceClientConfiguration.builder()
			.commandTimeout(Duration.ofSeconds(5))
			.shutdownQuietPeriod(Duration.ZERO)
			.clientOptions(ClusterClientOptions.builder()
				.topologyRefreshOptions(ClusterTopologyRefreshOptions.builder().enableAllAdaptiveRefreshTriggers().build())
				.build())
			.build();
		LettuceConnectionFactory factory = new LettuceConnectionFactory(configuration, client);
		factory.afterPropertiesSet();
		factory.start();
		return factory;
	}

	@Test
	void afterAFailoverOfTheCachesMasterInvalidationsStillReachTheNearCache() {
		RedisTaggedCache users = this.one.getCache("users");
		this.row.set("Ada");
		assertThat(this.row.read(this.one)).isEqualTo("Ada");
		assertThat(users.nearCache().get("1", String.class, 0)).as("kept near").isNotNull();
		long clears = users.getStatistics().getNearCacheClears();

		// the master of the slot of the cache's keys ({users}) fails over to its new replica
		int master = SlotHash.getSlot("users") * 3 / SLOTS;
		RedisServer replica = this.cluster.addReplica(master);
		this.cluster.failover(replica);

		await().atMost(Duration.ofSeconds(20))
			.until(() -> users.getStatistics().getNearCacheClears() > clears && users.isNearCacheServing());
		this.row.set("Ada Lovelace");
		await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
			this.other.invalidate(List.of("user-1"));
			return this.other.getPendingInvalidations() == 0 && this.other.isRedisAvailable();
		});
		await().atMost(Duration.ofSeconds(2)).until(() -> this.row.read(this.one).equals("Ada Lovelace"));

		long hits = users.getStatistics().getNearCacheGets("hit");
		assertThat(this.row.read(this.one)).isEqualTo("Ada Lovelace");
		assertThat(users.getStatistics().getNearCacheGets("hit")).as("kept near again").isEqualTo(hits + 1);
		this.row.set("once more");
		this.other.invalidate(List.of("user-1"));
		await().atMost(Duration.ofSeconds(2)).until(() -> this.row.read(this.one).equals("once more"));
	}

}
