package io.tagcache.redis;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;

/**
 * The replay queue of {@link RedisOutageGuard}: invalidations that could not reach Redis, merged
 * ({@link PendingInvalidations}), replayed on the scheduler's thread every
 * {@link RedisOutageGuard#REPLAY_INTERVAL} until Redis takes them; an overflow turns them into
 * clears of the caches they concerned; a caller may wait for its own invalidation's replay within
 * the outage's waiting budget.
 */
final class InvalidationReplayQueue {

	private static final Log logger = LogFactory.getLog(RedisOutageGuard.class);

	/** What a replay round tells the guard: Redis answered, or failed. */
	interface Outcomes {

		void succeeded();

		void failed(DataAccessException ex);

	}

	private final int pendingLimit;

	private final LongSupplier nanoTime;

	private final long invalidationWaitNanos;

	private final RedisOutageGuard.ReplayScheduler scheduler;

	private final CircuitBreaker circuit;

	private final Outcomes outcomes;

	/** Until when callers of this outage wait for their queued invalidations (guarded by the lock). */
	private long waitUntil;

	private boolean waiting;

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

	private RedisOutageGuard.@Nullable Replayer replayer;

	InvalidationReplayQueue(int pendingLimit, Duration invalidationWait, LongSupplier nanoTime,
			RedisOutageGuard.ReplayScheduler scheduler, CircuitBreaker circuit, Outcomes outcomes) {
		this.pendingLimit = pendingLimit;
		this.invalidationWaitNanos = invalidationWait.toNanos();
		this.nanoTime = nanoTime;
		this.scheduler = scheduler;
		this.circuit = circuit;
		this.outcomes = outcomes;
	}

	void setReplayer(RedisOutageGuard.Replayer replayer) {
		this.replayer = replayer;
	}

	/** Whether nothing waits (the replay in flight included): calls may go to Redis. */
	boolean isEmpty() {
		return this.pendingCount.get() == 0;
	}

	/** How many tags, keys and caches wait to be invalidated (merged), the replay in flight included. */
	int size() {
		return this.pendingCount.get();
	}

	long overflows() {
		return this.overflows.sum();
	}

	long replays() {
		return this.replays.sum();
	}

	/**
	 * Wait until the invalidation reached Redis or the deadline passed, whichever comes first; on the
	 * replay thread itself (a replay that invalidates) there is no waiting.
	 */
	void awaitReplay(PendingInvalidations invalidation, long deadline) {
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
	long enqueue(PendingInvalidations invalidation) {
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
			this.scheduler.schedule(this::replay, RedisOutageGuard.REPLAY_INTERVAL);
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
		RedisOutageGuard.Replayer replayer = this.replayer;
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
					if (!RedisOutageGuard.isRefusal(ex)) {
						throw ex;
					}
					clearRefused(replayer, batch, ex);
				}
			}
			this.outcomes.succeeded();
			synchronized (this.lock) {
				this.inFlight = new PendingInvalidations();
				updateCount();
			}
			batch.replayed().complete(null);
			return true;
		}
		catch (DataAccessException ex) {
			this.outcomes.failed(ex);
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
	private void clearRefused(RedisOutageGuard.Replayer replayer, PendingInvalidations refused, DataAccessException ex) {
		CacheScope caches = refused.caches();
		String named = caches.toString();
		try {
			replayer.clear(caches);
			logger.error("Redis refused queued invalidations (" + ex.getMessage() + "); cleared " + named + " instead");
		}
		catch (DataAccessException clearFailure) {
			if (!RedisOutageGuard.isRefusal(clearFailure)) {
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

}
