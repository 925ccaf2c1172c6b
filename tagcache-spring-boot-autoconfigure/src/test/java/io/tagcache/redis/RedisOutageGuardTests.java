package io.tagcache.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.InvalidDataAccessResourceUsageException;
import org.springframework.data.redis.RedisConnectionFailureException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * The circuit and the replay queue told apart from Redis: a command Redis refuses is not an outage.
 * (The same behaviour against real Redis: {@link RedisRefusalIntegrationTests}.)
 */
class RedisOutageGuardTests {

	private final AtomicLong clock = new AtomicLong();

	private final RedisOutageGuard guard = new RedisOutageGuard(1, Duration.ofSeconds(5), 10, this.clock::get);

	private final CacheCounters counters = new CacheCounters();

	private final List<Set<String>> cleared = new ArrayList<>();

	RedisOutageGuardTests() {
		this.guard.setOverflowRecovery(this.cleared::add);
	}

	@Test
	void refusedCallsFallBackWithoutOpeningTheCircuit() {
		for (int i = 0; i < 3; i++) {
			assertThat(this.guard.call("get", "users", this.counters, failing(refusal()), () -> "fallback"))
				.isEqualTo("fallback");
		}
		assertThat(this.guard.isAvailable()).isTrue();
		assertThat(this.counters.getErrors("get")).isEqualTo(3);

		this.guard.call("get", "users", this.counters, failing(outage()), () -> "fallback");
		assertThat(this.guard.isAvailable()).as("one outage with a threshold of 1").isFalse();
	}

	@Test
	void aRefusedInvalidationIsThrownNotQueued() {
		assertThatExceptionOfType(InvalidDataAccessResourceUsageException.class)
			.isThrownBy(() -> this.guard.invalidation("invalidate", "users", this.counters, Set.of("users"),
					failing(refusal()), 0L));
		assertThat(this.guard.getPendingInvalidations()).isZero();
		assertThat(this.guard.isAvailable()).isTrue();
		assertThat(this.counters.getErrors("invalidate")).isOne();
	}

	@Test
	void aQueuedInvalidationThatRedisRefusesOnReplayClearsItsCachesInsteadOfBlockingTheQueue() {
		AtomicReference<Supplier<DataAccessException>> failure = new AtomicReference<>(this::outage);
		Supplier<Long> invalidation = () -> {
			throw failure.get().get();
		};
		assertThat(this.guard.invalidation("invalidate", "users", this.counters, Set.of("users"), invalidation, 0L))
			.as("queued")
			.isZero();
		assertThat(this.guard.getPendingInvalidations()).isOne();

		failure.set(this::refusal);
		this.clock.addAndGet(Duration.ofSeconds(6).toNanos());
		assertThat(this.guard.call("get", "users", this.counters, () -> "from Redis", () -> "fallback"))
			.isEqualTo("from Redis");
		assertThat(this.cleared).containsExactly(Set.of("users"));
		assertThat(this.guard.getPendingInvalidations()).isZero();
		assertThat(this.guard.isAvailable()).isTrue();
	}

	@Test
	void aRefusedReplayWhoseClearIsRefusedTooIsDropped() {
		this.guard.setOverflowRecovery(caches -> {
			throw refusal();
		});
		AtomicReference<Supplier<DataAccessException>> failure = new AtomicReference<>(this::outage);
		this.guard.invalidation("invalidate", "users", this.counters, Set.of("users"), () -> {
			throw failure.get().get();
		}, 0L);
		failure.set(this::refusal);
		this.clock.addAndGet(Duration.ofSeconds(6).toNanos());
		assertThat(this.guard.call("get", "users", this.counters, () -> "from Redis", () -> "fallback"))
			.isEqualTo("from Redis");
		assertThat(this.guard.getPendingInvalidations()).isZero();
	}

	@Test
	void errorRepliesThatSayRedisCannotServeForNowAreOutagesTheOthersRefusals() {
		assertThat(RedisTaggedCacheWriter.isUnavailable("OOM command not allowed when used memory > 'maxmemory'."))
			.isTrue();
		assertThat(RedisTaggedCacheWriter.isUnavailable("BUSY Redis is busy running a script.")).isTrue();
		assertThat(RedisTaggedCacheWriter.isUnavailable("LOADING Redis is loading the dataset in memory")).isTrue();
		assertThat(RedisTaggedCacheWriter.isUnavailable("READONLY You can't write against a read only replica."))
			.isTrue();
		assertThat(RedisTaggedCacheWriter.isUnavailable("CLUSTERDOWN The cluster is down")).isTrue();
		assertThat(RedisTaggedCacheWriter.isUnavailable(
				"ERR Error running script (call to f_1): @user_script:12: OOM command not allowed")).isTrue();
		assertThat(RedisTaggedCacheWriter.isUnavailable(
				"WRONGTYPE Operation against a key holding the wrong kind of value script: 1a2b, on @user_script:24."))
			.isFalse();
		assertThat(RedisTaggedCacheWriter.isUnavailable(
				"ERR Error running script (call to f_1): @user_script:12: WRONGTYPE Operation against a key")).isFalse();
		assertThat(RedisTaggedCacheWriter.isUnavailable("NOPERM this user has no permissions to run the 'get' command"))
			.isFalse();
		assertThat(RedisTaggedCacheWriter.isUnavailable("ERR user_script:1: Script attempted to access a global"))
			.isFalse();
		assertThat(RedisTaggedCacheWriter.isUnavailable(null)).isFalse();
	}

	private static <T> Supplier<T> failing(DataAccessException ex) {
		return () -> {
			throw ex;
		};
	}

	private DataAccessException refusal() {
		return new InvalidDataAccessResourceUsageException("Redis refused the command: WRONGTYPE");
	}

	private DataAccessException outage() {
		return new RedisConnectionFailureException("Cannot reach Redis");
	}

}
