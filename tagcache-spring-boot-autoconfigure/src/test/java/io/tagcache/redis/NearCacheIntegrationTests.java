package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import io.lettuce.core.KillArgs;
import io.tagcache.Loaded;
import io.tagcache.TaggedLoader;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Near caches of two instances on one Redis (standalone and a 3-master cluster): a hit stays in the
 * JVM; the instance's own changes are visible at once; another instance's reach it through the
 * scripts' messages within a bound; when the subscription is lost ({@code CLIENT KILL}) the near
 * cache is cleared before it serves again; while Redis does not answer its heartbeat it serves nothing.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class NearCacheIntegrationTests {

	private static final Duration PROPAGATION = Duration.ofSeconds(2);

	@Parameter
	RedisTopology redis;

	private final String prefix = TestCaches.uniquePrefix();

	/** The rows behind the caches: what a load returns. */
	private final Map<String, String> rows = new ConcurrentHashMap<>();

	private final AtomicInteger loads = new AtomicInteger();

	private final AtomicLong redisReads = new AtomicLong();

	private RedisTaggedCacheManager one;

	private RedisTaggedCacheManager other;

	@BeforeEach
	void start() {
		this.one = manager(true);
		this.other = manager(true);
		awaitServing(this.one);
		awaitServing(this.other);
	}

	@AfterEach
	void stop() {
		this.one.destroy();
		this.other.destroy();
	}

	private RedisTaggedCacheManager manager(boolean counted) {
		return TestCaches.manager(this.redis, builder -> builder.keyPrefix(this.prefix)
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withNearCache(true))
			.withCacheNames("users")
			.operationListener((operation, nanos, failed) -> {
				if (counted && operation.equals("get")) {
					this.redisReads.incrementAndGet();
				}
			}));
	}

	private static void awaitServing(RedisTaggedCacheManager manager) {
		NearCache near = manager.getCache("users").nearCache();
		await().atMost(Duration.ofSeconds(10)).until(near::isServing);
	}

	/** A load through the one load path, as the annotations do: the row, tagged with the user. */
	private String read(RedisTaggedCacheManager manager, String id) {
		return manager.getCache("users").get(id, String.class, true, new TaggedLoader<String>() {

			@Override
			public Loaded<String> load() {
				NearCacheIntegrationTests.this.loads.incrementAndGet();
				return Loaded.of(NearCacheIntegrationTests.this.rows.get(id), List.of("user-" + id, "all-users"));
			}

		});
	}

	@Test
	void aHitStaysInTheJvmAndReturnsTheInstanceItKept() {
		this.rows.put("1", "Ada");
		String first = read(this.one, "1");
		long readsBefore = this.redisReads.get();

		for (int i = 0; i < 100; i++) {
			assertThat(read(this.one, "1")).isSameAs(first);
		}

		assertThat(this.redisReads.get()).as("no round trip to Redis").isEqualTo(readsBefore);
		assertThat(this.loads).hasValue(1);
		assertThat(this.one.getCache("users").getStatistics().getHits()).isEqualTo(100);
		assertThat(this.one.getCache("users").nearCache().hits()).isEqualTo(100);
	}

	@Test
	void theInstancesOwnChangesAreVisibleAtOnce() {
		RedisTaggedCache users = this.one.getCache("users");
		this.rows.put("1", "Ada");
		read(this.one, "1");

		this.rows.put("1", "Ada Lovelace");
		this.one.invalidate(List.of("user-1"));
		assertThat(read(this.one, "1")).isEqualTo("Ada Lovelace");

		this.rows.put("1", "Ada, Countess");
		users.softInvalidateTags(List.of("user-1"));
		read(this.one, "1");
		assertThat(read(this.one, "1")).as("served stale once, while its reload ran").isEqualTo("Ada, Countess");

		users.put("1", "put by hand", List.of("user-1"));
		assertThat(users.get("1", String.class)).isEqualTo("put by hand");

		users.evict("1");
		this.rows.put("1", "after eviction");
		assertThat(read(this.one, "1")).isEqualTo("after eviction");

		users.clear();
		this.rows.put("1", "after clear");
		assertThat(read(this.one, "1")).isEqualTo("after clear");

		users.evictByPattern("1*");
		this.rows.put("1", "after pattern eviction");
		assertThat(read(this.one, "1")).isEqualTo("after pattern eviction");
	}

	@Test
	void anotherInstancesInvalidationReachesTheNearCacheWithinTheBound() {
		this.rows.put("1", "Ada");
		this.rows.put("2", "Grace");
		assertThat(read(this.one, "1")).isEqualTo("Ada");
		assertThat(read(this.one, "2")).isEqualTo("Grace");

		this.rows.put("1", "Ada Lovelace");
		this.other.invalidate(List.of("user-1"));

		await().atMost(PROPAGATION).until(() -> read(this.one, "1").equals("Ada Lovelace"));
		assertThat(read(this.one, "2")).as("other tags stay").isEqualTo("Grace");
		assertThat(this.one.getCache("users").nearCache().get("2", String.class, 0)).isNotNull();
	}

	@Test
	void everyKindOfChangeByAnotherInstanceReachesTheNearCache() {
		RedisTaggedCache users = this.other.getCache("users");
		this.rows.put("1", "v1");
		assertThat(read(this.one, "1")).isEqualTo("v1");

		this.rows.put("1", "v2");
		users.evict("1");
		await().atMost(PROPAGATION).until(() -> read(this.one, "1").equals("v2"));

		users.put("1", "v3", List.of("user-1"));
		await().atMost(PROPAGATION).until(() -> read(this.one, "1").equals("v3"));

		this.rows.put("1", "v4");
		users.clear();
		await().atMost(PROPAGATION).until(() -> read(this.one, "1").equals("v4"));

		this.rows.put("1", "v5");
		users.evictByPattern("*");
		await().atMost(PROPAGATION).until(() -> read(this.one, "1").equals("v5"));

		this.rows.put("1", "v6");
		this.other.softInvalidate(List.of("all-users"));
		await().atMost(PROPAGATION).until(() -> read(this.one, "1").equals("v6"));
	}

	@Test
	void aLostSubscriptionClearsTheNearCacheBeforeItServesAgain() {
		RedisTaggedCache users = this.one.getCache("users");
		NearCache near = users.nearCache();
		this.rows.put("1", "Ada");
		read(this.one, "1");
		long losses = near.channelLosses();

		killPubSubClients();
		await().atMost(Duration.ofSeconds(10)).until(() -> near.channelLosses() > losses);
		// whatever happened to messages meanwhile, the value read before the loss is gone
		this.rows.put("1", "changed while the subscription was down");
		this.other.invalidate(List.of("user-1"));
		assertThat(read(this.one, "1")).isEqualTo("changed while the subscription was down");

		await().atMost(Duration.ofSeconds(10)).until(near::isServing);
		read(this.one, "1");
		long hits = near.hits();
		read(this.one, "1");
		assertThat(near.hits()).as("serving again once subscribed").isEqualTo(hits + 1);
		this.rows.put("1", "after the loss");
		this.other.invalidate(List.of("user-1"));
		await().atMost(PROPAGATION).until(() -> read(this.one, "1").equals("after the loss"));
	}

	@Test
	void aChannelThatStopsAnsweringStopsTheNearCacheServingWithinItsBound() {
		NearCache near = this.one.getCache("users").nearCache();
		this.rows.put("1", "Ada");
		read(this.one, "1");
		assertThat(near.get("1", String.class, 0)).isNotNull();
		long losses = near.channelLosses();

		// Redis answers nobody for a while: the heartbeat's pongs stop, messages could be waiting
		this.redis.admin().onEveryMaster(commands -> commands.clientPause(1500));
		await().atMost(Duration.ofMillis(1200)).until(() -> near.get("1", String.class, 0) == null);

		await().atMost(Duration.ofSeconds(5)).until(() -> near.get("1", String.class, 0) != null);
		assertThat(near.channelLosses()).as("not a loss: nothing was cleared").isEqualTo(losses);
	}

	private void killPubSubClients() {
		this.redis.admin().onEveryMaster(commands -> commands.clientKill(KillArgs.Builder.typePubsub()));
	}

}
