package io.tagcache.autoconfigure;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Warns at start-up about Spring Boot cache properties that do not apply to the tagged cache
 * manager: {@code spring.cache.redis.*} (spring-data-redis's {@code RedisCacheManager}; tagcache reads
 * {@code tagcache.*}) and {@code spring.cache.type} naming another provider (the tagged manager is the
 * application's {@code CacheManager} whenever tagcache is enabled; {@code none} turns tagcache off).
 */
final class IgnoredCacheProperties implements SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(IgnoredCacheProperties.class);

	private final Environment environment;

	IgnoredCacheProperties(Environment environment) {
		this.environment = environment;
	}

	@Override
	public void afterSingletonsInstantiated() {
		List<String> ignored = ignored();
		if (!ignored.isEmpty()) {
			logger.warn("Ignored by tagcache: " + String.join(", ", ignored) + ". The tagged cache manager is "
					+ "configured with tagcache.* (tagcache.time-to-live, tagcache.cache-null-values, tagcache.key-prefix, "
					+ "tagcache.caches.<name>.*); spring.cache.type=none or tagcache.enabled=false turns it off");
		}
	}

	/** The names of the ignored properties that are set. */
	List<String> ignored() {
		List<String> ignored = new ArrayList<>();
		if (this.environment instanceof ConfigurableEnvironment configurable) {
			configurable.getPropertySources().forEach(source -> {
				if (source instanceof EnumerablePropertySource<?> enumerable) {
					for (String name : enumerable.getPropertyNames()) {
						String lower = name.toLowerCase(Locale.ROOT);
						if ((lower.startsWith("spring.cache.redis.") || lower.startsWith("spring.cache.cache-names"))
								&& !ignored.contains(name)) {
							ignored.add(name);
						}
					}
				}
			});
		}
		String type = this.environment.getProperty("spring.cache.type");
		if (type != null && !type.trim().equalsIgnoreCase("redis") && !type.trim().equalsIgnoreCase("none")) {
			ignored.add("spring.cache.type=" + type);
		}
		return ignored;
	}

}
