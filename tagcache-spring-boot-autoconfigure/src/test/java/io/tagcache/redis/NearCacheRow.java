package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import io.tagcache.Loaded;
import io.tagcache.TaggedLoader;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * One database row ("1", tagged {@code user-1}) behind instances whose cache "users" keeps a near
 * cache, read through the load path as the annotations read it: for the tests that take Redis away.
 */
final class NearCacheRow {

	private final AtomicReference<String> value = new AtomicReference<>();

	/** An instance on its own connections, with a near cache for "users" and a short cool-down. */
	static RedisTaggedCacheManager manager(LettuceConnectionFactory connections, String prefix) {
		return TestCaches.manager(connections, builder -> builder.keyPrefix(prefix)
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withNearCache(true))
			.withCacheNames("users")
			.coolDown(Duration.ofMillis(50))
			.invalidationWait(Duration.ZERO));
	}

	/** Change the row, as the database behind the instances. */
	void set(String value) {
		this.value.set(value);
	}

	/** Read the row through an instance's cache: a hit, or a load of the row. */
	String read(RedisTaggedCacheManager manager) {
		return manager.getCache("users").get("1", String.class, true, new TaggedLoader<String>() {

			@Override
			public Loaded<String> load() {
				return Loaded.of(NearCacheRow.this.value.get(), List.of("user-1"));
			}

		});
	}

}
