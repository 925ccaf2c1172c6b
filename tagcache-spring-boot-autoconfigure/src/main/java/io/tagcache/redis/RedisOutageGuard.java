package io.tagcache.redis;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.InvalidDataAccessResourceUsageException;

/**
 * Keeps the application serving while Redis is down, and keeps invalidations from being lost.
 *
 * <p>A circuit breaker ({@link CircuitBreaker}): after {@code failureThreshold} consecutive failures,
 * calls skip Redis for the cool-down instead of each paying a connect or command timeout; then one
 * call probes Redis and, if it answers, traffic resumes. Reads and writes that skip or fail fall back
 * (a miss, a skipped write) and are counted by their cache.
 *
 * <p>A command that Redis refuses (a key of the wrong type, a script error) is counted and logged
 * but does not open the circuit: Redis answers every other call. A refused read or write falls back
 * like any failure; a refused invalidation is thrown to the caller rather than queued, since a replay
 * would be refused again.
 *
 * <p>Invalidations (tag invalidations, evictions, clears) that cannot reach Redis are queued
 * ({@link InvalidationReplayQueue}), merged ({@link PendingInvalidations}), up to {@code pendingLimit} tags and keys. The caller waits
 * until its invalidation was replayed, but no longer than the invalidation wait from the start of the
 * outage: an invalidation is acknowledged once it reached Redis, so that no instance reads what it
 * removes after the call returned, unless Redis stayed away longer than that (then the call returns
 * {@code whenQueued}, and other instances may read what it concerns until the replay). While any wait,
 * every call skips Redis (reads miss, writes are skipped), so no read can see, and no fenced write
 * can store, what a queued invalidation removes. The replay runs on a thread of its own, never a
 * caller's (an asynchronous caller is never blocked by it): it is retried every
 * {@link #REPLAY_INTERVAL} from the failure on, whatever the cool-down, so it starts within that
 * interval of Redis answering again, and sends every merged invalidation at once, one script per
 * cache slot. If the queue overflows, the caches it concerned are cleared instead (a safe
 * over-invalidation). The queue lives in this JVM only: other instances reading Redis between its
 * return and the end of the replay do not know about it.
 */
final class RedisOutageGuard {

	/** How often a replay is tried while invalidations wait. */
	static final Duration REPLAY_INTERVAL = Duration.ofMillis(100);

	/** Replays merged invalidations, and clears caches when the queue overflowed. */
	interface Replayer {

		/**
		 * Send the invalidations to Redis.
		 * @throws org.springframework.dao.DataAccessException when Redis fails or refuses
		 */
		void replay(PendingInvalidations invalidations);

		/** Clear the caches of the scope. */
		void clear(CacheScope caches);

	}

	/** Runs a replay on a thread of its own after a delay. */
	interface ReplayScheduler {

		void schedule(Runnable task, Duration delay);

	}

	private final CircuitBreaker circuit;

	private final RedisFailureLog failureLog = new RedisFailureLog();

	private final InvalidationReplayQueue queue;


	RedisOutageGuard(int failureThreshold, Duration coolDown, int pendingLimit, LongSupplier nanoTime,
			ReplayScheduler scheduler) {
		this(failureThreshold, coolDown, pendingLimit, Duration.ZERO, nanoTime, scheduler);
	}

	RedisOutageGuard(int failureThreshold, Duration coolDown, int pendingLimit, Duration invalidationWait,
			LongSupplier nanoTime, ReplayScheduler scheduler) {
		this.circuit = new CircuitBreaker(failureThreshold, coolDown, nanoTime);
		this.queue = new InvalidationReplayQueue(pendingLimit, invalidationWait, nanoTime, scheduler, this.circuit,
				new InvalidationReplayQueue.Outcomes() {

					@Override
					public void succeeded() {
						RedisOutageGuard.this.succeeded();
					}

					@Override
					public void failed(DataAccessException ex) {
						RedisOutageGuard.this.failed("replay", CacheScope.EVERY_CACHE_LABEL, ex);
					}

				});
	}

	void setReplayer(Replayer replayer) {
		this.queue.setReplayer(replayer);
	}

	/**
	 * Run a read or write; on a skip or failure return the fallback and count an error.
	 */
	<T> T call(String operation, String cacheName, @Nullable CacheCounters counters, Supplier<T> action,
			Supplier<T> fallback) {
		return run(operation, cacheName, counters, action, fallback, null);
	}

	/**
	 * Run an asynchronous read or write; on a skip or failure complete with {@code null} and count
	 * an error. Never blocks the caller.
	 */
	<T> CompletableFuture<@Nullable T> callAsync(String operation, String cacheName, CacheCounters counters,
			Supplier<CompletableFuture<T>> action) {
		if (!admit()) {
			counters.error(operation);
			return CompletableFuture.completedFuture(null);
		}
		return action.get().handle((result, ex) -> {
			if (ex == null) {
				succeeded();
				return result;
			}
			Throwable cause = (ex instanceof CompletionException && ex.getCause() != null) ? ex.getCause() : ex;
			if (cause instanceof DataAccessException dataAccess) {
				failed(operation, cacheName, dataAccess);
				counters.error(operation);
				return null;
			}
			throw (cause instanceof CompletionException completion) ? completion : new CompletionException(cause);
		});
	}

	/**
	 * Run an invalidation; when Redis is skipped or fails, queue what it invalidates for replay and
	 * return {@code whenQueued}.
	 * @param invalidation what the action invalidates, replayed merged with others when queued
	 */
	<T> T invalidation(String operation, String cacheName, @Nullable CacheCounters counters,
			PendingInvalidations invalidation, Supplier<T> action, T whenQueued) {
		return run(operation, cacheName, counters, action, () -> {
			long deadline = this.queue.enqueue(invalidation);
			this.queue.awaitReplay(invalidation, deadline);
			return whenQueued;
		}, invalidation);
	}

	private <T> T run(String operation, String cacheName, @Nullable CacheCounters counters, Supplier<T> action,
			Supplier<T> fallback, @Nullable PendingInvalidations invalidation) {
		if (admit()) {
			try {
				T result = action.get();
				succeeded();
				return result;
			}
			catch (DataAccessException ex) {
				failed(operation, cacheName, ex);
				// A refused invalidation is thrown: Redis answered, and a replay would be refused again.
				if (invalidation != null && isRefusal(ex)) {
					if (counters != null) {
						counters.error(operation);
					}
					throw ex;
				}
			}
		}
		if (counters != null) {
			counters.error(operation);
		}
		return fallback.get();
	}

	/**
	 * Whether Redis refused a command, as opposed to being unreachable or unable to serve: a key of
	 * the wrong type, a script error, a missing permission. Such failures are counted and logged but
	 * do not open the circuit, since Redis answers every other call.
	 */
	static boolean isRefusal(DataAccessException ex) {
		return ex instanceof InvalidDataAccessResourceUsageException;
	}

	/** Whether calls go to Redis: the circuit is closed and nothing waits for replay. */
	boolean isAvailable() {
		return !this.circuit.isOpen() && this.queue.isEmpty();
	}

	/** How many tags, keys and caches wait to be invalidated (merged), the replay in flight included. */
	int getPendingInvalidations() {
		return this.queue.size();
	}

	long getOverflows() {
		return this.queue.overflows();
	}

	/** How many replays of queued invalidations completed. */
	long getReplays() {
		return this.queue.replays();
	}

	/**
	 * Stop replaying, when the application stops.
	 * @return how many tags, keys and caches were still waiting to be invalidated, now dropped
	 */
	int stop() {
		return this.queue.stop();
	}

	/**
	 * The fast path is two volatile reads. Nothing goes to Redis while invalidations wait (the
	 * replay thread sends them); with the circuit open, one call probes after the cool-down.
	 */
	private boolean admit() {
		return this.queue.isEmpty() && this.circuit.allows();
	}

	private void succeeded() {
		this.circuit.succeeded();
		this.failureLog.succeeded();
	}

	private void failed(String operation, String cacheName, DataAccessException ex) {
		if (isRefusal(ex)) {
			this.failureLog.refused(operation, cacheName, ex);
			return;
		}
		this.failureLog.failed(operation, cacheName, ex);
		this.circuit.failed();
	}

}
