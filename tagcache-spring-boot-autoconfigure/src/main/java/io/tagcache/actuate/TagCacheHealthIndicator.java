package io.tagcache.actuate;

import io.tagcache.redis.RedisTaggedCacheManager;
import org.jspecify.annotations.Nullable;

import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.util.Assert;

/**
 * The health of tagged caching: {@code UP} when Redis answers a {@code PING} and the manager
 * uses it, otherwise {@link #DEGRADED}, never {@code DOWN}.
 *
 * <p>Why not {@code DOWN}: Redis is a cache, not a dependency. While it is unreachable, reads are
 * misses and every call is served by its loader, so the application still works, only slower.
 * Reporting {@code DOWN} would make a load balancer or Kubernetes take every instance out of
 * service (or restart it) because of the cache, turning a slow-down into an outage. With Boot's
 * defaults, {@code DEGRADED} is not among the statuses the aggregate is made of (it shows under
 * {@code components.tagcache} only, and the aggregate stays {@code UP}) and it maps to HTTP 200.
 * To let it count, add it to the order and, if it should fail the probe, map it:
 * <pre class="code">
 * management.endpoint.health.status.order=DOWN,OUT_OF_SERVICE,DEGRADED,UP,UNKNOWN
 * management.endpoint.health.status.http-mapping.degraded=503
 * </pre>
 *
 * <p>{@code DEGRADED} when {@code PING} fails (the {@code error} detail says why), or when the
 * manager skips Redis: after repeated failures, for its cool-down, or while invalidations issued
 * during an outage wait to be replayed. Details, in both cases: {@code keyPrefix},
 * {@code redisAvailable}, {@code pendingInvalidations} and {@code pendingInvalidationOverflows}.
 *
 * <p>The {@code PING} bypasses the outage guard, so that the indicator tells whether Redis is
 * back before the guard's next probe; it waits at most the Redis command timeout. Failures are
 * reported as details without a logged stack trace: the engine already logs each outage once.
 */
public class TagCacheHealthIndicator extends AbstractHealthIndicator {

	/** Redis is unreachable or skipped; the application serves from its loaders. */
	public static final Status DEGRADED = new Status("DEGRADED");

	private final RedisTaggedCacheManager manager;

	/**
	 * Create the indicator.
	 * @param manager the manager whose Redis to check
	 */
	public TagCacheHealthIndicator(RedisTaggedCacheManager manager) {
		super("Tagged cache health check failed");
		Assert.notNull(manager, "Manager must not be null");
		this.manager = manager;
	}

	@Override
	protected void doHealthCheck(Health.Builder builder) {
		String error = ping();
		boolean available = this.manager.isRedisAvailable();
		if (error != null) {
			builder.status(new Status(DEGRADED.getCode(), "Redis does not answer; serving without the cache"))
				.withDetail("error", error);
		}
		else if (!available) {
			builder.status(new Status(DEGRADED.getCode(),
					"Redis is skipped after failures, or invalidations wait to be replayed"));
		}
		else {
			builder.up();
		}
		builder.withDetail("keyPrefix", this.manager.getKeyPrefix())
			.withDetail("redisAvailable", available)
			.withDetail("pendingInvalidations", this.manager.getPendingInvalidations())
			.withDetail("pendingInvalidationOverflows", this.manager.getPendingInvalidationOverflows());
	}

	/** Returns why Redis did not answer, or {@code null} when it did. */
	private @Nullable String ping() {
		try {
			this.manager.ping();
			return null;
		}
		catch (RuntimeException ex) {
			return ex.getClass().getName() + ": " + ex.getMessage();
		}
	}

}
