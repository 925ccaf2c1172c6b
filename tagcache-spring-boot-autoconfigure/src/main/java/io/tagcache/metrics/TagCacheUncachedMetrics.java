package io.tagcache.metrics;

import java.util.List;
import java.util.function.ToLongFunction;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.tagcache.UncachedCause;

import org.springframework.util.Assert;

/**
 * The counter {@value #METER_NAME}: results returned without being cached, values a cache refused
 * and entries read as a miss because they could never be read back, one counter per
 * {@link UncachedCause} (tag {@code cause}, a fixed set; never a key, a tag value or a type name).
 *
 * <p>Sums several sources, read on each scrape: the annotation interceptor's counts and the cache
 * manager's (refusals of Spring's untyped {@code Cache} writes, which never reach the interceptor).
 * Each refusal is counted by one source only.
 */
public final class TagCacheUncachedMetrics implements MeterBinder {

	/** The name of the counter. */
	public static final String METER_NAME = "tagcache.uncached";

	private final List<ToLongFunction<UncachedCause>> sources;

	private final Tags tags;

	/**
	 * Create the meters.
	 * @param sources the counts per cause to sum, such as the interceptor's and the manager's
	 * @param tags tags added to every counter, typically {@code cache.manager}
	 */
	public TagCacheUncachedMetrics(List<ToLongFunction<UncachedCause>> sources, Iterable<Tag> tags) {
		Assert.notNull(sources, "Sources must not be null");
		Assert.notNull(tags, "Tags must not be null");
		this.sources = List.copyOf(sources);
		this.tags = Tags.of(tags);
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		for (UncachedCause cause : UncachedCause.values()) {
			FunctionCounter.builder(METER_NAME, this, (metrics) -> metrics.count(cause))
				.tags(this.tags)
				.tag("cause", cause.tagValue())
				.description("Results returned without being cached, values refused and entries read as a miss "
						+ "because they could never be read back")
				.register(registry);
		}
	}

	private double count(UncachedCause cause) {
		long count = 0;
		for (ToLongFunction<UncachedCause> source : this.sources) {
			count += source.applyAsLong(cause);
		}
		return count;
	}

}
