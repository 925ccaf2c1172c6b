package io.tagcache.metrics;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.tagcache.redis.RedisOperationListener;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.util.Assert;

/**
 * Times every Redis round trip of a {@link RedisTaggedCacheManager}: the timer
 * {@value #METER_NAME}, tagged {@code operation} (the engine's fixed set: {@code get},
 * {@code fence}, {@code put}, {@code evict}, {@code invalidate}, {@code drain}, {@code clear},
 * {@code scan}, {@code register}, {@code count}, {@code ping}) and {@code outcome}
 * ({@code success} or {@code failure}), plus the tags given to the constructor.
 *
 * <p>It is the manager's {@link RedisOperationListener}, so it must exist before the manager:
 * pass it to {@link RedisTaggedCacheManager.Builder#operationListener}. It is called on the
 * thread that completes the operation, possibly a Lettuce I/O thread, so the hot path does no
 * registry lookup and allocates nothing: both timers of an operation are registered on its first
 * call (so that a failure series exists, at zero, before the first failure) and then read from a
 * map keyed by the operation name.
 *
 * <p>Percentiles and histograms are left to the registry's configuration, e.g.
 * {@code management.metrics.distribution.percentiles-histogram.tagcache.redis.operations=true}.
 */
public final class TagCacheRedisMetrics implements RedisOperationListener {

	/** The name of the timer. */
	public static final String METER_NAME = "tagcache.redis.operations";

	private final MeterRegistry registry;

	private final Tags tags;

	private final ConcurrentMap<String, Timer[]> timers = new ConcurrentHashMap<>();

	/**
	 * Create a listener that records into the registry.
	 * @param registry the registry of the timers
	 * @param tags tags added to every timer, typically {@code cache.manager}
	 */
	public TagCacheRedisMetrics(MeterRegistry registry, Iterable<Tag> tags) {
		Assert.notNull(registry, "MeterRegistry must not be null");
		Assert.notNull(tags, "Tags must not be null");
		this.registry = registry;
		this.tags = Tags.of(tags);
	}

	@Override
	public void onOperation(String operation, long durationNanos, boolean failed) {
		Timer[] timers = this.timers.get(operation);
		if (timers == null) {
			timers = this.timers.computeIfAbsent(operation, this::register);
		}
		timers[failed ? 1 : 0].record(durationNanos, TimeUnit.NANOSECONDS);
	}

	private Timer[] register(String operation) {
		return new Timer[] { timer(operation, "success"), timer(operation, "failure") };
	}

	private Timer timer(String operation, String outcome) {
		return Timer.builder(METER_NAME)
			.tags(this.tags)
			.tag("operation", operation)
			.tag("outcome", outcome)
			.description("Redis round trips of tagged caches, from sending the command to its reply")
			.register(this.registry);
	}

}
