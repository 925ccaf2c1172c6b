package io.tagcache.metrics;

import java.time.Duration;
import java.util.List;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TestCaches;
import io.tagcache.test.RedisServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.cache.metrics.CacheMetricsRegistrar;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The meters that only move while Redis is gone: absorbed errors per operation, failed round
 * trips, pending invalidations and their overflows. Uses a Redis server of its own, which it kills.
 */
class TagCacheMetricsOutageIntegrationTests {

	private static final Tag MANAGER_TAG = Tag.of("cache.manager", "tagcache");

	private final MeterRegistry registry = new SimpleMeterRegistry();

	private RedisServer server;

	private LettuceConnectionFactory connectionFactory;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache users;

	@BeforeEach
	void startRedis() {
		this.server = RedisServer.start();
		this.connectionFactory = TestCaches.failFastConnectionFactory(this.server);
		this.manager = TestCaches.manager(this.connectionFactory,
				builder -> builder.coolDown(Duration.ofMinutes(1))
					.pendingInvalidationLimit(2)
					.operationListener(new TagCacheRedisMetrics(this.registry, Tags.of(MANAGER_TAG))));
		this.users = this.manager.getCache("users");
		new CacheMetricsRegistrar(this.registry, List.of(new TaggedCacheMeterBinderProvider()))
			.bindCacheToRegistry(this.users, MANAGER_TAG);
		new TaggedCacheManagerMetrics(this.manager, Tags.of(MANAGER_TAG)).bindTo(this.registry);
	}

	@AfterEach
	void stopRedis() {
		this.connectionFactory.destroy();
		this.server.close();
	}

	@Test
	void absorbedFailuresAreCountedPerOperationAndTimedAsFailures() {
		this.users.put(1L, "alice", List.of("user-1"));
		this.server.kill();

		assertThat(this.users.get(1L)).isNull();
		assertThat(errors("get")).isEqualTo(1);
		assertThat(this.registry.get("cache.gets").tags("name", "users", "result", "miss").functionCounter().count())
			.isEqualTo(1);
		assertThat(this.registry.get(TagCacheRedisMetrics.METER_NAME)
			.tags("operation", "get", "outcome", "failure")
			.timer()
			.count()).isEqualTo(1);

		this.users.put(2L, "bob", List.of("user-2"));
		assertThat(errors("put")).isEqualTo(1);
		assertThat(this.users.readFence(1L)).isEqualTo(RedisTaggedCache.UNKNOWN_FENCE);
		assertThat(errors("fence")).isEqualTo(1);
		assertThat(this.manager.isRedisAvailable()).as("three failures open the circuit").isFalse();

		assertThat(this.users.get(1L)).isNull();
		assertThat(errors("get")).as("a call that skips Redis is counted too").isEqualTo(2);
		assertThat(this.registry.get(TagCacheRedisMetrics.METER_NAME)
			.tags("operation", "get", "outcome", "failure")
			.timer()
			.count()).as("but was no round trip").isEqualTo(1);
	}

	@Test
	void pendingInvalidationsAndOverflowsAreMeasured() {
		this.server.kill();
		this.users.evict(1L);
		assertThat(errors("evict")).isEqualTo(1);
		assertThat(pending()).isEqualTo(1);
		this.users.invalidateTags(List.of("user-1"));
		assertThat(errors("invalidate")).isEqualTo(1);
		assertThat(pending()).isEqualTo(2);
		assertThat(overflows()).isZero();

		this.users.clear();
		assertThat(errors("clear")).isEqualTo(1);
		assertThat(overflows()).as("a third invalidation overflows a queue of two").isEqualTo(1);
		assertThat(pending()).as("a marker holds Redis back until the caches are cleared").isEqualTo(1);
	}

	private double errors(String operation) {
		return this.registry.get("tagcache.errors")
			.tags("name", "users", "operation", operation)
			.functionCounter()
			.count();
	}

	private double pending() {
		return this.registry.get("tagcache.invalidations.pending").gauge().value();
	}

	private double overflows() {
		return this.registry.get("tagcache.invalidations.overflows").functionCounter().count();
	}

}
