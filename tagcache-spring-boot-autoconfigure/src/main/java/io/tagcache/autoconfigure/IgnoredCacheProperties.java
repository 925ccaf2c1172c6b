package io.tagcache.autoconfigure;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.context.properties.bind.AbstractBindHandler;
import org.springframework.boot.context.properties.bind.BindContext;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.BindHandler;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.bind.handler.NoUnboundElementsBindHandler;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.boot.context.properties.source.ConfigurationPropertySource;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.Environment;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

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

	/**
	 * The names of the properties under {@code tagcache.} that bind to no setting. An environment variable
	 * in the legacy form, with underscores for dashes ({@code TAGCACHE_TIME_TO_LIVE}), binds, yet
	 * Boot's {@link NoUnboundElementsBindHandler} reports it as unbound ({@code tagcache.time.to.live}):
	 * it is left out when a property with the same letters was bound.
	 */
	List<String> unknown() {
		Set<String> bound = new HashSet<>();
		BindHandler recordBound = new AbstractBindHandler() {

			@Override
			public @Nullable Object onSuccess(ConfigurationPropertyName name, Bindable<?> target, BindContext context,
					Object result) {
				bound.add(letters(name));
				return super.onSuccess(name, target, context, result);
			}

		};
		try {
			Binder.get(this.environment)
				.bind("tagcache", Bindable.ofInstance(new TagCacheProperties()),
						new NoUnboundElementsBindHandler(recordBound));
			return List.of();
		}
		catch (BindException ex) {
			if (ex.getCause() instanceof UnboundConfigurationPropertiesException unbound) {
				return unbound.getUnboundProperties()
					.stream()
					.filter(property -> !(isEnvironmentVariable(property) && bound.contains(letters(property.getName()))))
					.map(property -> property.getName().toString())
					.sorted()
					.toList();
			}
			// a value that does not convert fails the binding of TagCacheProperties itself, with its own message
			return List.of();
		}
	}

	private static boolean isEnvironmentVariable(ConfigurationProperty property) {
		ConfigurationPropertySource source = property.getSource();
		return source != null && source.getUnderlyingSource() instanceof SystemEnvironmentPropertySource;
	}

	/** The name without its separators: {@code tagcache.time-to-live} and {@code tagcache.time.to.live} alike. */
	private static String letters(ConfigurationPropertyName name) {
		return name.toString().replace(".", "").replace("-", "");
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
