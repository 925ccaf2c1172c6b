package io.tagcache.redis;

import java.util.EnumMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import io.tagcache.UncachedCause;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * What the caches of one manager refused without failing the call: values that Spring's untyped
 * {@code Cache} contract would store but could never read back (a type outside the allow-list, JSON
 * that cannot be read back), and entries read as a miss for the same reasons. Counted per
 * {@link UncachedCause} and logged once per cause and type, so that a mistake is loud without
 * flooding the log or turning a working call into an error.
 */
final class RefusedValues {

	private static final Log logger = LogFactory.getLog(RedisTaggedCache.class);

	private final Map<UncachedCause, LongAdder> counts = new EnumMap<>(UncachedCause.class);

	private final Set<String> logged = ConcurrentHashMap.newKeySet();

	RefusedValues() {
		for (UncachedCause cause : UncachedCause.values()) {
			this.counts.put(cause, new LongAdder());
		}
	}

	/**
	 * Count a refusal, and log it the first time for its cause and type.
	 * @param type the class name the refusal is about, bounded by the application's classes
	 * @param message the message to log, naming the type and the fix
	 */
	void refused(UncachedCause cause, String type, String message) {
		this.counts.get(cause).increment();
		if (this.logged.add(cause.name() + '\u0000' + type)) {
			logger.warn(message + " (logged once for this type)");
		}
	}

	long count(UncachedCause cause) {
		return this.counts.get(cause).sum();
	}

}
