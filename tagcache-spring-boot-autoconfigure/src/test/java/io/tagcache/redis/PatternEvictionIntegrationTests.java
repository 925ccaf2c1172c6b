package io.tagcache.redis;

import java.util.List;
import java.util.stream.IntStream;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * {@code evictByPattern}: a glob over the cache's own keys, found with {@code SCAN} on every node,
 * removes the matching entries with their tag-index records and nothing else, in every shard; loads
 * in flight are refused as after {@code clear()}; glob characters in the cache name are taken
 * literally.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class PatternEvictionIntegrationTests {

	@Parameter
	RedisTopology redis;

	private RedisTaggedCacheManager manager;

	@AfterEach
	void stop() {
		if (this.manager != null) {
			this.manager.destroy();
		}
	}

	@Test
	void onlyTheMatchingEntriesGoWithTheirIndexRecords() {
		this.manager = TestCaches.manager(this.redis);
		RedisTaggedCache users = this.manager.getCache("users");
		users.put("mail:foo@a", "foo", List.of("user-1"));
		users.put("mail:bar@a", "bar", List.of("user-2"));
		users.put(1L, "foo", List.of("user-1"));
		users.put("mailbox", "not a mail key", List.of("user-3"));

		assertThat(users.evictByPattern("mail:*")).isEqualTo(2);

		assertThat(users.get("mail:foo@a")).isNull();
		assertThat(users.get("mail:bar@a")).isNull();
		assertThat(users.get(1L)).isNotNull();
		assertThat(users.get("mailbox")).isNotNull();
		assertThat(users.countEntriesWithTag("user-1")).as("the record of the removed entry went with it").isEqualTo(1);
		assertThat(users.countEntriesWithTag("user-2")).isZero();
		assertThat(users.getStatistics().getEvictions()).isEqualTo(2);
	}

	@Test
	void aLoadInFlightIsRefusedAsAfterClear() {
		this.manager = TestCaches.manager(this.redis);
		RedisTaggedCache users = this.manager.getCache("users");
		long fence = users.readFence("session:1");
		users.evictByPattern("session:*");
		assertThat(users.putFenced("session:1", "loaded before", List.of("s-1"), null, fence)).isFalse();
		assertThat(users.putFenced("session:1", "loaded after", List.of("s-1"), null, users.readFence("session:1")))
			.isTrue();
	}

	@Test
	void everyShardIsSearchedAndGlobCharactersOfTheCacheNameAreLiteral() {
		this.manager = TestCaches.manager(this.redis, builder -> builder.withCache("a*b",
				RedisTaggedCacheConfiguration.defaultConfig().withShards(3)));
		RedisTaggedCache sharded = this.manager.getCache("a*b");
		RedisTaggedCache neighbour = this.manager.getCache("aXb");
		IntStream.range(0, 30).forEach(i -> sharded.put("s:" + i, "v", List.of("t")));
		sharded.put("keep", "v", List.of("t"));
		neighbour.put("s:1", "v", List.of("t"));
		assertThat(IntStream.range(0, 30).mapToObj(i -> sharded.keyspaceOf("s:" + i)).distinct().count())
			.as("the keys spread over the shards").isGreaterThan(1);

		assertThat(sharded.evictByPattern("s:*")).isEqualTo(30);
		assertThat(sharded.countEntries()).isEqualTo(1);
		assertThat(neighbour.get("s:1")).as("a cache whose name the glob would match").isNotNull();
	}

	@Test
	void aBlankPatternIsRefusedNamingTheCache() {
		this.manager = TestCaches.manager(this.redis);
		assertThatIllegalArgumentException().isThrownBy(() -> this.manager.getCache("users").evictByPattern(" "))
			.withMessageContaining("'users'");
	}

}
