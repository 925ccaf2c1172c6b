package io.tagcache.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * {@link TagPurgeQueue} with purgers under the test's control: merging, retries with backoff (waited
 * out by a sleeper the test releases, never slept), the bound, and a submitter that is never blocked.
 */
@ExtendWith(OutputCaptureExtension.class)
class TagPurgeQueueTests {

	private final List<TagPurgeQueue> queues = new ArrayList<>();

	/** Backoffs asked for; each waits for a permit the test releases. */
	private final List<Duration> backoffs = new CopyOnWriteArrayList<>();

	private final Semaphore wakeUps = new Semaphore(0);

	@AfterEach
	void close() {
		this.wakeUps.release(1000);
		this.queues.forEach(TagPurgeQueue::close);
	}

	@Test
	void tagsPendingWhileAPurgeIsInFlightAreMergedIntoOnePurgePerKind() throws InterruptedException {
		ControlledPurger purger = new ControlledPurger("merging");
		TagPurgeQueue queue = queue(purger, 100);
		queue.submit(List.of("a"), false);
		Call first = purger.next();
		queue.submit(List.of("b", "c"), false);
		queue.submit(List.of("c", "d"), true);
		queue.submit(List.of("e"), true);
		assertThat(queue.getPending()).as("4 queued, 1 in flight").isEqualTo(5);
		first.future().complete(null);
		Call hard = purger.next();
		assertThat(hard.tags()).containsExactly("b", "c");
		assertThat(hard.soft()).isFalse();
		hard.future().complete(null);
		Call soft = purger.next();
		assertThat(soft.tags()).as("c was also invalidated hard, which does more than soft").containsExactly("d", "e");
		assertThat(soft.soft()).isTrue();
		soft.future().complete(null);
		await().untilAsserted(() -> assertThat(queue.getCount(TagPurgeQueue.SENT)).isEqualTo(5));
		assertThat(queue.getPending()).isZero();
	}

	@Test
	void aFailedPurgeIsRetriedWithBackoffUntilTheCacheRecovers() {
		try (RecordingHttpServer varnish = new RecordingHttpServer()) {
			varnish.answer(503, "Backend fetch failed");
			TagPurgeQueue queue = queue(new VarnishTagPurger(List.of(varnish.uri("/"))), 100);
			queue.submit(List.of("user-1", "users"), false);
			await().until(() -> this.backoffs.size() == 1);
			assertThat(queue.getCount(TagPurgeQueue.FAILED)).isEqualTo(2);
			assertThat(queue.getPending()).isEqualTo(2);
			queue.submit(List.of("user-2"), true);
			this.wakeUps.release();
			await().until(() -> this.backoffs.size() == 2);
			varnish.answer(200, "Invalidated 3 objects");
			this.wakeUps.release();
			await().untilAsserted(() -> assertThat(queue.getCount(TagPurgeQueue.SENT)).isEqualTo(3));
			assertThat(this.backoffs).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200));
			assertThat(queue.getPending()).isZero();
			assertThat(queue.getCount(TagPurgeQueue.FAILED)).isEqualTo(2 + 3);
			List<RecordingHttpServer.Recorded> requests = varnish.requests();
			assertThat(requests).as("the first attempt, then two with the soft purge submitted meanwhile").hasSize(1 + 2 + 2);
			assertThat(requests.get(3).header("xkey-purge")).isEqualTo("user-1 users");
			assertThat(requests.get(4).header("xkey-softpurge")).isEqualTo("user-2");
		}
	}

	@Test
	void theBackoffDoublesFrom100MillisecondsTo30SecondsWithJitter() {
		Duration initial = TagPurgeQueue.DEFAULT_INITIAL_BACKOFF;
		Duration max = TagPurgeQueue.DEFAULT_MAX_BACKOFF;
		List<Long> steps = new ArrayList<>();
		for (int failures = 1; failures <= 12; failures++) {
			steps.add(TagPurgeQueue.backoff(failures, initial, max, 1.0).toMillis());
		}
		assertThat(steps).containsExactly(100L, 200L, 400L, 800L, 1600L, 3200L, 6400L, 12800L, 25600L, 30000L, 30000L,
				30000L);
		assertThat(TagPurgeQueue.backoff(1, initial, max, 0.0)).isEqualTo(Duration.ofMillis(50));
		assertThat(TagPurgeQueue.backoff(4, initial, max, 0.5)).isEqualTo(Duration.ofMillis(600));
		assertThat(TagPurgeQueue.backoff(Integer.MAX_VALUE, initial, max, 0.0)).isEqualTo(Duration.ofSeconds(15));
	}

	@Test
	void beyondTheBoundTheOldestPendingTagsAreDropped() throws InterruptedException {
		ControlledPurger purger = new ControlledPurger("bounded");
		TagPurgeQueue queue = queue(purger, 5);
		queue.submit(List.of("first"), false);
		Call first = purger.next();
		queue.submit(List.of("t0", "t1", "t2", "t3"), false);
		queue.submit(List.of("t4", "t5", "t6", "t7"), true);
		assertThat(queue.getCount(TagPurgeQueue.DROPPED)).isEqualTo(3);
		assertThat(queue.getPending()).isEqualTo(5 + 1);
		first.future().complete(null);
		Call hard = purger.next();
		assertThat(hard.tags()).containsExactly("t3");
		hard.future().complete(null);
		Call soft = purger.next();
		assertThat(soft.tags()).containsExactly("t4", "t5", "t6", "t7");
		soft.future().complete(null);
	}

	@Test
	void aTagSubmittedAgainIsNoLongerTheOldest() throws InterruptedException {
		ControlledPurger purger = new ControlledPurger("renewed");
		TagPurgeQueue queue = queue(purger, 2);
		queue.submit(List.of("first"), false);
		Call first = purger.next();
		queue.submit(List.of("a", "b"), false);
		queue.submit(List.of("a"), false);
		queue.submit(List.of("c"), false);
		first.future().complete(null);
		Call renewed = purger.next();
		assertThat(renewed.tags()).containsExactly("a", "c");
		renewed.future().complete(null);
	}

	@Test
	void aPurgerThatNeverAnswersBlocksNoSubmitter() {
		TagPurger silent = new TagPurger() {

			@Override
			public String name() {
				return "silent";
			}

			@Override
			public CompletableFuture<Void> purge(List<String> tags, boolean soft) {
				return new CompletableFuture<>();
			}

		};
		TagPurgeQueue queue = new TagPurgeQueue(silent, 1000, Duration.ofMillis(100), Duration.ofSeconds(30),
				Duration.ofMillis(200), (delay) -> this.wakeUps.acquire(), () -> 1.0);
		this.queues.add(queue);
		assertTimeoutPreemptively(Duration.ofSeconds(5), () -> {
			for (int i = 0; i < 100_000; i++) {
				queue.submit(List.of("tag-" + i), (i % 2) == 0);
			}
		});
		assertThat(queue.getPending()).isLessThanOrEqualTo(1000 + 1000);
		assertThat(queue.getCount(TagPurgeQueue.DROPPED)).isGreaterThanOrEqualTo(100_000 - 2000);
		await().untilAsserted(() -> assertThat(queue.getCount(TagPurgeQueue.FAILED)).isPositive());
	}

	@Test
	void tagsThePurgerCanNeverPurgeAreDroppedNotRetried() throws InterruptedException {
		ControlledPurger purger = new ControlledPurger("refusing");
		TagPurgeQueue queue = queue(purger, 100);
		queue.submit(List.of("ok", "bad"), false);
		purger.next().future()
			.completeExceptionally(new UnpurgeableTagsException("refusing", List.of("bad"), "refusing cannot purge 'bad'"));
		queue.submit(List.of("next"), false);
		Call next = purger.next();
		assertThat(next.tags()).containsExactly("next");
		next.future().complete(null);
		await().untilAsserted(() -> assertThat(queue.getCount(TagPurgeQueue.SENT)).isEqualTo(2));
		assertThat(queue.getCount(TagPurgeQueue.DROPPED)).isOne();
		assertThat(queue.getCount(TagPurgeQueue.FAILED)).isZero();
	}

	@Test
	void aBurstOfFailuresIsLoggedOnceAndTheRecoveryAtInfo(CapturedOutput output) {
		AtomicInteger attempts = new AtomicInteger();
		TagPurger flaky = new TagPurger() {

			@Override
			public String name() {
				return "flaky";
			}

			@Override
			public CompletableFuture<Void> purge(List<String> tags, boolean soft) {
				return (attempts.incrementAndGet() <= 3)
						? CompletableFuture.failedFuture(new TagPurgeException("flaky", 503, "answered 503"))
						: CompletableFuture.completedFuture(null);
			}

		};
		TagPurgeQueue queue = new TagPurgeQueue(flaky, 100, Duration.ofMillis(100), Duration.ofSeconds(30),
				Duration.ofSeconds(10), (delay) -> this.backoffs.add(delay), () -> 1.0);
		this.queues.add(queue);
		queue.submit(List.of("a"), false);
		await().untilAsserted(() -> assertThat(queue.getCount(TagPurgeQueue.SENT)).isOne());
		await().untilAsserted(() -> assertThat(output.getOut()).contains("succeed again"));
		assertThat(output.getOut().lines().filter((line) -> line.contains("WARN"))).singleElement()
			.asString()
			.contains("Purging tags from flaky failed; retrying with backoff")
			.contains("answered 503");
		assertThat(output.getOut().lines().filter((line) -> line.contains("INFO"))).singleElement()
			.asString()
			.contains("Purges to flaky succeed again, after 3 failed attempt(s)");
	}

	@Test
	void closeSendsWhatIsPendingThenStopsTheThread() throws InterruptedException {
		ControlledPurger purger = new ControlledPurger("closing");
		TagPurgeQueue queue = queue(purger, 100);
		queue.submit(List.of("first"), false);
		Call first = purger.next();
		queue.submit(List.of("last"), false);
		first.future().complete(null);
		Thread closing = new Thread(queue::close);
		closing.start();
		Call last = purger.next();
		assertThat(last.tags()).containsExactly("last");
		last.future().complete(null);
		closing.join(TimeUnit.SECONDS.toMillis(10));
		assertThat(closing.isAlive()).isFalse();
		assertThat(queue.getCount(TagPurgeQueue.SENT)).isEqualTo(2);
		assertThat(Thread.getAllStackTraces().keySet()).noneMatch((thread) -> thread.getName().equals("tagcache-purge-closing"));
		queue.submit(List.of("too-late"), false);
		assertThat(queue.getCount(TagPurgeQueue.DROPPED)).isOne();
	}

	@Test
	void closeDuringABackoffStopsAtOnce() {
		ControlledPurger purger = new ControlledPurger("backing-off");
		TagPurgeQueue queue = queue(purger, 100);
		queue.submit(List.of("a"), false);
		Call call = assertTimeoutPreemptively(Duration.ofSeconds(10), purger::next);
		call.future().completeExceptionally(new TagPurgeException("backing-off", 500, "answered 500"));
		await().until(() -> this.backoffs.size() == 1);
		assertTimeoutPreemptively(Duration.ofSeconds(2), queue::close);
		assertThat(queue.getCount(TagPurgeQueue.DROPPED)).isOne();
		assertThat(queue.getPending()).isZero();
	}

	@Test
	void countsAreReadByOutcome() {
		TagPurgeQueue queue = queue(new ControlledPurger("counted"), 100);
		assertThat(TagPurgeQueue.OUTCOMES).allSatisfy((outcome) -> assertThat(queue.getCount(outcome)).isZero());
		assertThat(queue.name()).isEqualTo("counted");
		assertThatIllegalArgumentException().isThrownBy(() -> queue.getCount("lost"))
			.withMessage("Unknown purge outcome 'lost': expected one of [sent, failed, dropped]");
	}

	@Test
	void submitIgnoresNothingToPurge() {
		TagPurgeQueue queue = queue(new ControlledPurger("empty"), 100);
		queue.submit(List.of(), false);
		queue.submit(null, true);
		assertThat(queue.getPending()).isZero();
	}

	private TagPurgeQueue queue(TagPurger purger, int maxPendingTags) {
		TagPurgeQueue queue = new TagPurgeQueue(purger, maxPendingTags, Duration.ofMillis(100), Duration.ofSeconds(30),
				Duration.ofSeconds(30), (delay) -> {
					this.backoffs.add(delay);
					this.wakeUps.acquire();
				}, () -> 1.0);
		this.queues.add(queue);
		return queue;
	}

	record Call(List<String> tags, boolean soft, CompletableFuture<Void> future) {
	}

	/** A purger whose purges complete when the test says. */
	static final class ControlledPurger implements TagPurger {

		private final String name;

		private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();

		ControlledPurger(String name) {
			this.name = name;
		}

		@Override
		public String name() {
			return this.name;
		}

		@Override
		public CompletableFuture<Void> purge(List<String> tags, boolean soft) {
			Call call = new Call(List.copyOf(tags), soft, new CompletableFuture<>());
			this.calls.add(call);
			return call.future();
		}

		/** The next purge the queue asks for. */
		Call next() throws InterruptedException {
			Call call = this.calls.poll(10, TimeUnit.SECONDS);
			assertThat(call).as("a purge within 10 seconds").isNotNull();
			return call;
		}

	}

}
