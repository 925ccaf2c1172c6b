package io.tagcache.autoconfigure;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Warns at start-up about properties that configure nothing: keys under {@code tagcache.} that no
 * setting has ({@code tagcache.time-to-lve}, {@code tagcache.caches.books.ttl}), and Spring Boot cache
 * properties that do not apply to the tagged cache manager: {@code spring.cache.redis.*}
 * (spring-data-redis's {@code RedisCacheManager}; tagcache reads {@code tagcache.*}) and
 * {@code spring.cache.type} naming another provider (the tagged manager is the application's
 * {@code CacheManager} whenever tagcache is enabled; {@code none} turns tagcache off). A warning, not a
 * failure: an environment variable that happens to start with {@code TAGCACHE_} must not stop an
 * application.
 */
final class IgnoredCacheProperties implements SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(IgnoredCacheProperties.class);

	private final Environment environment;

	IgnoredCacheProperties(Environment environment) {
		this.environment = environment;
	}

	@Override
	public void afterSingletonsInstantiated() {
		List<String> unknown = unknown();
		if (!unknown.isEmpty()) {
			logger.warn("Unknown tagcache properties, which configure nothing (a typo?): " + String.join(", ", unknown)
					+ ". The properties are listed in the README's Configuration section and in your IDE");
		}
		List<String> ignored = ignored();
		if (!ignored.isEmpty()) {
			logger.warn("Ignored by tagcache: " + String.join(", ", ignored) + ". The tagged cache manager is "
					+ "configured with tagcache.* (tagcache.time-to-live, tagcache.cache-null-values, tagcache.key-prefix, "
					+ "tagcache.caches.<name>.*); spring.cache.type=none or tagcache.enabled=false turns it off");
		}
	}

	/** The names of the properties under {@code tagcache.} that bind to no setting. */
	List<String> unknown() {
		try {
			Binder.get(this.environment)
				.bind("tagcache", Bindable.ofInstance(new TagCacheProperties()),
						new NoUnboundElementsBindHandler(BindHandler.DEFAULT));
			return List.of();
		}
		catch (BindException ex) {
			if (ex.getCause() instanceof UnboundConfigurationPropertiesException unbound) {
				return unbound.getUnboundProperties()
					.stream()
					.map(property -> property.getName().toString())
					.sorted()
					.toList();
			}
			// a value that does not convert fails the binding of TagCacheProperties itself, with its own message
			return List.of();
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
