package io.tagcache.redis;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Logs absorbed Redis failures once per burst rather than once per call: the first failure of a
 * burst is logged as a warning, the rest are only counted, and the first success afterwards logs
 * how many calls ran without the cache. The success path is one volatile read.
 */
final class RedisFailureLog {

	private static final Log logger = LogFactory.getLog(RedisTaggedCache.class);

	private final AtomicBoolean failing = new AtomicBoolean();

	private final AtomicLong failuresInBurst = new AtomicLong();

	private final Set<String> refusals = ConcurrentHashMap.newKeySet();

	void failed(String operation, String cacheName, RuntimeException ex) {
		this.failuresInBurst.incrementAndGet();
		if (this.failing.compareAndSet(false, true)) {
			logger.warn("Redis failed during " + operation + " on cache '" + cacheName
					+ "'; serving without the cache until it answers again: " + ex.getMessage());
			if (logger.isDebugEnabled()) {
				logger.debug("Redis failure", ex);
			}
		}
	}

	/**
	 * A command Redis refused: logged as a warning the first time for each operation and cache, then
	 * at debug level, so that a hot key in a bad state does not flood the log.
	 */
	void refused(String operation, String cacheName, RuntimeException ex) {
		if (this.refusals.add(operation + " " + cacheName)) {
			logger.warn("Redis refused " + operation + " on cache '" + cacheName + "' (logged once; "
					+ "tagcache.errors counts them): " + ex.getMessage());
		}
		else if (logger.isDebugEnabled()) {
			logger.debug("Redis refused " + operation + " on cache '" + cacheName + "'", ex);
		}
	}

	void succeeded() {
		if (this.failing.get() && this.failing.compareAndSet(true, false)) {
			logger.info("Redis answers again; " + this.failuresInBurst.getAndSet(0)
					+ " cache operations ran without it");
		}
	}

}
