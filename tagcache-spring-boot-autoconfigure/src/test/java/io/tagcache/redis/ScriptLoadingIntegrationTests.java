package io.tagcache.redis;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.tagcache.test.RedisServer;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The scripts are loaded into every node when the manager starts, so that no user's first write
 * compiles one; until then (or without it) the first call of each script falls back to {@code EVAL}.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class ScriptLoadingIntegrationTests {

	@Parameter
	RedisTopology redis;

	@Test
	void loadScriptsPutsEveryScriptOnEveryMaster() throws Exception {
		this.redis.admin().scriptFlush();
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		manager.loadScripts().get(10, TimeUnit.SECONDS);
		assertThat(Arrays.stream(TagCacheScript.values()).map(TagCacheScript::sha1))
			.allMatch(this.redis.admin()::scriptCachedOnEveryMaster);

		this.redis.admin().resetStats();
		RedisTaggedCache cache = manager.getCache("users");
		cache.put(1L, "alice", List.of("user-1"));
		cache.invalidateTags(List.of("user-1"));
		assertThat(this.redis.admin().commandCalls()).doesNotContainKey("eval");
	}

	@Test
	void theManagerLoadsTheScriptsWhenTheContextHasStarted() {
		this.redis.admin().scriptFlush();
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		manager.afterSingletonsInstantiated();
		await().atMost(Duration.ofSeconds(10))
			.until(() -> this.redis.admin().scriptCachedOnEveryMaster(TagCacheScript.INVALIDATE.sha1()));
	}

	@Test
	void aManagerStartsWhenRedisCannotBeReached() {
		RedisServer server = RedisServer.start();
		LettuceConnectionFactory connectionFactory = TestCaches.failFastConnectionFactory(server);
		try {
			server.kill();
			RedisTaggedCacheManager manager = RedisTaggedCacheManager.builder(connectionFactory).build();
			manager.afterSingletonsInstantiated();
			assertThat(manager.loadScripts()).failsWithin(Duration.ofSeconds(10));
			assertThat(manager.getCache("users").get(1L)).as("the cache still answers, with a miss").isNull();
		}
		finally {
			connectionFactory.destroy();
			server.stop();
		}
	}

}
