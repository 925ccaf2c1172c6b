package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.tagcache.test.RedisServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Invalidations queued while Redis does not answer are replayed merged, on a thread of their own, as
 * soon as Redis answers again: not one call at a time, and not on the next caller's thread after the
 * cool-down. Uses a Redis server of its own, paused with {@code CLIENT PAUSE}, which keeps its data.
 */
class InvalidationReplayIntegrationTests {

	private static final long PAUSE_MILLIS = 1500;

	private RedisServer server;

	private LettuceConnectionFactory connectionFactory;

	private RedisClient adminClient;

	private RedisCommands<String, String> admin;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	/** Round trips that succeeded, by operation. */
	private final Map<String, AtomicInteger> succeeded = new ConcurrentHashMap<>();

	@BeforeEach
	void startRedis() {
		this.server = RedisServer.start();
		this.connectionFactory = TestCaches.failFastConnectionFactory(this.server, Duration.ofMillis(200));
		// A cool-down of an hour: only the replay thread can bring this instance back within the test.
		this.manager = TestCaches.manager(this.connectionFactory,
				builder -> builder.coolDown(Duration.ofHours(1))
					.invalidationWait(Duration.ZERO)
					.operationListener((operation, durationNanos, failed) -> {
						if (!failed) {
							this.succeeded.computeIfAbsent(operation, any -> new AtomicInteger()).incrementAndGet();
						}
					}));
		this.cache = this.manager.getCache("users");
		this.adminClient = RedisClient.create(this.server.uri());
		StatefulRedisConnection<String, String> connection = this.adminClient.connect();
		this.admin = connection.sync();
	}

	@AfterEach
	void stopRedis() {
		this.manager.destroy();
		this.adminClient.shutdown(Duration.ZERO, Duration.ofSeconds(2));
		this.connectionFactory.destroy();
		this.server.close();
	}

	@Test
	void queuedInvalidationsAreReplayedMergedAsSoonAsRedisAnswersWithoutAnyCall() {
		LongStream.range(0, 100).forEach(id -> this.cache.put(id, "user " + id, List.of("user-" + id, "loc-" + id % 5)));
		this.succeeded.clear();
		this.admin.clientPause(PAUSE_MILLIS);
		long pausedAt = System.nanoTime();

		IntStream.range(0, 50).forEach(id -> this.manager.invalidate("user-" + id));
		this.cache.evict(60L);
		this.cache.evict(61L);
		assertThat(this.manager.getPendingInvalidations()).as("50 tags and 2 keys, merged").isEqualTo(52);
		assertThat(this.cache.get(99L)).as("nothing reads Redis while invalidations wait").isNull();

		Awaitility.await()
			.atMost(Duration.ofSeconds(10))
			.pollInterval(Duration.ofMillis(5))
			.until(() -> this.manager.getPendingInvalidations() == 0);
		long windowMillis = Duration.ofNanos(System.nanoTime() - pausedAt).toMillis() - PAUSE_MILLIS;
		assertThat(windowMillis).as("replayed within a few intervals of the pause's end, not after the cool-down")
			.isLessThan(5_000);
		assertThat(this.manager.isRedisAvailable()).isTrue();
		// the window in which other instances may read what the queued invalidations removed (README)
		System.out.println("Replay done " + windowMillis + " ms after the pause ended");

		assertThat(LongStream.range(0, 50).mapToObj(this.cache::get)).allMatch(hit -> hit == null);
		assertThat(this.cache.get(60L)).isNull();
		assertThat(this.cache.get(61L)).isNull();
		assertThat(this.cache.get(99L)).isNotNull();
		assertThat(this.succeeded).as("the replay: one invalidation of the 50 tags, one round of evictions")
			.hasEntrySatisfying("invalidate", count -> assertThat(count).hasValue(1))
			.hasEntrySatisfying("evict", count -> assertThat(count).hasValue(1));
	}

	@Test
	void anInvalidationWaitsForItsReplayWithinTheInvalidationWaitSoNoInstanceReadsWhatItRemovedAfterItReturned() {
		RedisTaggedCacheManager waiting = TestCaches.manager(this.connectionFactory,
				builder -> builder.keyPrefix(this.manager.getKeyPrefix())
					.coolDown(Duration.ofHours(1))
					.invalidationWait(Duration.ofSeconds(5)));
		try {
			this.cache.put(1L, "old", List.of("user-1"));
			this.admin.clientPause(PAUSE_MILLIS);

			waiting.invalidate("user-1");

			assertThat(waiting.getPendingInvalidations()).as("replayed before it returned").isZero();
			assertThat(this.manager.getCache("users").get(1L)).as("what another instance reads").isNull();
		}
		finally {
			waiting.destroy();
		}
	}

}
