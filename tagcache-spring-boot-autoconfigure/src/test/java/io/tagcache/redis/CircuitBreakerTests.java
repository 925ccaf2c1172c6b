package io.tagcache.redis;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The circuit with a fake clock: it opens after the threshold of consecutive failures, lets one probe
 * through after the cool-down, and opens again at the probe's first failure.
 */
class CircuitBreakerTests {

	private final AtomicLong clock = new AtomicLong();

	private final CircuitBreaker circuit = new CircuitBreaker(3, Duration.ofSeconds(5), this.clock::get);

	@Test
	void opensAfterTheThresholdOfConsecutiveFailuresOnly() {
		this.circuit.failed();
		this.circuit.failed();
		this.circuit.succeeded();
		this.circuit.failed();
		this.circuit.failed();
		assertThat(this.circuit.allows()).as("a success in between starts the count again").isTrue();
		this.circuit.failed();
		assertThat(this.circuit.isOpen()).isTrue();
		assertThat(this.circuit.allows()).isFalse();
	}

	@Test
	void letsOneProbeThroughAfterTheCoolDownWhichReopensItAtItsFirstFailure() {
		openIt();
		this.clock.addAndGet(Duration.ofSeconds(4).toNanos());
		assertThat(this.circuit.allows()).as("within the cool-down").isFalse();
		this.clock.addAndGet(Duration.ofSeconds(2).toNanos());
		assertThat(this.circuit.allows()).as("the probe").isTrue();
		this.circuit.failed();
		assertThat(this.circuit.isOpen()).as("one failure of the probe").isTrue();
		assertThat(this.circuit.allows()).isFalse();

		this.clock.addAndGet(Duration.ofSeconds(6).toNanos());
		assertThat(this.circuit.allows()).isTrue();
		this.circuit.succeeded();
		this.circuit.failed();
		assertThat(this.circuit.isOpen()).as("after a successful probe, the threshold again").isFalse();
	}

	@Test
	void closesAtOnceWhenSomethingElseProvedThatRedisAnswers() {
		openIt();
		this.circuit.close();
		assertThat(this.circuit.allows()).isTrue();
		this.circuit.failed();
		assertThat(this.circuit.isOpen()).isFalse();
	}

	private void openIt() {
		for (int i = 0; i < 3; i++) {
			this.circuit.failed();
		}
		assertThat(this.circuit.isOpen()).isTrue();
	}

}
