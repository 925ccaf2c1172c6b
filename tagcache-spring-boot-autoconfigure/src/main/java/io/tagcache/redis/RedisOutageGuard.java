package io.tagcache.redis;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
 * <p>A circuit breaker: after {@code failureThreshold} consecutive failures, calls skip Redis for
 * the cool-down instead of each paying a connect or command timeout; then one call probes Redis and,
 * if it answers, traffic resumes. Reads and writes that skip or fail fall back (a miss, a skipped
 * write) and are counted by their cache.
 *
 * <p>A command that Redis refuses (a key of the wrong type, a script error) is counted and logged
 * but does not open the circuit: Redis answers every other call. A refused read or write falls back
 * like any failure; a refused invalidation is thrown to the caller rather than queued, since a replay
 * would be refused again.
 *
 * <p>Invalidations (tag invalidations, evictions, clears) that cannot reach Redis are queued, up to
 * {@code pendingLimit}, and replayed before any other call is let through again: no read can see,
 * and no fenced write can store, what a queued invalidation removes. If the queue overflows, the
 * caches it concerned are cleared when Redis returns instead (a safe over-invalidation). The queue
 * lives in this JVM only: other instances reading Redis meanwhile do not know about it.
 */
final class RedisOutageGuard {

	private static final Log logger = LogFactory.getLog(RedisOutageGuard.class);

	/** An invalidation waiting for Redis; {@code caches} is empty when it concerns every cache. */
	record PendingInvalidation(Runnable replay, Set<String> caches) {

	}

	/** Clears the given caches (all of the prefix when empty), when the queue overflowed. */
	interface OverflowRecovery {

		void clear(Set<String> caches);

	}

	private final int failureThreshold;

	private final long coolDownNanos;

	private final int pendingLimit;

	private final LongSupplier nanoTime;

	private final RedisFailureLog failureLog = new RedisFailureLog();

	private final AtomicInteger consecutiveFailures = new AtomicInteger();

	private volatile long openUntil;

	private volatile boolean open;

	private final ReentrantLock recovery = new ReentrantLock();

	private final Deque<PendingInvalidation> pending = new ArrayDeque<>();

	private final AtomicInteger pendingCount = new AtomicInteger();

	private volatile boolean overflowed;

	private @Nullable Set<String> overflowedCaches = new LinkedHashSet<>();

	private final LongAdder overflows = new LongAdder();

	private @Nullable OverflowRecovery overflowRecovery;

	RedisOutageGuard(int failureThreshold, Duration coolDown, int pendingLimit, LongSupplier nanoTime) {
		this.failureThreshold = failureThreshold;
		this.coolDownNanos = coolDown.toNanos();
		this.pendingLimit = pendingLimit;
		this.nanoTime = nanoTime;
	}

	void setOverflowRecovery(OverflowRecovery overflowRecovery) {
		this.overflowRecovery = overflowRecovery;
	}

	/**
	 * Run a read or write; on a skip or failure return the fallback and count an error.
	 */
	<T> T call(String operation, String cacheName, @Nullable CacheCounters counters, Supplier<T> action,
			Supplier<T> fallback) {
		return run(operation, cacheName, counters, action, fallback, false);
	}

	/**
	 * Run an asynchronous read or write; on a skip or failure complete with {@code null} and count
	 * an error.
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
	 * Run an invalidation; when Redis is skipped or fails, queue it for replay and return
	 * {@code whenQueued}.
	 * @param caches the caches it concerns, empty for every cache of the prefix (what an overflow
	 * clears)
	 */
	<T> T invalidation(String operation, String cacheName, @Nullable CacheCounters counters, Set<String> caches,
			Supplier<T> action, T whenQueued) {
		// A refused invalidation is thrown: Redis answered, and a replay would be refused again.
		return run(operation, cacheName, counters, action, () -> {
			enqueue(new PendingInvalidation(action::get, caches));
			return whenQueued;
		}, true);
	}

	private <T> T run(String operation, String cacheName, @Nullable CacheCounters counters, Supplier<T> action,
			Supplier<T> fallback, boolean throwRefusals) {
		if (admit()) {
			try {
				T result = action.get();
				succeeded();
				return result;
			}
			catch (DataAccessException ex) {
				failed(operation, cacheName, ex);
				if (throwRefusals && isRefusal(ex)) {
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
		return !this.open && this.pendingCount.get() == 0;
	}

	int getPendingInvalidations() {
		return this.pendingCount.get();
	}

	long getOverflows() {
		return this.overflows.sum();
	}

	/** The fast path is two volatile reads; otherwise one caller at a time probes and replays. */
	private boolean admit() {
		if (!this.open && this.pendingCount.get() == 0) {
			return true;
		}
		if (this.open && this.nanoTime.getAsLong() - this.openUntil < 0) {
			return false;
		}
		if (!this.recovery.tryLock()) {
			return false;
		}
		try {
			boolean wasOpen = this.open;
			replayPending();
			// After a cool-down this call is the probe: one more failure opens the circuit again.
			this.consecutiveFailures.set(wasOpen ? this.failureThreshold - 1 : 0);
			this.open = false;
			return true;
		}
		catch (DataAccessException ex) {
			failed("replay", "*", ex);
			return false;
		}
		finally {
			this.recovery.unlock();
		}
	}

	private void replayPending() {
		if (this.overflowed) {
			Set<String> caches;
			synchronized (this.pending) {
				caches = this.overflowedCaches;
			}
			if (this.overflowRecovery != null) {
				this.overflowRecovery.clear((caches != null) ? caches : Set.of());
			}
			synchronized (this.pending) {
				this.overflowed = false;
				this.overflowedCaches = new LinkedHashSet<>();
				this.pendingCount.set(this.pending.size());
			}
			logger.warn("Cleared " + ((caches != null && !caches.isEmpty()) ? "caches " + caches : "every cache")
					+ " after Redis returned: more than " + this.pendingLimit
					+ " invalidations were queued while it was unreachable");
		}
		while (true) {
			PendingInvalidation next;
			synchronized (this.pending) {
				next = this.pending.peekFirst();
			}
			if (next == null) {
				return;
			}
			try {
				next.replay().run();
			}
			catch (DataAccessException ex) {
				if (!isRefusal(ex)) {
					throw ex;
				}
				clearRefused(next, ex);
			}
			synchronized (this.pending) {
				if (this.pending.peekFirst() == next) {
					this.pending.pollFirst();
					this.pendingCount.decrementAndGet();
				}
			}
		}
	}

	/**
	 * A queued invalidation that Redis refuses (a key of the wrong type in its way, say) would block
	 * the queue for good: the caches it concerns are cleared instead, as on overflow, or, if that is
	 * refused too, it is dropped. Either way it is logged as an error.
	 */
	private void clearRefused(PendingInvalidation refused, DataAccessException ex) {
		String caches = refused.caches().isEmpty() ? "every cache" : "caches " + refused.caches();
		try {
			if (this.overflowRecovery != null) {
				this.overflowRecovery.clear(refused.caches());
			}
			logger.error("Redis refused a queued invalidation (" + ex.getMessage() + "); cleared " + caches
					+ " instead");
		}
		catch (DataAccessException clearFailure) {
			if (!isRefusal(clearFailure)) {
				throw clearFailure;
			}
			logger.error("Redis refused a queued invalidation (" + ex.getMessage() + ") and clearing " + caches
					+ " (" + clearFailure.getMessage() + "); dropped it: the entries it concerned stay until they "
					+ "expire");
		}
	}

	private void enqueue(PendingInvalidation invalidation) {
		synchronized (this.pending) {
			if (this.overflowed) {
				addOverflowed(invalidation);
				return;
			}
			if (this.pending.size() >= this.pendingLimit) {
				this.overflowed = true;
				this.overflows.increment();
				for (PendingInvalidation queued : this.pending) {
					addOverflowed(queued);
				}
				addOverflowed(invalidation);
				this.pending.clear();
				// one marker keeps the count non-zero, so that no call passes before the recovery
				this.pendingCount.set(1);
				return;
			}
			this.pending.addLast(invalidation);
			this.pendingCount.incrementAndGet();
		}
	}

	private void addOverflowed(PendingInvalidation invalidation) {
		if (this.overflowedCaches != null) {
			if (invalidation.caches().isEmpty()) {
				this.overflowedCaches = null;
			}
			else {
				this.overflowedCaches.addAll(invalidation.caches());
			}
		}
	}

	private void succeeded() {
		if (this.consecutiveFailures.get() != 0) {
			this.consecutiveFailures.set(0);
		}
		this.failureLog.succeeded();
	}

	private void failed(String operation, String cacheName, DataAccessException ex) {
		if (isRefusal(ex)) {
			this.failureLog.refused(operation, cacheName, ex);
			return;
		}
		this.failureLog.failed(operation, cacheName, ex);
		if (this.consecutiveFailures.incrementAndGet() >= this.failureThreshold || this.open) {
			this.openUntil = this.nanoTime.getAsLong() + this.coolDownNanos;
			this.open = true;
		}
	}

}
