package io.tagcache.redis;

import java.util.UUID;
import java.util.function.UnaryOperator;

import io.tagcache.test.RedisTopology;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Managers on a key prefix of their own, so that tests sharing a Redis never see each other's keys.
 */
final class TestCaches {

	private TestCaches() {
	}

	static String uniquePrefix() {
		return "t" + UUID.randomUUID().toString().substring(0, 8);
	}

	static RedisTaggedCacheManager manager(RedisTopology redis) {
		return manager(redis.connectionFactory(), UnaryOperator.identity());
	}

	static RedisTaggedCacheManager manager(RedisTopology redis,
			UnaryOperator<RedisTaggedCacheManager.Builder> customizer) {
		return manager(redis.connectionFactory(), customizer);
	}

	static RedisTaggedCacheManager manager(LettuceConnectionFactory connectionFactory,
			UnaryOperator<RedisTaggedCacheManager.Builder> customizer) {
		RedisTaggedCacheManager.Builder builder = RedisTaggedCacheManager.builder(connectionFactory)
			.keyPrefix(uniquePrefix())
			.allowedTypes(TypeAllowList.jdkValueTypes().and("io.tagcache"));
		return customizer.apply(builder).build();
	}

	record Location(long id, String name) {
	}

	record User(long id, String mail, Location location) {
	}

}
