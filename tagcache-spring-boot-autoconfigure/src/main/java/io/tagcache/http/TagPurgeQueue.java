package io.tagcache.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.DoubleSupplier;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;

/**
 * Sends the invalidations of this instance to one {@link TagPurger}, without ever failing or slowing
 * them: what the wiring calls for each invalidation.
 *
 * <p>Design: {@link #submit} only records the tags in a map of pending tags, in the order they were
 * last submitted, under a lock that nothing holds for longer than a map update (never during a
 * request); it never blocks on the purger and never throws. A tag submitted again while pending
 * moves to the end; a tag pending as soft and submitted as hard becomes hard (a purge does what a
 * soft purge does, and more), never the other way. One daemon thread per queue takes every pending
 * tag at once and sends them as at most two purges, the hard ones and the soft ones, so that a burst
 * of invalidations becomes a few requests. A purge that fails (an exception, or no answer within the
 * attempt timeout) goes back to the head of the queue, merged with what came meanwhile, and is
 * retried after a backoff that doubles from {@code initialBackoff} to {@code maxBackoff}, jittered
 * (each delay is drawn between half and all of its step) so that instances do not retry in step;
 * purges are idempotent, so a purge is retried whole. Tags the purger can never purge
 * ({@link UnpurgeableTagsException}) are not retried.
 *
 * <p>Bounded: beyond {@code maxPendingTags} pending tags, the oldest are dropped (they stay cached at
 * the edge until they expire) and counted. Counts are in tags, per outcome: {@value #SENT} (accepted by
 * the cache), {@value #FAILED} (in an attempt that failed and is retried: a tag counts once per failed
 * attempt), {@value #DROPPED} (given up: the queue was full, the purger refused them, or the queue
 * was closed with them pending).
 *
 * <p>Logged once per burst of failures: the first failed attempt at WARN with the cause, the next
 * ones at DEBUG, and at INFO when a purge succeeds again, with how many attempts failed.
 *
 * <p>{@link #close()} lets the thread send what is pending (one attempt, no retry) for up to
 * {@link #CLOSE_TIMEOUT}, then stops it.
 */
public final class TagPurgeQueue implements AutoCloseable {

	/** The outcome of tags the cache accepted. */
	public static final String SENT = "sent";

	/** The outcome of tags in an attempt that failed, to be retried. */
	public static final String FAILED = "failed";

	/** The outcome of tags given up. */
	public static final String DROPPED = "dropped";

	/** Every outcome, as {@link #getCount(String)} takes them. */
	public static final List<String> OUTCOMES = List.of(SENT, FAILED, DROPPED);

	/** The default most pending tags. */
	public static final int DEFAULT_MAX_PENDING_TAGS = 10_000;

	/** The default first delay before a retry. */
	public static final Duration DEFAULT_INITIAL_BACKOFF = Duration.ofMillis(100);

	/** The default longest delay before a retry. */
	public static final Duration DEFAULT_MAX_BACKOFF = Duration.ofSeconds(30);

	/** The default time a purge may take before it is counted as failed and retried. */
	public static final Duration DEFAULT_ATTEMPT_TIMEOUT = Duration.ofSeconds(30);

	/** How long {@link #close()} waits for the pending tags to be sent. */
	public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

	private static final Log logger = LogFactory.getLog(TagPurgeQueue.class);

	/** Waits out a backoff; replaced in tests so that they need no sleep. */
	@FunctionalInterface
	interface Sleeper {

		void sleep(Duration delay) throws InterruptedException;

	}

	private final TagPurger purger;

	private final int maxPendingTags;

	private final Duration initialBackoff;

	private final Duration maxBackoff;

	private final Duration attemptTimeout;

	private final Sleeper sleeper;

	private final DoubleSupplier random;

	private final ReentrantLock lock = new ReentrantLock();

	private final Condition submitted = this.lock.newCondition();

	/** Pending tags in the order they were last submitted, each with whether only a soft purge is asked. */
	private final LinkedHashMap<String, Boolean> pending = new LinkedHashMap<>();

	private int inFlight;

	private boolean closed;

	private boolean backingOff;

	/** Whether tags were dropped for want of room since the last successful purge (logged once). */
	private boolean overflowing;

	private final AtomicLong sent = new AtomicLong();

	private final AtomicLong failed = new AtomicLong();

	private final AtomicLong dropped = new AtomicLong();

	private final Thread worker;

	/**
	 * Create a queue with the default limits and start its thread.
	 * @param purger the purger to send to
	 */
	public TagPurgeQueue(TagPurger purger) {
		this(purger, DEFAULT_MAX_PENDING_TAGS, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF, DEFAULT_ATTEMPT_TIMEOUT);
	}

	/**
	 * Create a queue and start its thread.
	 * @param purger the purger to send to
	 * @param maxPendingTags the most tags waiting to be sent; beyond, the oldest are dropped
	 * @param initialBackoff the delay before the first retry
	 * @param maxBackoff the longest delay between retries
	 * @param attemptTimeout how long a purge may take before it is counted as failed and retried
	 */
	public TagPurgeQueue(TagPurger purger, int maxPendingTags, Duration initialBackoff, Duration maxBackoff,
			Duration attemptTimeout) {
		this(purger, maxPendingTags, initialBackoff, maxBackoff, attemptTimeout,
				(delay) -> TimeUnit.NANOSECONDS.sleep(delay.toNanos()), () -> ThreadLocalRandom.current().nextDouble());
	}

	TagPurgeQueue(TagPurger purger, int maxPendingTags, Duration initialBackoff, Duration maxBackoff,
			Duration attemptTimeout, Sleeper sleeper, DoubleSupplier random) {
		Assert.notNull(purger, "A purger is needed");
		Assert.isTrue(maxPendingTags > 0,
				() -> "The most pending tags of the " + purger.name() + " purge queue must be positive, not "
						+ maxPendingTags);
		Assert.isTrue(isPositive(initialBackoff) && !maxBackoff.minus(initialBackoff).isNegative(),
				() -> "The backoff of the " + purger.name() + " purge queue must grow from a positive delay ("
						+ initialBackoff + ") to a longer or equal one (" + maxBackoff + ")");
		Assert.isTrue(isPositive(attemptTimeout), () -> "The attempt timeout of the " + purger.name()
				+ " purge queue must be positive, not " + attemptTimeout);
		this.purger = purger;
		this.maxPendingTags = maxPendingTags;
		this.initialBackoff = initialBackoff;
		this.maxBackoff = maxBackoff;
		this.attemptTimeout = attemptTimeout;
		this.sleeper = sleeper;
		this.random = random;
		this.worker = new Thread(this::work, "tagcache-purge-" + purger.name());
		this.worker.setDaemon(true);
		this.worker.start();
	}

	/**
	 * The name of the purger this queue sends to.
	 * @return the purger's {@link TagPurger#name() name}
	 */
	public String name() {
		return this.purger.name();
	}

	/**
	 * Queue the tags of an invalidation for purging. Never blocks on the purger and never throws.
	 * @param tags the tags invalidated
	 * @param soft whether the invalidation was soft
	 */
	public void submit(@Nullable Collection<String> tags, boolean soft) {
		if (tags == null || tags.isEmpty()) {
			return;
		}
		try {
			int overflow;
			boolean firstOverflow = false;
			this.lock.lock();
			try {
				if (this.closed) {
					overflow = tags.size();
					this.dropped.addAndGet(overflow);
				}
				else {
					for (String tag : tags) {
						if (tag != null) {
							Boolean wasSoft = this.pending.remove(tag);
							this.pending.put(tag, soft && (wasSoft == null || wasSoft));
						}
					}
					overflow = dropOverflow();
					if (overflow > 0 && !this.overflowing) {
						this.overflowing = true;
						firstOverflow = true;
					}
					this.submitted.signal();
				}
			}
			finally {
				this.lock.unlock();
			}
			if (firstOverflow) {
				logger.warn("The " + name() + " purge queue is full (" + this.maxPendingTags
						+ " pending tags): dropping the oldest, which stay cached at the edge until they expire");
			}
		}
		catch (RuntimeException ex) {
			// A purge must never fail an invalidation
			logger.debug("Could not queue tags for the " + name() + " purge queue", ex);
		}
	}

	/**
	 * How many tags wait to be purged, those being sent included.
	 * @return the pending tags
	 */
	public int getPending() {
		this.lock.lock();
		try {
			return this.pending.size() + this.inFlight;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * How many tags had an outcome since the queue started.
	 * @param outcome one of {@link #OUTCOMES}
	 * @return the count, in tags
	 */
	public long getCount(String outcome) {
		return switch (outcome) {
			case SENT -> this.sent.get();
			case FAILED -> this.failed.get();
			case DROPPED -> this.dropped.get();
			default -> throw new IllegalArgumentException(
					"Unknown purge outcome '" + outcome + "': expected one of " + OUTCOMES);
		};
	}

	/**
	 * Send what is pending (one attempt, no retry, for up to {@link #CLOSE_TIMEOUT}), then stop the
	 * thread. Tags submitted afterwards, or still pending then, are counted as dropped.
	 */
	@Override
	public void close() {
		this.lock.lock();
		try {
			if (this.closed) {
				return;
			}
			this.closed = true;
			this.submitted.signalAll();
			if (this.backingOff) {
				this.worker.interrupt();
			}
		}
		finally {
			this.lock.unlock();
		}
		try {
			this.worker.join(CLOSE_TIMEOUT.toMillis());
			if (this.worker.isAlive()) {
				this.worker.interrupt();
				this.worker.join(CLOSE_TIMEOUT.toMillis());
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		int left;
		this.lock.lock();
		try {
			left = this.pending.size();
			this.pending.clear();
		}
		finally {
			this.lock.unlock();
		}
		if (left > 0) {
			this.dropped.addAndGet(left);
			logger.warn(left + " tag(s) were not purged from " + name()
					+ " before the queue closed; they stay cached at the edge until they expire");
		}
	}

	/**
	 * The delay before a retry: {@code initial} doubled for each failure after the first, at most
	 * {@code max}, then drawn between half and all of that.
	 * @param failures the consecutive failed attempts, at least one
	 * @param initial the first step
	 * @param max the longest step
	 * @param random a number in {@code [0, 1)}
	 * @return the delay
	 */
	static Duration backoff(int failures, Duration initial, Duration max, double random) {
		long maxNanos = max.toNanos();
		long step = initial.toNanos();
		for (int i = 1; i < failures && step < maxNanos; i++) {
			step = (step > maxNanos / 2) ? maxNanos : step * 2;
		}
		step = Math.min(step, maxNanos);
		return Duration.ofNanos(step / 2 + (long) (step / 2 * random));
	}

	private int dropOverflow() {
		int overflow = this.pending.size() - this.maxPendingTags;
		if (overflow <= 0) {
			return 0;
		}
		Iterator<String> oldest = this.pending.keySet().iterator();
		for (int i = 0; i < overflow; i++) {
			oldest.next();
			oldest.remove();
		}
		this.dropped.addAndGet(overflow);
		return overflow;
	}

	private void work() {
		int failures = 0;
		try {
			while (true) {
				Map<String, Boolean> batch = take();
				if (batch == null) {
					return;
				}
				Throwable failure = attempt(batch);
				if (failure == null) {
					if (failures > 0) {
						logger.info("Purges to " + name() + " succeed again, after " + failures + " failed attempt(s)");
					}
					failures = 0;
					continue;
				}
				failures++;
				logFailure(failures, failure);
				if (isClosed()) {
					return;
				}
				backOff(failures);
			}
		}
		catch (InterruptedException ex) {
			// closed
		}
		catch (RuntimeException | Error ex) {
			logger.error("The " + name() + " purge queue stopped: purges are no longer sent", ex);
		}
	}

	/** Wait for pending tags and take them all; {@code null} once closed with none pending. */
	private @Nullable Map<String, Boolean> take() throws InterruptedException {
		this.lock.lock();
		try {
			while (this.pending.isEmpty()) {
				if (this.closed) {
					return null;
				}
				this.submitted.await();
			}
			Map<String, Boolean> batch = new LinkedHashMap<>(this.pending);
			this.pending.clear();
			this.inFlight = batch.size();
			return batch;
		}
		finally {
			this.lock.unlock();
		}
	}

	/**
	 * Purge the batch: the hard tags, then the soft ones. What failed goes back to the head of the
	 * queue.
	 * @return the first failure, or {@code null} when every purge was accepted
	 */
	private @Nullable Throwable attempt(Map<String, Boolean> batch) throws InterruptedException {
		List<String> hard = new ArrayList<>();
		List<String> soft = new ArrayList<>();
		batch.forEach((tag, onlySoft) -> (onlySoft ? soft : hard).add(tag));
		Map<String, Boolean> retry = new LinkedHashMap<>();
		Throwable failure = null;
		List<List<String>> kinds = List.of(hard, soft);
		for (int i = 0; i < kinds.size(); i++) {
			List<String> tags = kinds.get(i);
			boolean isSoft = (i == 1);
			if (tags.isEmpty()) {
				continue;
			}
			Throwable cause;
			try {
				cause = purge(tags, isSoft);
			}
			catch (InterruptedException ex) {
				// Closing: what was not sent stays pending, and is counted as dropped by close()
				for (int j = i; j < kinds.size(); j++) {
					boolean kindIsSoft = (j == 1);
					kinds.get(j).forEach((tag) -> retry.put(tag, kindIsSoft));
				}
				requeue(retry);
				throw ex;
			}
			if (cause == null) {
				this.sent.addAndGet(tags.size());
			}
			else if (cause instanceof UnpurgeableTagsException refused) {
				this.sent.addAndGet(tags.size() - refused.getTags().size());
				this.dropped.addAndGet(refused.getTags().size());
				logger.warn(refused.getMessage());
			}
			else {
				this.failed.addAndGet(tags.size());
				tags.forEach((tag) -> retry.put(tag, isSoft));
				failure = (failure != null) ? failure : cause;
			}
		}
		requeue(retry);
		return failure;
	}

	private @Nullable Throwable purge(List<String> tags, boolean soft) throws InterruptedException {
		try {
			this.purger.purge(tags, soft).get(this.attemptTimeout.toNanos(), TimeUnit.NANOSECONDS);
			return null;
		}
		catch (ExecutionException ex) {
			return unwrap(ex.getCause());
		}
		catch (TimeoutException ex) {
			return new TagPurgeException(name(), "Purge of " + tags.size() + " tag(s) by " + name()
					+ " took longer than " + this.attemptTimeout, ex);
		}
		catch (RuntimeException ex) {
			// A purger that throws instead of completing its future
			return ex;
		}
	}

	private static Throwable unwrap(@Nullable Throwable failure) {
		Throwable cause = failure;
		while (cause instanceof CompletionException && cause.getCause() != null) {
			cause = cause.getCause();
		}
		return (cause != null) ? cause : new IllegalStateException("Purge failed without a cause");
	}

	/** Put the tags back at the head of the queue, merged with those submitted meanwhile. */
	private void requeue(Map<String, Boolean> tags) {
		this.lock.lock();
		try {
			this.inFlight = 0;
			if (tags.isEmpty()) {
				this.overflowing = false;
				return;
			}
			Map<String, Boolean> newer = new LinkedHashMap<>(this.pending);
			this.pending.clear();
			this.pending.putAll(tags);
			newer.forEach((tag, soft) -> {
				Boolean wasSoft = this.pending.remove(tag);
				this.pending.put(tag, soft && (wasSoft == null || wasSoft));
			});
			dropOverflow();
		}
		finally {
			this.lock.unlock();
		}
	}

	private void backOff(int failures) throws InterruptedException {
		Duration delay = backoff(failures, this.initialBackoff, this.maxBackoff, this.random.getAsDouble());
		this.lock.lock();
		try {
			if (this.closed) {
				return;
			}
			this.backingOff = true;
		}
		finally {
			this.lock.unlock();
		}
		try {
			this.sleeper.sleep(delay);
		}
		finally {
			this.lock.lock();
			try {
				this.backingOff = false;
			}
			finally {
				this.lock.unlock();
			}
		}
	}

	private static boolean isPositive(Duration duration) {
		return !duration.isNegative() && !duration.isZero();
	}

	private boolean isClosed() {
		this.lock.lock();
		try {
			return this.closed;
		}
		finally {
			this.lock.unlock();
		}
	}

	private void logFailure(int failures, Throwable failure) {
		if (failures == 1) {
			logger.warn("Purging tags from " + name() + " failed; retrying with backoff, further failures are "
					+ "logged at DEBUG until a purge succeeds: " + failure);
			if (logger.isDebugEnabled()) {
				logger.debug("Purge failure of " + name(), failure);
			}
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Purging tags from " + name() + " failed again (" + failures + " attempts): " + failure);
		}
	}

}
