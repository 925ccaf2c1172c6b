package io.tagcache.history;

import java.time.Duration;

/**
 * The fault injected during one phase of a history test, repeatedly, by a thread of its own.
 */
enum Fault {

	/** Nothing: the baseline, where only concurrency can make a read stale. */
	NONE(Duration.ZERO) {

		@Override
		void inject(RedisNodes redis) {
		}

	},

	/** {@code SCRIPT FLUSH}: every script must be reloaded on {@code NOSCRIPT}. */
	SCRIPT_FLUSH(Duration.ofMillis(200)) {

		@Override
		void inject(RedisNodes redis) {
			redis.scriptFlush();
		}

	},

	/**
	 * {@code CLIENT KILL TYPE normal} and {@code TYPE pubsub}: the instances' connections (and the
	 * subscriptions of near caches) drop and reconnect.
	 */
	CLIENT_KILL(Duration.ofMillis(300)) {

		@Override
		void inject(RedisNodes redis) {
			redis.killClients();
		}

	},

	/** {@code CLIENT PAUSE}: Redis answers nobody for twice the instances' command timeout. */
	CLIENT_PAUSE(Duration.ofMillis(1500)) {

		@Override
		void inject(RedisNodes redis) {
			redis.pause(RedisNodes.COMMAND_TIMEOUT.multipliedBy(2));
		}

	},

	/** A restart of the standalone server, which comes back empty (standalone only). */
	RESTART(Duration.ofMillis(1000)) {

		@Override
		void inject(RedisNodes redis) {
			redis.restart();
		}

	};

	private final Duration period;

	Fault(Duration period) {
		this.period = period;
	}

	/** How long after one injection the next one starts; zero for none. */
	Duration period() {
		return this.period;
	}

	abstract void inject(RedisNodes redis);

}
