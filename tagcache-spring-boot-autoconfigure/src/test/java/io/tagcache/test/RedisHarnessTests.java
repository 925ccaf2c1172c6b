package io.tagcache.test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import io.lettuce.core.cluster.models.partitions.ClusterPartitionParser;
import io.lettuce.core.cluster.models.partitions.Partitions;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tests for the Redis test harness itself.
 */
class RedisHarnessTests {

	@Nested
	@ParameterizedClass
	@EnumSource(RedisTopology.class)
	class EveryTopology {

		@Parameter
		RedisTopology redis;

		@Test
		void sharedConnectionFactoryAnswersSetAndGet() {
			StringRedisTemplate template = template(this.redis.connectionFactory());
			String key = uniqueKey("{a}");
			template.opsForValue().set(key, "value");
			assertThat(template.opsForValue().get(key)).isEqualTo("value");
			String seenByAdmin = this.redis.admin().sync((commands) -> commands.get(key));
			assertThat(seenByAdmin).isEqualTo("value");
		}

		@Test
		void newConnectionFactoryIsOwnedByTheCaller() {
			LettuceConnectionFactory connectionFactory = this.redis.newConnectionFactory();
			try {
				assertThat(connectionFactory).isNotSameAs(this.redis.connectionFactory());
				assertThat(connectionFactory.isRunning()).isTrue();
				assertThat(connectionFactory.isClusterAware()).isEqualTo(this.redis == RedisTopology.CLUSTER);
			}
			finally {
				connectionFactory.destroy();
			}
		}

		@Test
		void adminScansEveryMaster() {
			String prefix = uniqueKey("scan");
			List<String> keys = IntStream.range(0, 20).mapToObj((i) -> "{" + i + "}" + prefix).toList();
			StringRedisTemplate template = template(this.redis.connectionFactory());
			keys.forEach((key) -> template.opsForValue().set(key, "value"));
			assertThat(this.redis.admin().scan("*" + prefix)).containsExactlyInAnyOrderElementsOf(keys);
			assertThat(this.redis.admin().dbSize()).isGreaterThanOrEqualTo(keys.size());
		}

	}

	@Test
	void clusterSpreadsHashTagsOverSeveralMasters() {
		RedisAdmin admin = RedisTopology.CLUSTER.admin();
		String clusterNodes = admin.sync(RedisClusterCommands::clusterNodes);
		Partitions partitions = ClusterPartitionParser.parse(clusterNodes);
		assertThat(partitions).hasSize(3).allMatch((node) -> node.getRole().isUpstream());
		Set<String> owners = Set.of("{user:1}", "{user:2}", "{user:3}", "{user:4}", "{user:5}")
			.stream()
			.map((tag) -> partitions.getPartitionBySlot(admin.slotOf(tag + "key")))
			.map(RedisClusterNode::getNodeId)
			.collect(Collectors.toSet());
		assertThat(owners).hasSizeGreaterThanOrEqualTo(2);
	}

	@Test
	void serverRestartsOnTheSamePortAndClientsReconnect() {
		try (RedisServer server = RedisServer.start()) {
			LettuceConnectionFactory connectionFactory = server.newConnectionFactory();
			try {
				StringRedisTemplate template = template(connectionFactory);
				template.opsForValue().set("before", "crash");
				int port = server.port();
				server.kill();
				assertThat(server.isRunning()).isFalse();
				server.restart();
				assertThat(server.isRunning()).isTrue();
				assertThat(server.port()).isEqualTo(port);
				await().atMost(Duration.ofSeconds(10)).ignoreExceptions().untilAsserted(() -> {
					template.opsForValue().set("after", "restart");
					assertThat(template.opsForValue().get("after")).isEqualTo("restart");
				});
				assertThat(template.hasKey("before")).as("a restarted server starts empty").isFalse();
			}
			finally {
				connectionFactory.destroy();
			}
			server.close();
			assertThat(server.isRunning()).isFalse();
			assertThat(server.directory()).doesNotExist();
		}
	}

	private static StringRedisTemplate template(LettuceConnectionFactory connectionFactory) {
		StringRedisTemplate template = new StringRedisTemplate(connectionFactory);
		template.afterPropertiesSet();
		return template;
	}

	private static String uniqueKey(String prefix) {
		return prefix + ":harness:" + UUID.randomUUID();
	}

}
