package io.tagcache.redis;

import java.util.List;
import java.util.Map;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A hit is one plain Redis command ({@code GET}) and no script; a put with tags is one script.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class HitPathIntegrationTests {

	@Parameter
	RedisTopology redis;

	@Test
	void aHitIsOneGetAndNoScript() {
		RedisTaggedCache cache = TestCaches.manager(this.redis).getCache("users");
		cache.put(1L, "alice", List.of("user-1", "loc-1", "tenant-A"));
		this.redis.admin().resetStats();
		for (int i = 0; i < 100; i++) {
			assertThat(cache.get(1L)).isNotNull();
		}
		Map<String, Long> calls = this.redis.admin().commandCalls();
		assertThat(calls).containsEntry("get", 100L).doesNotContainKeys("evalsha", "eval", "hmget");
	}

	@Test
	void aPutWithTagsIsOneScript() {
		RedisTaggedCache cache = TestCaches.manager(this.redis).getCache("users");
		cache.put(0L, "warm-up: registers the cache", List.of());
		this.redis.admin().resetStats();
		cache.put(1L, "alice", List.of("user-1", "loc-1", "tenant-A"));
		assertThat(this.redis.admin().commandCalls()).containsEntry("evalsha", 1L).doesNotContainKey("eval");
	}

}
