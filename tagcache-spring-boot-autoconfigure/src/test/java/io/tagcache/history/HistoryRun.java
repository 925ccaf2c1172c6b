package io.tagcache.history;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import io.tagcache.TaggedCacheManager;
import io.tagcache.history.History.Lookup;
import io.tagcache.history.History.Read;
import io.tagcache.interceptor.TaggedCachingConfiguration;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TypeAllowList;
import org.awaitility.Awaitility;

import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * One phase of a history test: two application instances on one key prefix, sharing one
 * {@link UserDatabase}, each with five reader and two writer threads over a small key space
 * (so that there are many hits and many conflicts), while a thread of its own injects a
 * {@link Fault}.
 * <p>
 * A phase runs in rounds of at most {@link #LONGEST_ROUND}, each checked and then
 * forgotten, so that a long run holds at most one round of history in memory. Between
 * rounds every thread stops, so the next history starts from a state every reader must
 * know, while the caches keep what they hold. Within a round, faults are injected during
 * the first two thirds only: the last third shows that the instances recover.
 */
final class HistoryRun implements AutoCloseable {

	static final int USERS = 20;

	static final int LOCATIONS = 4;

	static final int MAILS = 30;

	static final int READERS = 5;

	static final int WRITERS = 2;

	static final Duration LONGEST_ROUND = Duration.ofSeconds(10);

	/** A writer pauses up to this long between writes, so that reads mostly hit. */
	private static final long WRITER_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

	/** How many stale reads a phase describes in full. */
	private static final int SAMPLES = 8;

	private final RedisNodes redis;

	private final Fault fault;

	private final UserDatabase database = new UserDatabase(USERS, LOCATIONS, MAILS);

	private final LongAdder loads = new LongAdder();

	private final LongAdder tailLoads = new LongAdder();

	/** When the quiet last third of the current round starts. */
	private volatile long tailStart;

	private final List<Instance> instances = new ArrayList<>();

	/** How long after an acknowledged write the other instance's near cache may still serve what it changed. */
	static final Duration NEAR_CACHE_BOUND = Duration.ofMillis(250);

	private final boolean nearCache;

	/**
	 * Start two application instances on a new key prefix.
	 * @param redis the Redis to use and to inject faults into
	 * @param fault the fault of this phase
	 * @param forgetful whether the instances forget every invalidation (a planted bug)
	 */
	HistoryRun(RedisNodes redis, Fault fault, boolean forgetful) {
		this(redis, fault, forgetful, false);
	}

	/**
	 * Start two application instances on a new key prefix, whose caches keep a near cache or not. With
	 * near caches a write counts as acknowledged {@link #NEAR_CACHE_BOUND} after its call returned: the
	 * other instance's near cache drops what it changed when the message of its script arrives, which
	 * is the near cache's bound (its own instance is exact, and checked with the same allowance).
	 */
	HistoryRun(RedisNodes redis, Fault fault, boolean forgetful, boolean nearCache) {
		this.redis = redis;
		this.fault = fault;
		this.nearCache = nearCache;
		String prefix = "history" + UUID.randomUUID().toString().substring(0, 8);
		try {
			for (String name : List.of("a", "b")) {
				this.instances.add(new Instance(name, redis.newConnectionFactory(), prefix, forgetful));
			}
			if (nearCache) {
				this.instances.forEach(Instance::awaitNearCaches);
			}
		}
		catch (RuntimeException ex) {
			close();
			throw ex;
		}
	}

	/**
	 * Run the phase, checking each round.
	 * @param duration how long
	 * @return what happened
	 */
	Outcome run(Duration duration) throws InterruptedException {
		Outcome outcome = new Outcome(this.redis + " " + this.fault + (this.nearCache ? " near cache" : ""));
		long remaining = duration.toNanos();
		while (remaining > 0) {
			long length = Math.min(remaining, LONGEST_ROUND.toNanos());
			round(Duration.ofNanos(length), outcome);
			remaining -= length;
		}
		return outcome;
	}

	private void round(Duration length, Outcome outcome) throws InterruptedException {
		History history = this.database.newHistory();
		this.loads.reset();
		this.tailLoads.reset();
		long start = System.nanoTime();
		long end = start + length.toNanos();
		long faultsEnd = start + length.toNanos() * 2 / 3;
		this.tailStart = faultsEnd;
		List<Thread> threads = new ArrayList<>();
		for (Instance instance : this.instances) {
			for (int i = 0; i < READERS; i++) {
				threads.add(new Thread(() -> {
					while (System.nanoTime() < end) {
						read(instance.service, history, outcome);
					}
				}, instance.name + "-reader-" + i));
			}
			for (int i = 0; i < WRITERS; i++) {
				threads.add(new Thread(() -> {
					while (System.nanoTime() < end) {
						write(instance.service, history, outcome);
						LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(WRITER_PAUSE_NANOS));
					}
				}, instance.name + "-writer-" + i));
			}
		}
		ScheduledExecutorService injector = Executors
			.newSingleThreadScheduledExecutor((task) -> new Thread(task, "fault-" + this.fault));
		if (!this.fault.period().isZero()) {
			injector.scheduleWithFixedDelay(() -> {
				if (System.nanoTime() < faultsEnd) {
					inject(outcome);
				}
			}, length.toNanos() / 10, this.fault.period().toNanos(), TimeUnit.NANOSECONDS);
		}
		threads.forEach(Thread::start);
		for (Thread thread : threads) {
			thread.join();
		}
		injector.shutdown();
		if (!injector.awaitTermination(30, TimeUnit.SECONDS)) {
			throw new IllegalStateException("The fault " + this.fault + " did not finish within 30 s");
		}
		outcome.loads.add(this.loads.sum());
		outcome.tailLoads.add(this.tailLoads.sum());
		outcome.tailReads.add(history.reads().stream().filter((read) -> read.start() >= faultsEnd).count());
		this.instances.forEach((instance) -> outcome.pending.add(instance.manager.getPendingInvalidations()));
		outcome.add(HistoryChecker.check(history));
	}

	private void inject(Outcome outcome) {
		try {
			this.fault.inject(this.redis);
			outcome.faults.increment();
		}
		catch (RuntimeException ex) {
			outcome.faultErrors.increment();
			outcome.firstError.compareAndSet(null, ex);
		}
	}

	private void read(UserService service, History history, Outcome outcome) {
		Random random = ThreadLocalRandom.current();
		int choice = random.nextInt(4);
		long start = System.nanoTime();
		try {
			if (choice < 2) {
				long id = 1 + random.nextInt(USERS);
				User user = service.byId(id);
				record(history, Lookup.BY_ID, String.valueOf(id), start, (user != null) ? List.of(user) : List.of());
			}
			else if (choice == 2) {
				String mail = spell(this.database.mails().get(random.nextInt(MAILS)), random);
				Optional<User> user = service.byMail(mail);
				record(history, Lookup.BY_MAIL, mail, start, user.map(List::of).orElse(List.of()));
			}
			else {
				long locationId = 1 + random.nextInt(LOCATIONS);
				record(history, Lookup.BY_LOCATION, String.valueOf(locationId), start, service.byLocation(locationId));
			}
		}
		catch (RuntimeException ex) {
			outcome.readErrors.increment();
			outcome.firstError.compareAndSet(null, ex);
		}
	}

	private static void record(History history, Lookup lookup, String argument, long start, List<User> result) {
		history.read(new Read(Thread.currentThread().getName(), lookup, argument, start, System.nanoTime(), result));
	}

	/** One of the spellings of a mail: {@code m3@x}, {@code M3@x}, {@code m3@X} or {@code M3@X}. */
	private static String spell(String mail, Random random) {
		int at = mail.indexOf('@');
		String local = mail.substring(0, at);
		String domain = mail.substring(at);
		return (random.nextBoolean() ? local.toUpperCase() : local)
				+ (random.nextBoolean() ? domain.toUpperCase() : domain);
	}

	private void write(UserService service, History history, Outcome outcome) {
		Random random = ThreadLocalRandom.current();
		long id = 1 + random.nextInt(USERS);
		UserDatabase.Update update = switch (random.nextInt(3)) {
			case 0 -> new UserDatabase.Update.Rename(id, "name" + random.nextInt(1000));
			case 1 -> new UserDatabase.Update.ChangeMail(id, this.database.mails().get(random.nextInt(MAILS)));
			default -> new UserDatabase.Update.Move(id, 1 + random.nextInt(LOCATIONS));
		};
		long start = System.nanoTime();
		try {
			Change change = service.write(update);
			history.acknowledged(change.after(), start,
					System.nanoTime() + (this.nearCache ? NEAR_CACHE_BOUND.toNanos() : 0));
			outcome.writes.increment();
		}
		catch (RuntimeException ex) {
			outcome.writeErrors.increment();
			outcome.firstError.compareAndSet(null, ex);
		}
	}

	/** Counts a call of a lookup's method body, a miss. */
	private void loaded() {
		this.loads.increment();
		if (System.nanoTime() >= this.tailStart) {
			this.tailLoads.increment();
		}
	}

	@Override
	public void close() {
		this.instances.forEach(Instance::close);
	}

	/** One application instance: its context, with its own connection to Redis. */
	private final class Instance {

		private final String name;

		private final LettuceConnectionFactory connectionFactory;

		private final AnnotationConfigApplicationContext context;

		private final RedisTaggedCacheManager manager;

		private final UserService service;

		Instance(String name, LettuceConnectionFactory connectionFactory, String prefix, boolean forgetful) {
			this.name = name;
			this.connectionFactory = connectionFactory;
			RedisTaggedCacheManager manager = RedisTaggedCacheManager.builder(connectionFactory)
				.keyPrefix(prefix)
				.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withNearCache(HistoryRun.this.nearCache))
				.withCacheNames(UserService.CACHES)
				.allowedTypes(TypeAllowList.jdkValueTypes().and(User.class.getPackageName()))
				.coolDown(Duration.ofMillis(200))
				.build();
			this.manager = manager;
			this.context = new AnnotationConfigApplicationContext();
			this.context.registerBean(TaggedCacheManager.class,
					() -> forgetful ? new ForgetfulCacheManager(manager) : manager);
			this.context.register(TaggedCachingConfiguration.class);
			this.context.registerBean(UserService.class, () -> new UserService(HistoryRun.this.database,
					HistoryRun.this::loaded));
			this.context.refresh();
			this.service = this.context.getBean(UserService.class);
		}

		/** Wait until the near caches serve: before that, the run would test Redis alone. */
		void awaitNearCaches() {
			for (String name : UserService.CACHES) {
				RedisTaggedCache cache = this.manager.getCache(name);
				Awaitility.await().atMost(Duration.ofSeconds(10)).until(cache::isNearCacheServing);
			}
		}

		void close() {
			this.context.close();
			this.connectionFactory.destroy();
		}

	}

	/** What a phase did and saw, summed over its rounds. */
	static final class Outcome {

		private final String name;

		private final LongAdder writes = new LongAdder();

		private final LongAdder loads = new LongAdder();

		private final LongAdder tailReads = new LongAdder();

		private final LongAdder tailLoads = new LongAdder();

		/** Invalidations still queued at the end of each round, summed over instances and rounds. */
		private final LongAdder pending = new LongAdder();

		private final LongAdder readErrors = new LongAdder();

		private final LongAdder writeErrors = new LongAdder();

		private final LongAdder faults = new LongAdder();

		private final LongAdder faultErrors = new LongAdder();

		private final AtomicReference<RuntimeException> firstError = new AtomicReference<>();

		private long reads;

		private long staleReads;

		private final StringBuilder samples = new StringBuilder();

		private int described;

		Outcome(String name) {
			this.name = name;
		}

		private void add(HistoryChecker.Report report) {
			this.reads += report.reads();
			this.staleReads += report.staleReads().size();
			if (this.described < SAMPLES && !report.staleReads().isEmpty()) {
				this.samples.append(report.describe(SAMPLES - this.described));
				this.described += Math.min(SAMPLES - this.described, report.staleReads().size());
			}
		}

		long reads() {
			return this.reads;
		}

		long writes() {
			return this.writes.sum();
		}

		long staleReads() {
			return this.staleReads;
		}

		long readErrors() {
			return this.readErrors.sum();
		}

		/** The share of reads answered from the cache. */
		double hitRate() {
			return (this.reads > 0) ? Math.max(0, 1 - (double) this.loads.sum() / this.reads) : 0;
		}

		/** The share of reads answered from the cache in the quiet last third of each round. */
		double tailHitRate() {
			long reads = this.tailReads.sum();
			return (reads > 0) ? Math.max(0, 1 - (double) this.tailLoads.sum() / reads) : 0;
		}

		/** The first stale reads, each with the writes around it. */
		String samples() {
			return this.samples.toString();
		}

		RuntimeException firstError() {
			return this.firstError.get();
		}

		/** One line for people, e.g. for the README. */
		String summary() {
			return String.format(
					"%s: %,d reads, %,d writes, hit rate %.1f%% (%.1f%% after the faults), %,d stale reads "
							+ "(%,d faults injected, %,d failed; %,d read errors, %,d write errors; "
							+ "%,d invalidations still queued at the end)",
					this.name, this.reads, writes(), hitRate() * 100, tailHitRate() * 100, this.staleReads,
					this.faults.sum(), this.faultErrors.sum(), readErrors(), this.writeErrors.sum(),
					this.pending.sum());
		}

	}

}
