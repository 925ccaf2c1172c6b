package io.tagcache.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tagcache.TaggedCacheManager;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.cache.autoconfigure.CacheAutoConfiguration;
import org.springframework.boot.cache.autoconfigure.CacheManagerCustomizer;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.cache.CacheManager;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.cache.concurrent.ConcurrentMapCacheManager;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.cache.RedisCacheConfiguration;
import org.springframework.data.redis.cache.RedisCacheManager;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The starter in applications that have cache managers of their own: a bean named
 * {@code cacheManager}, a spring-data-redis {@link RedisCacheManager} under another name, both with
 * {@code @EnableCaching}; and an application's own {@link RedisTaggedCacheManager}, whose meters are
 * tagged with its bean name. Plain {@code @Cacheable} uses the application's manager (Boot's rule:
 * the user's wins), the tagcache annotations the tagged one.
 */
class NeighbourCacheManagersTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, JacksonAutoConfiguration.class,
				TagCacheAutoConfiguration.class, CacheAutoConfiguration.class, TagCacheMetricsAutoConfiguration.class))
		.withPropertyValues("spring.data.redis.host=" + node().getHost(), "spring.data.redis.port=" + node().getPort(),
				"tagcache.key-prefix=t" + UUID.randomUUID());

	private static RedisURI node() {
		return RedisTopology.STANDALONE.nodes().get(0);
	}

	@Test
	void anApplicationBeanNamedCacheManagerStartsAndServesPlainCacheableWhileTheAnnotationsUseTheTaggedManager() {
		this.contextRunner.withUserConfiguration(OwnCacheManager.class, Services.class).run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(CacheManager.class)).isInstanceOf(ConcurrentMapCacheManager.class);
			assertThat(context.getBean(TaggedCacheManager.class)).isInstanceOf(RedisTaggedCacheManager.class);
			Services services = context.getBean(Services.class);
			services.plain(1);
			services.plain(1);
			services.tagged(1);
			services.tagged(1);
			assertThat(services.calls()).isEqualTo(2);
			assertThat(context.getBean("cacheManager", ConcurrentMapCacheManager.class).getCacheNames())
				.containsExactly("plain");
			assertThat(context.getBean(RedisTaggedCacheManager.class).getCache("tagged").get(1)).isNotNull();
			assertThat(context.getBean(RedisTaggedCacheManager.class).getCache("plain").get(1)).isNull();
		});
	}

	@Test
	void aSpringDataRedisCacheManagerUnderAnotherNameStartsBesideIt() {
		this.contextRunner.withUserConfiguration(OwnRedisCacheManager.class, Services.class).run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(CacheManager.class)).isInstanceOf(RedisCacheManager.class);
			Services services = context.getBean(Services.class);
			services.plain(1);
			// spring-data-redis 4 writes asynchronously by default
			Awaitility.await()
				.atMost(Duration.ofSeconds(10))
				.until(() -> context.getBean(RedisCacheManager.class).getCache("plain").get(1) != null);
			services.plain(1);
			assertThat(services.calls()).isEqualTo(1);
			assertThat(context.getBean(TaggedCacheManager.class).getCache("plain").get(1)).isNull();
		});
	}

	@Test
	void anApplicationsOwnTaggedManagerGetsItsMetersTaggedWithItsBeanName() {
		this.contextRunner.withUserConfiguration(OwnTaggedManager.class).run(context -> {
			assertThat(context).hasNotFailed();
			MeterRegistry registry = bindMeters(context);
			RedisTaggedCacheManager manager = context.getBean(RedisTaggedCacheManager.class);
			manager.getCache("users").put(1L, "one", List.of("user-1"));
			assertThat(registry.get("tagcache.redis.operations").tag("cache.manager", "shop").timers()).isNotEmpty();
			assertThat(registry.get("tagcache.invalidations.pending").tag("cache.manager", "shop").gauge()).isNotNull();
		});
	}

	@Test
	void theAutoConfiguredManagersMetersAreTaggedTagcache() {
		this.contextRunner.run(context -> {
			MeterRegistry registry = bindMeters(context);
			context.getBean(RedisTaggedCacheManager.class).getCache("users").put(1L, "one", List.of("user-1"));
			assertThat(registry.get("tagcache.redis.operations")
				.tag("cache.manager", "tagcache")
				.timers()).isNotEmpty();
		});
	}

	@Configuration(proxyBeanMethods = false)
	@EnableCaching
	static class OwnCacheManager {

		@Bean
		CacheManager cacheManager() {
			return new ConcurrentMapCacheManager();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableCaching
	static class OwnRedisCacheManager {

		@Bean
		RedisCacheManager redisCacheManager(LettuceConnectionFactory connectionFactory) {
			// a prefix of its own: the test's Redis is shared
			return RedisCacheManager.builder(connectionFactory)
				.cacheDefaults(RedisCacheConfiguration.defaultCacheConfig().prefixCacheNameWith("t" + UUID.randomUUID() + ":"))
				.build();
		}

	}

	@Test
	void springCacheTypeNoneTurnsTaggedCachingOffAsItDoesBootsCaching() {
		this.contextRunner.withPropertyValues("spring.cache.type=none")
			.withUserConfiguration(Services.class)
			.run(context -> {
				assertThat(context).hasNotFailed().doesNotHaveBean(TaggedCacheManager.class);
				Services services = context.getBean(Services.class);
				services.tagged(1);
				services.tagged(1);
				assertThat(services.calls()).as("every call runs the method").isEqualTo(2);
			});
	}

	@Test
	void bootsCacheManagerCustomizersAreAppliedToTheTaggedManager() {
		this.contextRunner.withUserConfiguration(Customizers.class).run(context -> {
			assertThat(context.getBean(RedisTaggedCacheManager.class).getCacheNames()).contains("warmed");
		});
	}

	@Test
	void ignoredSpringCachePropertiesAreNamed() {
		this.contextRunner.withPropertyValues("spring.cache.redis.time-to-live=10m", "spring.cache.type=caffeine")
			.run(context -> assertThat(context.getBean(IgnoredCacheProperties.class).ignored())
				.contains("spring.cache.redis.time-to-live", "spring.cache.type=caffeine"));
	}

	@Test
	void mistypedTagcachePropertiesAreNamedAtStartUp() {
		this.contextRunner.withPropertyValues("tagcache.time-to-lve=10m", "tagcache.caches.books.ttl=10m",
				"tagcache.caches.books.time-to-live=10m", "tagcache.outage.cool-down=1s")
			.run(context -> assertThat(context.getBean(IgnoredCacheProperties.class).unknown())
				.containsExactly("tagcache.caches.books.ttl", "tagcache.time-to-lve"));
		this.contextRunner.withPropertyValues("tagcache.caches.books.time-to-live=10m")
			.run(context -> assertThat(context.getBean(IgnoredCacheProperties.class).unknown()).isEmpty());
	}

	/** Binds every meter binder bean to a registry, as Boot's metrics auto-configuration does. */
	private static MeterRegistry bindMeters(org.springframework.context.ApplicationContext context) {
		MeterRegistry registry = new SimpleMeterRegistry();
		context.getBeansOfType(MeterBinder.class).values().forEach(binder -> binder.bindTo(registry));
		return registry;
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnTaggedManager {

		@Bean
		RedisTaggedCacheManager shopCacheManager(LettuceConnectionFactory connectionFactory) {
			return RedisTaggedCacheManager.builder(connectionFactory).keyPrefix("t" + UUID.randomUUID()).build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class Customizers {

		@Bean
		CacheManagerCustomizer<RedisTaggedCacheManager> warmer() {
			return manager -> manager.getCache("warmed");
		}

	}

	static class Services {

		private final AtomicInteger calls = new AtomicInteger();

		// a method, not the field: callers hold a class-based proxy
		public int calls() {
			return this.calls.get();
		}

		@Cacheable("plain")
		public String plain(long id) {
			this.calls.incrementAndGet();
			return "plain " + id;
		}

		@CacheableTagged(cacheNames = "tagged", key = "#id", tags = "'item-' + #id")
		public String tagged(long id) {
			this.calls.incrementAndGet();
			return "tagged " + id;
		}

	}

}
