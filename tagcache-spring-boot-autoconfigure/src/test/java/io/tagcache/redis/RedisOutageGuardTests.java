package io.tagcache.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;
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

	/** The replay thread, run by hand. */
	private final List<Runnable> scheduled = new ArrayList<>();

	private final RedisOutageGuard guard = new RedisOutageGuard(1, Duration.ofSeconds(5), 10, this.clock::get,
			(task, delay) -> this.scheduled.add(task));

	private final CacheCounters counters = new CacheCounters();

	private final FakeReplayer replayer = new FakeReplayer();

	RedisOutageGuardTests() {
		this.guard.setReplayer(this.replayer);
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
			.isThrownBy(() -> this.guard.invalidation("invalidate", "users", this.counters, tags("users", "user-1"),
					failing(refusal()), 0L));
		assertThat(this.guard.getPendingInvalidations()).isZero();
		assertThat(this.guard.isAvailable()).isTrue();
		assertThat(this.counters.getErrors("invalidate")).isOne();
		assertThat(this.scheduled).isEmpty();
	}

	@Test
	void queuedInvalidationsAreMergedAndReplayedTogetherOnTheReplayThreadNotByCallers() {
		queue(tags("users", "user-1", "loc-1"));
		queue(tags("users", "user-1", "user-2"));
		queue(tags(PendingInvalidations.EVERY_CACHE, "loc-1"));
		queue(PendingInvalidations.eviction("users", "7"));
		assertThat(this.guard.getPendingInvalidations()).as("distinct tags and keys").isEqualTo(5);
		assertThat(this.scheduled).as("one replay scheduled").hasSize(1);

		assertThat(this.guard.call("get", "users", this.counters, () -> "from Redis", () -> "fallback"))
			.as("callers skip Redis while invalidations wait, whatever the cool-down")
			.isEqualTo("fallback");
		this.clock.addAndGet(Duration.ofSeconds(6).toNanos());
		assertThat(this.guard.call("get", "users", this.counters, () -> "from Redis", () -> "fallback"))
			.isEqualTo("fallback");
		assertThat(this.replayer.replayed).as("no caller replays").isEmpty();

		runScheduled();
		assertThat(this.replayer.replayed).hasSize(1);
		PendingInvalidations replayed = this.replayer.replayed.get(0);
		assertThat(replayed.tags()).containsEntry("users", Set.of("user-1", "loc-1", "user-2"))
			.containsEntry(PendingInvalidations.EVERY_CACHE, Set.of("loc-1"));
		assertThat(replayed.evictions()).containsEntry("users", Set.of("7"));
		assertThat(this.guard.getPendingInvalidations()).isZero();
		assertThat(this.guard.isAvailable()).as("the replay closed the circuit").isTrue();
		assertThat(this.guard.call("get", "users", this.counters, () -> "from Redis", () -> "fallback"))
			.isEqualTo("from Redis");
	}

	@Test
	void aReplayThatFailsIsKeptWithWhatWasQueuedMeanwhileAndTriedAgainWithoutWaitingForTheCoolDown() {
		queue(tags("users", "user-1"));
		this.replayer.failure = outage();
		runScheduled();
		assertThat(this.guard.getPendingInvalidations()).isOne();
		assertThat(this.scheduled).as("tried again after the interval").hasSize(1);

		queue(tags("users", "user-2"));
		this.replayer.failure = null;
		runScheduled();
		assertThat(this.replayer.replayed).hasSize(1);
		assertThat(this.replayer.replayed.get(0).tags()).containsEntry("users", Set.of("user-1", "user-2"));
		assertThat(this.guard.isAvailable()).isTrue();
	}

	@Test
	void queuedInvalidationsThatRedisRefusesOnReplayClearTheirCachesInsteadOfBlockingTheQueue() {
		queue(tags("users", "user-1"));
		this.replayer.failure = refusal();
		runScheduled();
		assertThat(this.replayer.cleared).containsExactly(CacheScope.of(Set.of("users")));
		assertThat(this.guard.getPendingInvalidations()).isZero();
		assertThat(this.guard.isAvailable()).isTrue();
	}

	@Test
	void aRefusedReplayWhoseClearIsRefusedTooIsDropped() {
		queue(tags("users", "user-1"));
		this.replayer.failure = refusal();
		this.replayer.clearFailure = refusal();
		runScheduled();
		assertThat(this.guard.getPendingInvalidations()).isZero();
		assertThat(this.scheduled).isEmpty();
	}

	@Test
	void anOverflowingQueueClearsTheCachesItConcernedInstead() {
		for (int i = 0; i < 11; i++) {
			queue(tags((i % 2 == 0) ? "users" : "books", "tag-" + i));
		}
		assertThat(this.guard.getOverflows()).isOne();
		assertThat(this.guard.isAvailable()).isFalse();
		runScheduled();
		assertThat(this.replayer.cleared).containsExactly(CacheScope.of(Set.of("users", "books")));
		assertThat(this.replayer.replayed).isEmpty();
		assertThat(this.guard.isAvailable()).isTrue();
	}

	@Test
	void anAsynchronousCallWhileAReplayRunsIsAnImmediateMissNeverBlockedByIt() throws Exception {
		queue(tags("users", "user-1"));
		java.util.concurrent.CountDownLatch replaying = new java.util.concurrent.CountDownLatch(1);
		java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
		this.guard.setReplayer(new FakeReplayer() {

			@Override
			public void replay(PendingInvalidations invalidations) {
				replaying.countDown();
				try {
					release.await(10, java.util.concurrent.TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}

		});
		Thread replayThread = new Thread(this::runScheduled);
		replayThread.start();
		assertThat(replaying.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

		java.util.concurrent.CompletableFuture<String> lookup = this.guard.callAsync("get", "users", this.counters,
				() -> java.util.concurrent.CompletableFuture.completedFuture("from Redis"));
		assertThat(lookup).as("completed on the caller's thread while the replay is held").isCompletedWithValue(null);
		assertThat(this.counters.getErrors("get")).isOne();

		release.countDown();
		replayThread.join(10_000);
		assertThat(this.guard.callAsync("get", "users", this.counters,
				() -> java.util.concurrent.CompletableFuture.completedFuture("from Redis")))
			.isCompletedWithValue("from Redis");
	}

	@Test
	void stoppingReportsWhatIsDroppedAndSchedulesNoMoreReplays() {
		queue(tags("users", "user-1", "user-2"));
		this.scheduled.clear();
		assertThat(this.guard.stop()).isEqualTo(2);
		queue(tags("users", "user-3"));
		assertThat(this.scheduled).isEmpty();
	}

	private void queue(PendingInvalidations invalidation) {
		assertThat(this.guard.invalidation("invalidate", "users", this.counters, invalidation, failing(outage()), 0L))
			.as("queued")
			.isZero();
	}

	private void runScheduled() {
		List<Runnable> tasks = new ArrayList<>(this.scheduled);
		this.scheduled.clear();
		tasks.forEach(Runnable::run);
	}

	private static PendingInvalidations tags(String scope, String... tags) {
		return PendingInvalidations.tags(scope, List.of(tags));
	}

	private static class FakeReplayer implements RedisOutageGuard.Replayer {

		final List<PendingInvalidations> replayed = new ArrayList<>();

		final List<CacheScope> cleared = new ArrayList<>();

		@Nullable DataAccessException failure;

		@Nullable DataAccessException clearFailure;

		@Override
		public void replay(PendingInvalidations invalidations) {
			if (this.failure != null) {
				throw this.failure;
			}
			this.replayed.add(invalidations);
		}

		@Override
		public void clear(CacheScope caches) {
			if (this.clearFailure != null) {
				throw this.clearFailure;
			}
			this.cleared.add(caches);
		}

	}

	@Test
	void errorRepliesThatSayRedisCannotServeForNowAreOutagesTheOthersRefusals() {
		assertThat(RedisErrors.isUnavailable("OOM command not allowed when used memory > 'maxmemory'."))
			.isTrue();
		assertThat(RedisErrors.isUnavailable("BUSY Redis is busy running a script.")).isTrue();
		assertThat(RedisErrors.isUnavailable("LOADING Redis is loading the dataset in memory")).isTrue();
		assertThat(RedisErrors.isUnavailable("READONLY You can't write against a read only replica."))
			.isTrue();
		assertThat(RedisErrors.isUnavailable("CLUSTERDOWN The cluster is down")).isTrue();
		assertThat(RedisErrors.isUnavailable(
				"ERR Error running script (call to f_1): @user_script:12: OOM command not allowed")).isTrue();
		assertThat(RedisErrors.isUnavailable(
				"WRONGTYPE Operation against a key holding the wrong kind of value script: 1a2b, on @user_script:24."))
			.isFalse();
		assertThat(RedisErrors.isUnavailable(
				"ERR Error running script (call to f_1): @user_script:12: WRONGTYPE Operation against a key")).isFalse();
		assertThat(RedisErrors.isUnavailable("NOPERM this user has no permissions to run the 'get' command"))
			.isFalse();
		assertThat(RedisErrors.isUnavailable("ERR user_script:1: Script attempted to access a global"))
			.isFalse();
		assertThat(RedisErrors.isUnavailable(null)).isFalse();
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
