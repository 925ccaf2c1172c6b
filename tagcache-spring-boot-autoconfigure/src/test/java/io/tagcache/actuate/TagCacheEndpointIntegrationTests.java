package io.tagcache.actuate;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.tagcache.actuate.TagCacheEndpoint.CacheDescriptor;
import io.tagcache.actuate.TagCacheEndpoint.CachesDescriptor;
import io.tagcache.actuate.TagCacheEndpoint.InvalidationDescriptor;
import io.tagcache.actuate.TagCacheEndpoint.NearCacheDescriptor;
import io.tagcache.actuate.TagCacheEndpoint.TagDescriptor;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TestCaches;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.boot.actuate.endpoint.InvalidEndpointRequestException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;
import static org.assertj.core.api.Assertions.entry;

/**
 * The {@code tagcache} endpoint as a plain object against real Redis: real counts, including
 * caches that only another instance opened, and a real invalidation.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class TagCacheEndpointIntegrationTests {

	@Parameter
	RedisTopology redis;

	private String prefix;

	private RedisTaggedCacheManager manager;

	private TagCacheEndpoint endpoint;

	@BeforeEach
	void fillCaches() {
		this.prefix = TestCaches.uniquePrefix();
		this.manager = TestCaches.manager(this.redis,
				builder -> builder.keyPrefix(this.prefix)
					.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofMinutes(30)))
					.withCache("users", RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofHours(2))));
		this.manager.getCache("users").put(1L, "alice", List.of("user-1", "loc-1"));
		this.manager.getCache("users").put("alice@a", "alice", List.of("user-1", "loc-1"));
		this.manager.getCache("users").put(2L, "bob", List.of("user-2", "loc-1"));
		this.manager.getCache("lists").put(1L, List.of("alice", "bob"), List.of("user-1", "user-2", "loc-1"));
		RedisTaggedCacheManager otherInstance = TestCaches.manager(this.redis, builder -> builder.keyPrefix(this.prefix));
		otherInstance.getCache("orders").put(7L, "order 7", List.of("order-7"));
		this.endpoint = new TagCacheEndpoint(this.manager);
	}

	@Test
	void cachesListsEveryCacheOfThePrefixWithItsCounts() {
		CachesDescriptor caches = this.endpoint.caches();
		assertThat(caches.keyPrefix()).isEqualTo(this.prefix);
		assertThat(caches.redisAvailable()).isTrue();
		assertThat(caches.pendingInvalidations()).isZero();
		assertThat(caches.error()).isNull();
		assertThat(caches.caches()).containsExactly(
				entry("lists", new CacheDescriptor(1L, 3L, "PT30M", 1, 1.0, "PT1M", "PT0S")),
				entry("orders", new CacheDescriptor(1L, 1L, "PT30M", 1, 1.0, "PT1M", "PT0S")),
				entry("users", new CacheDescriptor(3L, 3L, "PT2H", 1, 1.0, "PT1M", "PT0S")));
		assertThat(this.manager.getCacheNames()).as("describing a cache does not open it")
			.containsExactlyInAnyOrder("users", "lists");
	}

	@Test
	void aCacheWithANearCacheShowsItsState() {
		RedisTaggedCacheManager near = TestCaches.manager(this.redis, builder -> builder.keyPrefix(this.prefix)
			.withCache("users", RedisTaggedCacheConfiguration.defaultConfig().withNearCache(true)));
		try {
			RedisTaggedCache users = near.getCache("users");
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(users::isNearCacheServing);
			users.get(1L, String.class);
			users.get(1L, String.class);

			CacheDescriptor described = new TagCacheEndpoint(near).caches().caches().get("users");

			assertThat(described.nearCache()).isEqualTo(new NearCacheDescriptor(true, 1, 1, 1, 0));
			assertThat(this.endpoint.caches().caches().get("users").nearCache()).as("none in the first instance")
				.isNull();
		}
		finally {
			near.destroy();
		}
	}

	@Test
	void tagCountsTheEntriesCarryingItPerCache() {
		TagDescriptor tag = this.endpoint.tag("user-1");
		assertThat(tag.tag()).isEqualTo("user-1");
		assertThat(tag.caches()).containsExactly(entry("lists", 1L), entry("users", 2L));
		assertThat(tag.total()).isEqualTo(3);
		assertThat(this.endpoint.tag("order-7").caches()).containsExactly(entry("orders", 1L));
		assertThat(this.endpoint.tag("nobody").total()).isZero();
	}

	@Test
	void deleteInvalidatesTheTagInEveryCacheAndAnswersTheNumberRemoved() {
		InvalidationDescriptor invalidation = this.endpoint.invalidate("user-1");
		assertThat(invalidation).isEqualTo(new InvalidationDescriptor("user-1", 3, 0));
		assertThat(this.endpoint.tag("user-1").total()).isZero();
		assertThat(this.manager.getCache("users").get(2L)).as("bob carries no user-1").isNotNull();
		assertThat(this.endpoint.caches().caches().get("users").entries()).isEqualTo(1);
		assertThat(this.endpoint.invalidate("user-1").removed()).isZero();
		assertThat(this.endpoint.invalidate("order-7").removed()).as("a cache only another instance opened")
			.isEqualTo(1);
	}

	@Test
	void anInvalidTagIsABadRequestWithTheReason() {
		assertThatExceptionOfType(InvalidEndpointRequestException.class).isThrownBy(() -> this.endpoint.tag(" "))
			.satisfies(ex -> assertThat(ex.getReason()).contains("blank"));
		assertThatExceptionOfType(InvalidEndpointRequestException.class)
			.isThrownBy(() -> this.endpoint.invalidate("x".repeat(1025)))
			.satisfies(ex -> assertThat(ex.getReason()).contains("longer than 1024 bytes"));
		assertThatExceptionOfType(InvalidEndpointRequestException.class)
			.isThrownBy(() -> this.endpoint.invalidate("a\nb"))
			.satisfies(ex -> assertThat(ex.getReason()).contains("control character"));
	}

	@Test
	@SuppressWarnings("unchecked")
	void theDescriptorsSerializeToTheDocumentedJson() {
		JsonMapper json = JsonMapper.builder().build();
		Map<String, Object> caches = json.readValue(json.writeValueAsString(this.endpoint.caches()), Map.class);
		assertThat(caches).containsOnlyKeys("keyPrefix", "redisAvailable", "pendingInvalidations", "caches");
		assertThat((Map<String, Object>) caches.get("caches")).containsEntry("users",
				Map.of("entries", 3, "tags", 3, "timeToLive", "PT2H", "shards", 1, "earlyRefreshBeta", 1.0,
						"staleWhileRevalidate", "PT1M", "staleIfError", "PT0S"));
		assertThat(json.writeValueAsString(this.endpoint.tag("user-1")))
			.isEqualTo("{\"tag\":\"user-1\",\"caches\":{\"lists\":1,\"users\":2},\"total\":3}");
		assertThat(json.writeValueAsString(this.endpoint.invalidate("user-1")))
			.isEqualTo("{\"tag\":\"user-1\",\"removed\":3,\"pendingInvalidations\":0}");
	}

}
