package io.tagcache.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.tagcache.http.TagPurgeQueue;
import io.tagcache.http.TagPurges;
import io.tagcache.http.UncacheableResponses;
import org.jspecify.annotations.Nullable;

/**
 * The meters of tagcache at the HTTP edge:
 * <ul>
 * <li>{@code tagcache.http.purges} ({@code purger}, {@code outcome} = {@code sent} | {@code failed} |
 * {@code dropped}): tags purged, tags of attempts that failed (and were retried), tags given up;</li>
 * <li>{@code tagcache.http.purges.pending} ({@code purger}): tags waiting to be purged;</li>
 * <li>{@code tagcache.http.uncacheable} ({@code reason} = {@code stale} | {@code unknown-tags} |
 * {@code over-limit} | {@code after-commit}): responses marked uncacheable for HTTP caches, or (for
 * {@code after-commit}) lacking tags, because their tags could not be written whole.</li>
 * </ul>
 */
public class TagCacheHttpMetrics implements MeterBinder {

	private final @Nullable TagPurges purges;

	private final @Nullable UncacheableResponses headers;

	/**
	 * @param purges the purge queues, {@code null} without purges
	 * @param headers the responses of the header filter, {@code null} without headers
	 */
	public TagCacheHttpMetrics(@Nullable TagPurges purges, @Nullable UncacheableResponses headers) {
		this.purges = purges;
		this.headers = headers;
	}

	@Override
	public void bindTo(MeterRegistry registry) {
		if (this.purges != null) {
			for (TagPurgeQueue queue : this.purges.getQueues()) {
				for (String outcome : TagPurgeQueue.OUTCOMES) {
					FunctionCounter.builder("tagcache.http.purges", queue, q -> q.getCount(outcome))
						.tag("purger", queue.name())
						.tag("outcome", outcome)
						.description("Tags purged from an HTTP cache (sent), in attempts that failed and were retried "
								+ "(failed), or given up (dropped)")
						.register(registry);
				}
				Gauge.builder("tagcache.http.purges.pending", queue, TagPurgeQueue::getPending)
					.tag("purger", queue.name())
					.description("Tags waiting to be purged from an HTTP cache")
					.register(registry);
			}
		}
		if (this.headers != null) {
			UncacheableResponses responses = this.headers;
			for (String reason : UncacheableResponses.REASONS) {
				FunctionCounter.builder("tagcache.http.uncacheable", responses, r -> r.getUncacheable(reason))
					.tag("reason", reason)
					.description("Responses marked uncacheable for HTTP caches because their cache tags could not be "
							+ "written whole")
					.register(registry);
			}
		}
	}

}
