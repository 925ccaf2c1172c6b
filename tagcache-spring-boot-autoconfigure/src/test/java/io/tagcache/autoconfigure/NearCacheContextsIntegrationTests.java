package io.tagcache.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import io.lettuce.core.RedisURI;
import io.tagcache.TagsInvalidatedEvent;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.cache.autoconfigure.CacheAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.event.EventListener;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two Spring Boot applications on one Redis and key prefix, with {@code tagcache.near-cache.enabled}
 * and {@code tagcache.events.broadcast}: a repeated read stays in the JVM; a change made through the
 * other application reaches the near cache within the bound, and its invalidation event is published
 * here with {@code local()} false, and there with {@code local()} true.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class NearCacheContextsIntegrationTests {

	private static final Duration BOUND = Duration.ofSeconds(2);

	@Parameter
	RedisTopology redis;

	/** The rows both applications read: one database behind two instances. */
	private final Map<Long, String> rows = new ConcurrentHashMap<>();

	private ApplicationContextRunner runner() {
		return new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, JacksonAutoConfiguration.class,
					TagCacheAutoConfiguration.class, CacheAutoConfiguration.class))
			.withPropertyValues(redisProperties())
			.withPropertyValues("tagcache.key-prefix=" + this.prefix, "tagcache.near-cache.enabled=true",
					"tagcache.events.broadcast=true")
			.withBean(Rows.class, () -> new Rows(this.rows))
			.withUserConfiguration(Instance.class);
	}

	private final String prefix = io.tagcache.redis.TestCaches.uniquePrefix();

	private String[] redisProperties() {
		RedisURI node = this.redis.nodes().get(0);
		if (this.redis == RedisTopology.CLUSTER) {
			return new String[] { "spring.data.redis.cluster.nodes=" + String.join(",",
					this.redis.nodes().stream().map(uri -> uri.getHost() + ":" + uri.getPort()).toList()) };
		}
		return new String[] { "spring.data.redis.host=" + node.getHost(), "spring.data.redis.port=" + node.getPort() };
	}

	@Test
	void aChangeThroughOneApplicationReachesTheOthersNearCacheAndItsListeners() {
		this.rows.put(1L, "Ada");
		runner().run(one -> runner().run(other -> {
			UserService users = one.getBean(UserService.class);
			awaitNearCachesServing(one);
			awaitNearCachesServing(other);
			assertThat(users.find(1L)).isEqualTo("Ada");
			assertThat(users.find(1L)).isEqualTo("Ada");
			assertThat(users.calls()).as("the second read was a hit").isEqualTo(1);
			assertThat(one.getBean(RedisTaggedCacheManager.class).getCache("users").getStatistics().getHits())
				.isEqualTo(1);

			other.getBean(UserService.class).rename(1L, "Ada Lovelace");

			await().atMost(BOUND).until(() -> users.find(1L).equals("Ada Lovelace"));
			await().atMost(BOUND)
				.untilAsserted(() -> assertThat(one.getBean(Events.class).received()).singleElement().satisfies(event -> {
					assertThat(event.tags()).containsExactly("user-1");
					assertThat(event.local()).as("another instance's invalidation").isFalse();
					assertThat(event.soft()).isFalse();
				}));
			assertThat(other.getBean(Events.class).received()).singleElement()
				.satisfies(event -> assertThat(event.local()).isTrue());
		}));
	}

	private static void awaitNearCachesServing(AssertableApplicationContext context) {
		RedisTaggedCacheManager manager = context.getBean(RedisTaggedCacheManager.class);
		await().atMost(Duration.ofSeconds(10)).until(() -> manager.getCache("users").isNearCacheServing());
	}

	record Rows(Map<Long, String> values) {
	}

	@Configuration(proxyBeanMethods = false)
	static class Instance {

		@Bean
		UserService userService(Rows rows) {
			return new UserService(rows.values());
		}

		@Bean
		Events events() {
			return new Events();
		}

	}

	static class UserService {

		private final AtomicInteger calls = new AtomicInteger();

		private final Map<Long, String> rows;

		UserService(Map<Long, String> rows) {
			this.rows = rows;
		}

		public int calls() {
			return this.calls.get();
		}

		@CacheableTagged(cacheNames = "users", tags = "'user-' + #id")
		public String find(long id) {
			this.calls.incrementAndGet();
			return this.rows.get(id);
		}

		@InvalidateTags("'user-' + #id")
		public void rename(long id, String name) {
			this.rows.put(id, name);
		}

	}

	static class Events {

		private final List<TagsInvalidatedEvent> received = new CopyOnWriteArrayList<>();

		List<TagsInvalidatedEvent> received() {
			return this.received;
		}

		@EventListener
		void on(TagsInvalidatedEvent event) {
			this.received.add(event);
		}

	}

}
