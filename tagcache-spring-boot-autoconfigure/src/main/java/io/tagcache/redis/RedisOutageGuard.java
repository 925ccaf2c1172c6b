package io.tagcache.redis;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.InvalidDataAccessResourceUsageException;

/**
 * Keeps the application serving while Redis is down, and keeps invalidations from being lost.
 *
 * <p>A circuit breaker ({@link CircuitBreaker}): after {@code failureThreshold} consecutive failures,
 * calls skip Redis for the cool-down instead of each paying a connect or command timeout; then one
 * call probes Redis and, if it answers, traffic resumes. Reads and writes that skip or fail fall back (a miss, a skipped
 * write) and are counted by their cache.
 *
 * <p>A command that Redis refuses (a key of the wrong type, a script error) is counted and logged
 * but does not open the circuit: Redis answers every other call. A refused read or write falls back
 * like any failure; a refused invalidation is thrown to the caller rather than queued, since a replay
 * would be refused again.
 *
 * <p>Invalidations (tag invalidations, evictions, clears) that cannot reach Redis are queued,
 * merged ({@link PendingInvalidations}), up to {@code pendingLimit} tags and keys. The caller waits
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

	private static final Log logger = LogFactory.getLog(RedisOutageGuard.class);

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

	private final int pendingLimit;

	private final LongSupplier nanoTime;

	private final long invalidationWaitNanos;

	/** Until when callers of this outage wait for their queued invalidations (guarded by the lock). */
	private long waitUntil;

	private boolean waiting;

	private final ReplayScheduler scheduler;

	private final RedisFailureLog failureLog = new RedisFailureLog();


	private final ReentrantLock replaying = new ReentrantLock();

	private final Object lock = new Object();

	private PendingInvalidations pending = new PendingInvalidations();

	private PendingInvalidations inFlight = new PendingInvalidations();

	private boolean replayScheduled;

	private boolean stopped;

	/** Counts what waits, the replay in flight included; non-zero while calls must skip Redis. */
	private final AtomicInteger pendingCount = new AtomicInteger();

	private boolean overflowed;

	/** The caches to clear after an overflow. */
	private CacheScope overflowedCaches = CacheScope.of(Set.of());

	private final LongAdder overflows = new LongAdder();

	private final LongAdder replays = new LongAdder();

	private @Nullable Replayer replayer;

	RedisOutageGuard(int failureThreshold, Duration coolDown, int pendingLimit, LongSupplier nanoTime,
			ReplayScheduler scheduler) {
		this(failureThreshold, coolDown, pendingLimit, Duration.ZERO, nanoTime, scheduler);
	}

	RedisOutageGuard(int failureThreshold, Duration coolDown, int pendingLimit, Duration invalidationWait,
			LongSupplier nanoTime, ReplayScheduler scheduler) {
		this.invalidationWaitNanos = invalidationWait.toNanos();
		this.circuit = new CircuitBreaker(failureThreshold, coolDown, nanoTime);
		this.pendingLimit = pendingLimit;
		this.nanoTime = nanoTime;
		this.scheduler = scheduler;
	}

	void setReplayer(Replayer replayer) {
		this.replayer = replayer;
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
			long deadline = enqueue(invalidation);
			awaitReplay(invalidation, deadline);
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
		return !this.circuit.isOpen() && this.pendingCount.get() == 0;
	}

	/** How many tags, keys and caches wait to be invalidated (merged), the replay in flight included. */
	int getPendingInvalidations() {
		return this.pendingCount.get();
	}

	long getOverflows() {
		return this.overflows.sum();
	}

	/** How many replays of queued invalidations completed. */
	long getReplays() {
		return this.replays.sum();
	}

	/**
	 * The fast path is two volatile reads. Nothing goes to Redis while invalidations wait (the
	 * replay thread sends them); with the circuit open, one call probes after the cool-down.
	 */
	private boolean admit() {
		return this.pendingCount.get() == 0 && this.circuit.allows();
	}

	/**
	 * Wait until the invalidation reached Redis or the deadline passed, whichever comes first; on the
	 * replay thread itself (a replay that invalidates) there is no waiting.
	 */
	private void awaitReplay(PendingInvalidations invalidation, long deadline) {
		long remaining = deadline - this.nanoTime.getAsLong();
		if (remaining <= 0 || this.replaying.isHeldByCurrentThread()) {
			return;
		}
		try {
			invalidation.replayed().get(remaining, TimeUnit.NANOSECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		catch (ExecutionException | TimeoutException ex) {
			// still queued: replayed later, and the window applies
		}
	}

	/** Queue an invalidation; returns until when its caller may wait for the replay. */
	private long enqueue(PendingInvalidations invalidation) {
		synchronized (this.lock) {
			if (!this.waiting) {
				// the first invalidation queued in this outage starts the outage's waiting budget
				this.waiting = true;
				this.waitUntil = this.nanoTime.getAsLong() + this.invalidationWaitNanos;
			}
			if (this.overflowed) {
				addOverflowed(invalidation);
			}
			else {
				// past the outage's waiting budget nobody waits: no link to keep until the replay
				this.pending.addAll(invalidation, this.nanoTime.getAsLong() - this.waitUntil < 0);
				if (this.pending.size() + this.inFlight.size() > this.pendingLimit) {
					this.overflowed = true;
					this.overflows.increment();
					addOverflowed(this.pending);
					addOverflowed(this.inFlight);
					this.pending = new PendingInvalidations();
				}
			}
			updateCount();
			scheduleReplay();
			return this.waitUntil;
		}
	}

	private void addOverflowed(PendingInvalidations invalidation) {
		if (!invalidation.isEmpty()) {
			this.overflowedCaches = this.overflowedCaches.union(invalidation.caches());
		}
	}

	/** Called holding the lock. */
	private void updateCount() {
		this.pendingCount.set(this.pending.size() + this.inFlight.size() + (this.overflowed ? 1 : 0));
	}

	/** Called holding the lock. */
	private void scheduleReplay() {
		if (!this.replayScheduled && !this.stopped) {
			this.replayScheduled = true;
			this.scheduler.schedule(this::replay, REPLAY_INTERVAL);
		}
	}

	/**
	 * Replay what waits, merged, on the scheduler's thread; on an outage, put it back and try again
	 * after the interval. Invalidations queued during a replay are sent by the next round.
	 */
	void replay() {
		synchronized (this.lock) {
			this.replayScheduled = false;
		}
		if (!this.replaying.tryLock()) {
			return;
		}
		try {
			while (replayRound()) {
				this.replays.increment();
			}
		}
		finally {
			this.replaying.unlock();
		}
	}

	/** One round: returns whether it sent something, {@code false} when nothing waits or it failed. */
	private boolean replayRound() {
		PendingInvalidations batch;
		boolean clear;
		CacheScope cachesToClear;
		synchronized (this.lock) {
			if (this.pending.isEmpty() && !this.overflowed) {
				this.waiting = false;
				// Redis answered the last round: close the circuit at once rather than after the cool-down
				this.circuit.close();
				return false;
			}
			batch = this.pending;
			this.pending = new PendingInvalidations();
			this.inFlight = batch;
			clear = this.overflowed;
			cachesToClear = this.overflowedCaches;
		}
		Replayer replayer = this.replayer;
		try {
			if (clear && replayer != null) {
				replayer.clear(cachesToClear);
				logger.warn("Cleared " + cachesToClear + " after Redis returned: more than " + this.pendingLimit
						+ " invalidations were queued while it was unreachable");
				synchronized (this.lock) {
					this.overflowed = false;
					this.overflowedCaches = CacheScope.of(Set.of());
				}
			}
			if (!batch.isEmpty() && replayer != null) {
				try {
					replayer.replay(batch);
				}
				catch (DataAccessException ex) {
					if (!isRefusal(ex)) {
						throw ex;
					}
					clearRefused(replayer, batch, ex);
				}
			}
			succeeded();
			synchronized (this.lock) {
				this.inFlight = new PendingInvalidations();
				updateCount();
			}
			batch.replayed().complete(null);
			return true;
		}
		catch (DataAccessException ex) {
			failed("replay", CacheScope.EVERY_CACHE_LABEL, ex);
			synchronized (this.lock) {
				// put it back, with what was queued meanwhile, and try again after the interval
				batch.addAll(this.pending, this.nanoTime.getAsLong() - this.waitUntil < 0);
				this.pending = batch;
				this.inFlight = new PendingInvalidations();
				updateCount();
				scheduleReplay();
			}
			return false;
		}
	}

	/**
	 * Queued invalidations that Redis refuses (a key of the wrong type in their way, say) would block
	 * the queue for good: the caches they concern are cleared instead, as on overflow, or, if that is
	 * refused too, they are dropped. Either way it is logged as an error.
	 */
	private void clearRefused(Replayer replayer, PendingInvalidations refused, DataAccessException ex) {
		CacheScope caches = refused.caches();
		String named = caches.toString();
		try {
			replayer.clear(caches);
			logger.error("Redis refused queued invalidations (" + ex.getMessage() + "); cleared " + named + " instead");
		}
		catch (DataAccessException clearFailure) {
			if (!isRefusal(clearFailure)) {
				throw clearFailure;
			}
			logger.error("Redis refused queued invalidations (" + ex.getMessage() + ") and clearing " + named + " ("
					+ clearFailure.getMessage() + "); dropped them: the entries they concerned stay until they expire");
		}
	}

	/**
	 * Stop replaying, when the application stops.
	 * @return how many tags, keys and caches were still waiting to be invalidated, now dropped
	 */
	int stop() {
		synchronized (this.lock) {
			this.stopped = true;
			return this.pending.size() + this.inFlight.size() + (this.overflowed ? 1 : 0);
		}
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
