package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;

import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.data.redis.RedisConnectionFailureException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tag too large to remove inline is detached, then drained; when the drain is interrupted (Redis
 * stops answering in the middle of it, or the process stops), the invalidation is queued and its
 * replay finishes the drain, a later invalidation of the tag finishes it, and any instance finishes
 * one abandoned by a process that stopped. The interruption is staged deterministically: the first
 * drain script fails as if the connection had dropped.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class InterruptedDrainIntegrationTests {

	private static final int ENTRIES = 600;

	@Parameter
	RedisTopology redis;

	/** How many drain scripts to fail, as if the connection dropped right after each ran. */
	private final AtomicInteger failDrains = new AtomicInteger();

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache cache;

	@BeforeEach
	void fillATag() {
		this.manager = TestCaches.manager(this.redis, builder -> builder.inlineInvalidationLimit(10)
			.drainBudget(Duration.ofNanos(1000))
			.coolDown(Duration.ofMillis(50))
			.invalidationWait(Duration.ZERO)
			.operationListener((operation, durationNanos, failed) -> {
				if (operation.equals("drain") && this.failDrains.getAndDecrement() > 0) {
					throw new RedisConnectionFailureException("Connection lost in the middle of a drain (staged)");
				}
			}));
		this.cache = this.manager.getCache("users");
		LongStream.range(0, ENTRIES).forEach(id -> this.cache.put(id, "user " + id, List.of("loc-1", "user-" + id)));
	}

	@AfterEach
	void stopManager() {
		this.manager.destroy();
	}

	@Test
	void theReplayOfAnInvalidationWhoseDrainWasInterruptedFinishesTheDrain() {
		this.failDrains.set(1);
		assertThat(this.manager.invalidate("loc-1")).as("queued").isZero();
		assertThat(this.manager.getPendingInvalidations()).isOne();

		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> this.manager.getPendingInvalidations() == 0);
		assertThat(readable(this.manager)).as("entries left readable").isZero();
		assertThat(detachedIndexes()).isEmpty();
	}

	@Test
	void aLaterInvalidationOfTheTagFinishesADrainAnotherProcessAbandoned() {
		// the process loses Redis in the middle of the drain, and stops before its replay could finish it
		this.failDrains.set(Integer.MAX_VALUE);
		this.manager.invalidate("loc-1");
		this.manager.destroy();
		this.failDrains.set(0);
		assertThat(detachedIndexes()).hasSize(1);
		RedisTaggedCacheManager other = TestCaches.manager(this.redis.connectionFactory(),
				builder -> builder.keyPrefix(this.manager.getKeyPrefix()));
		long left = readable(other);
		assertThat(left).as("the drain was interrupted").isPositive();

		assertThat(other.invalidate("loc-1")).as("the leftover entries, counted").isEqualTo(left);
		assertThat(readable(other)).isZero();
		assertThat(detachedIndexes()).isEmpty();
	}

	@Test
	void anyInstanceFinishesAnAbandonedDrainWithoutAnotherInvalidation() {
		this.failDrains.set(Integer.MAX_VALUE);
		this.manager.invalidate("loc-1");
		this.manager.destroy();
		this.failDrains.set(0);
		RedisTaggedCacheManager other = TestCaches.manager(this.redis.connectionFactory(),
				builder -> builder.keyPrefix(this.manager.getKeyPrefix()));
		long left = readable(other);
		assertThat(left).isPositive();
		assertThat(other.finishAbandonedDrains(Duration.ofMinutes(1))).as("not abandoned yet").isZero();
		assertThat(other.finishAbandonedDrains(Duration.ZERO)).isEqualTo(left);
		assertThat(readable(other)).isZero();
		assertThat(detachedIndexes()).isEmpty();
	}

	private long readable(RedisTaggedCacheManager reader) {
		RedisTaggedCache users = reader.getCache("users");
		return LongStream.range(0, ENTRIES).filter(id -> users.get(id) != null).count();
	}

	private List<String> detachedIndexes() {
		return this.redis.admin().scan(this.manager.getKeyPrefix() + ":{users}:d:*");
	}

}
