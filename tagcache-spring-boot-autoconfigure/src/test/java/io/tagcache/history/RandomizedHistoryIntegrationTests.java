package io.tagcache.history;

import java.time.Duration;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A randomized history test (issue 10): two application instances on one key prefix read and
 * write a shared database through annotated beans while faults are injected, every read and
 * write is recorded, and {@link HistoryChecker} reports each read that a cache honouring its
 * invalidations could not have answered, with the writes around it.
 * <p>
 * Each phase runs {@value #DEFAULT_SECONDS} seconds in {@code mvn verify}; a long run sets the
 * seconds per phase, e.g.:
 * <pre class="code">
 * mvn -pl tagcache-spring-boot-autoconfigure test -Dtest=RandomizedHistoryIntegrationTests \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dtagcache-tests.history.seconds=120
 * </pre>
 * The phases with near caches count a write as acknowledged {@link HistoryRun#NEAR_CACHE_BOUND} after
 * it returned: the other instance's near cache learns of it through Redis pub/sub.
 * <p>
 * Each phase prints one line (reads, writes, hit rate, stale reads) to the test's output
 * ({@code target/surefire-reports/*-output.txt}).
 */
class RandomizedHistoryIntegrationTests {

	static final String SECONDS_PROPERTY = "tagcache-tests.history.seconds";

	static final long DEFAULT_SECONDS = 3;

	private static final Duration PHASE = Duration.ofSeconds(Long.getLong(SECONDS_PROPERTY, DEFAULT_SECONDS));

	private static RedisNodes standalone;

	private static RedisNodes cluster;

	@BeforeAll
	static void startRedis() {
		standalone = RedisNodes.standalone();
		cluster = RedisNodes.cluster();
	}

	@AfterAll
	static void stopRedis() {
		if (standalone != null) {
			standalone.close();
		}
		if (cluster != null) {
			cluster.close();
		}
	}

	@ParameterizedTest
	@EnumSource(Fault.class)
	void standaloneReadsNothingStale(Fault fault) throws InterruptedException {
		assertNothingStale(run(standalone, fault, false, PHASE));
	}

	@ParameterizedTest
	@EnumSource(value = Fault.class, mode = EnumSource.Mode.EXCLUDE, names = "RESTART")
	void clusterReadsNothingStale(Fault fault) throws InterruptedException {
		assertNothingStale(run(cluster, fault, false, PHASE));
	}

	@ParameterizedTest
	@EnumSource(value = Fault.class, names = { "NONE", "CLIENT_KILL", "RESTART" })
	void standaloneWithNearCachesReadsNothingStaleBeyondTheirBound(Fault fault) throws InterruptedException {
		assertNothingStale(run(standalone, fault, false, true, PHASE));
	}

	@ParameterizedTest
	@EnumSource(value = Fault.class, names = { "NONE", "CLIENT_KILL" })
	void clusterWithNearCachesReadsNothingStaleBeyondTheirBound(Fault fault) throws InterruptedException {
		assertNothingStale(run(cluster, fault, false, true, PHASE));
	}

	@Test
	void aCacheThatForgetsInvalidationsIsCaught() throws InterruptedException {
		HistoryRun.Outcome outcome = run(standalone, Fault.NONE, true, Duration.ofSeconds(1));
		assertThat(outcome.staleReads()).as(outcome.summary()).isPositive();
		assertThat(outcome.samples()).contains("STALE:").contains("writes of user");
	}

	private static HistoryRun.Outcome run(RedisNodes redis, Fault fault, boolean forgetful, Duration duration)
			throws InterruptedException {
		return run(redis, fault, forgetful, false, duration);
	}

	private static HistoryRun.Outcome run(RedisNodes redis, Fault fault, boolean forgetful, boolean nearCache,
			Duration duration) throws InterruptedException {
		HistoryRun.Outcome outcome;
		try (HistoryRun run = new HistoryRun(redis, fault, forgetful, nearCache)) {
			outcome = run.run(duration);
		}
		System.out.println("history " + (forgetful ? "(forgetful) " : "") + outcome.summary());
		if (outcome.staleReads() > 0) {
			System.out.println(outcome.samples());
		}
		assertThat(outcome.reads()).as("reads of " + outcome.summary()).isPositive();
		assertThat(outcome.writes()).as("writes of " + outcome.summary()).isPositive();
		return outcome;
	}

	private static void assertNothingStale(HistoryRun.Outcome outcome) {
		assertThat(outcome.staleReads())
			.as(() -> outcome.summary() + "\n" + outcome.samples()
					+ ((outcome.firstError() != null) ? "first error: " + outcome.firstError() : ""))
			.isZero();
	}

}
