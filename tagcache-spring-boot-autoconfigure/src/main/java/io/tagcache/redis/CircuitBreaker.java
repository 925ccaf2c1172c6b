package io.tagcache.redis;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * The circuit of {@link RedisOutageGuard}: closed while Redis answers; open after
 * {@code failureThreshold} consecutive failures, so that calls skip Redis for the cool-down instead
 * of each paying a connect or command timeout; then one call is let through as a probe, and one more
 * failure opens it again. Refusals (Redis answered) are not failures here.
 */
final class CircuitBreaker {

	private final int failureThreshold;

	private final long coolDownNanos;

	private final LongSupplier nanoTime;

	private final AtomicInteger consecutiveFailures = new AtomicInteger();

	private volatile long openUntil;

	private volatile boolean open;

	private final AtomicBoolean probing = new AtomicBoolean();

	CircuitBreaker(int failureThreshold, Duration coolDown, LongSupplier nanoTime) {
		this.failureThreshold = failureThreshold;
		this.coolDownNanos = coolDown.toNanos();
		this.nanoTime = nanoTime;
	}

	/** Whether the circuit is open: calls skip Redis. */
	boolean isOpen() {
		return this.open;
	}

	/**
	 * Whether a call may go to Redis now: the circuit is closed, or its cool-down is over and this call
	 * is the one probe (which closes it, one failure away from opening again).
	 */
	boolean allows() {
		if (!this.open) {
			return true;
		}
		if (this.nanoTime.getAsLong() - this.openUntil < 0 || !this.probing.compareAndSet(false, true)) {
			return false;
		}
		try {
			this.consecutiveFailures.set(this.failureThreshold - 1);
			this.open = false;
			return true;
		}
		finally {
			this.probing.set(false);
		}
	}

	/** Redis answered. */
	void succeeded() {
		if (this.consecutiveFailures.get() != 0) {
			this.consecutiveFailures.set(0);
		}
	}

	/** Redis did not answer: opens the circuit at the threshold, or keeps it open for another cool-down. */
	void failed() {
		if (this.consecutiveFailures.incrementAndGet() >= this.failureThreshold || this.open) {
			this.openUntil = this.nanoTime.getAsLong() + this.coolDownNanos;
			this.open = true;
		}
	}

	/** Close at once: something else proved that Redis answers (a replay). */
	void close() {
		if (this.open) {
			this.open = false;
			this.consecutiveFailures.set(0);
		}
	}

}
