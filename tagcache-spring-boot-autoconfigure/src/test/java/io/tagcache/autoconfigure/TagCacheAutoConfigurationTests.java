package io.tagcache.autoconfigure;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import io.lettuce.core.RedisURI;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.tagcache.TagCacheConfigurationException;
import io.tagcache.TaggedCacheManager;
import io.tagcache.actuate.TagCacheEndpoint;
import io.tagcache.actuate.TagCacheHealthIndicator;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.autoconfigure.sample.Order;
import io.tagcache.autoconfigure.sample.SampleApplicationPackage;
import io.tagcache.http.TagPurgeQueue;
import io.tagcache.http.TagPurger;
import io.tagcache.http.TagPurges;
import io.tagcache.http.servlet.CacheTagHeaderFilter;
import io.tagcache.metrics.TaggedCacheMeterBinderProvider;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.test.RedisTopology;
import io.tagcache.test.VarnishServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.cache.autoconfigure.CacheAutoConfiguration;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.cache.CacheManager;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tests for {@link TagCacheAutoConfiguration}: each condition both ways, the properties, and a user
 * bean overriding ours. The contexts connect to a real Redis through Boot's own Redis
 * auto-configuration.
 */
class TagCacheAutoConfigurationTests {

	private final ApplicationContextRunner contextRunner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, JacksonAutoConfiguration.class,
				TagCacheAutoConfiguration.class, CacheAutoConfiguration.class))
		.withPropertyValues(redisProperties(RedisTopology.STANDALONE));

	private static String[] redisProperties(RedisTopology topology) {
		RedisURI node = topology.nodes().get(0);
		if (topology == RedisTopology.CLUSTER) {
			return new String[] { "spring.data.redis.cluster.nodes=" + String.join(",",
					topology.nodes().stream().map(uri -> uri.getHost() + ":" + uri.getPort()).toList()) };
		}
		return new String[] { "spring.data.redis.host=" + node.getHost(), "spring.data.redis.port=" + node.getPort() };
	}

	@Test
	void createsTheTaggedCacheManagerAsTheApplicationsCacheManager() {
		this.contextRunner.withUserConfiguration(CachingConfiguration.class).run(context -> {
			assertThat(context).hasSingleBean(RedisTaggedCacheManager.class).hasSingleBean(CacheManager.class);
			assertThat(context.getBean(CacheManager.class)).isSameAs(context.getBean(TaggedCacheManager.class));
			assertThat(context.getBean(RedisTaggedCacheManager.class).getKeyPrefix()).isEqualTo("tagcache");
		});
	}

	@Test
	void worksOnACluster() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, TagCacheAutoConfiguration.class))
			.withPropertyValues(redisProperties(RedisTopology.CLUSTER))
			.withPropertyValues("tagcache.key-prefix=" + uniquePrefix())
			.run(context -> {
				RedisTaggedCacheManager manager = context.getBean(RedisTaggedCacheManager.class);
				manager.getCache("a").put(1L, "one", List.of("shared"));
				manager.getCache("b").put(1L, "one", List.of("shared"));
				assertThat(manager.invalidate("shared")).isEqualTo(2);
			});
	}

	@Test
	void annotatedMethodsAreCachedWithoutAnyEnableAnnotation() {
		this.contextRunner.withPropertyValues("tagcache.key-prefix=" + uniquePrefix())
			.withUserConfiguration(GreetingService.class)
			.run(context -> {
				GreetingService service = context.getBean(GreetingService.class);
				assertThat(service.greet("ada")).isEqualTo("hello ada");
				assertThat(service.greet("ada")).isEqualTo("hello ada");
				assertThat(service.calls()).isEqualTo(1);
				service.rename("ada");
				service.greet("ada");
				assertThat(service.calls()).isEqualTo(2);
			});
	}

	@Test
	void anAnnotatedMethodNamingAnUnconfiguredCacheFailsStartupWhenMissingCachesAreNotCreated() {
		this.contextRunner.withPropertyValues("tagcache.key-prefix=" + uniquePrefix(), "tagcache.create-missing-caches=false")
			.withUserConfiguration(GreetingService.class)
			.run(context -> assertThat(context).hasFailed()
				.getFailure()
				.isInstanceOf(TagCacheConfigurationException.class)
				.hasMessageContaining(GreetingService.class.getName() + ".greet(String)")
				.hasMessageContaining("'greetings'")
				.hasMessageContaining("tagcache.create-missing-caches")
				.satisfies(failure -> assertThat(((TagCacheConfigurationException) failure).getAction())
					.contains("tagcache.caches.greetings.time-to-live")));
		this.contextRunner
			.withPropertyValues("tagcache.key-prefix=" + uniquePrefix(), "tagcache.create-missing-caches=false",
					"tagcache.caches.greetings.time-to-live=5m")
			.withUserConfiguration(GreetingService.class)
			.run(context -> assertThat(context).hasNotFailed());
	}

	@Test
	void bindsMetricsWhenMicrometerIsPresent() {
		this.contextRunner.withConfiguration(AutoConfigurations.of(TagCacheMetricsAutoConfiguration.class))
			.withBean(SimpleMeterRegistry.class)
			.run(context -> assertThat(context).hasSingleBean(TaggedCacheMeterBinderProvider.class)
				.hasSingleBean(TagCacheMetricsAutoConfiguration.TaggedCacheManagersMeterBinder.class));
	}

	@Test
	void bindsNoMetricsWithoutMicrometer() {
		this.contextRunner.withConfiguration(AutoConfigurations.of(TagCacheMetricsAutoConfiguration.class))
			.withClassLoader(new FilteredClassLoader(MeterRegistry.class))
			.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(TaggedCacheMeterBinderProvider.class));
	}

	@Test
	void providesTheEndpointAndHealthIndicatorWhenAvailable() {
		this.contextRunner.withConfiguration(AutoConfigurations.of(TagCacheEndpointAutoConfiguration.class))
			.withPropertyValues("management.endpoints.web.exposure.include=tagcache")
			.run(context -> assertThat(context).hasSingleBean(TagCacheEndpoint.class)
				.hasSingleBean(TagCacheHealthIndicator.class));
	}

	@Test
	void providesNoEndpointWhenNotExposedAndNoHealthIndicatorWhenDisabled() {
		this.contextRunner.withConfiguration(AutoConfigurations.of(TagCacheEndpointAutoConfiguration.class))
			.withPropertyValues("management.health.tagcache.enabled=false")
			.run(context -> assertThat(context).doesNotHaveBean(TagCacheEndpoint.class)
				.doesNotHaveBean(TagCacheHealthIndicator.class));
	}

	@Test
	void providesNoEndpointWithoutTheActuator() {
		this.contextRunner.withConfiguration(AutoConfigurations.of(TagCacheEndpointAutoConfiguration.class))
			.withPropertyValues("management.endpoints.web.exposure.include=tagcache")
			.withClassLoader(new FilteredClassLoader(
					org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint.class))
			.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(TagCacheEndpoint.class));
	}

	@Test
	void backsOffWhenDisabled() {
		this.contextRunner.withPropertyValues("tagcache.enabled=false")
			.run(context -> assertThat(context).doesNotHaveBean(TaggedCacheManager.class));
	}

	@Test
	void backsOffWithoutLettuce() {
		this.contextRunner.withClassLoader(new FilteredClassLoader(LettuceConnectionFactory.class))
			.run(context -> assertThat(context).doesNotHaveBean(TaggedCacheManager.class));
	}

	@Test
	void backsOffWithoutALettuceConnectionFactoryBean() {
		new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(TagCacheAutoConfiguration.class))
			.run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(TaggedCacheManager.class));
	}

	@Test
	void backsOffWhenTheApplicationDefinesATaggedCacheManager() {
		this.contextRunner.withUserConfiguration(UserManagerConfiguration.class).run(context -> {
			assertThat(context).hasSingleBean(TaggedCacheManager.class).hasBean("userCacheManager");
			assertThat(context.getBean(RedisTaggedCacheManager.class).getKeyPrefix()).isEqualTo("mine");
		});
	}

	@Test
	void appliesTheProperties() {
		this.contextRunner
			.withPropertyValues("tagcache.key-prefix=shop", "tagcache.time-to-live=10m",
					"tagcache.cache-null-values=false", "tagcache.caches.users.time-to-live=PT30S",
					"tagcache.caches.locations.time-to-live=0", "tagcache.caches.lists.cache-null-values=true",
					"tagcache.caches.lists.shards=4")
			.run(context -> {
				RedisTaggedCacheManager manager = context.getBean(RedisTaggedCacheManager.class);
				assertThat(manager.getKeyPrefix()).isEqualTo("shop");
				assertThat(manager.getCacheNames()).containsExactlyInAnyOrder("users", "locations", "lists");
				assertThat(manager.getCacheDefaults().getTimeToLive()).isEqualTo(Duration.ofMinutes(10));
				assertThat(configuration(manager, "users").getTimeToLive()).isEqualTo(Duration.ofSeconds(30));
				assertThat(configuration(manager, "users").isCacheNullValues()).isFalse();
				assertThat(configuration(manager, "locations").getTimeToLive()).isZero();
				assertThat(configuration(manager, "lists").isCacheNullValues()).isTrue();
				assertThat(configuration(manager, "lists").getTimeToLive()).isEqualTo(Duration.ofMinutes(10));
				assertThat(configuration(manager, "lists").getShards()).isEqualTo(4);
				assertThat(configuration(manager, "users").getShards()).isEqualTo(1);
			});
	}

	@Test
	void refusesToCreateUnconfiguredCachesWhenAsked() {
		this.contextRunner.withPropertyValues("tagcache.create-missing-caches=false", "tagcache.caches.users.time-to-live=1m")
			.run(context -> {
				RedisTaggedCacheManager manager = context.getBean(RedisTaggedCacheManager.class);
				assertThat(manager.getCache("users")).isNotNull();
				assertThat(manager.getCache("other")).isNull();
			});
	}

	@Test
	@ExtendWith(OutputCaptureExtension.class)
	void aMistypedPerCachePropertyIsWarnedAboutAtStartUp(CapturedOutput output) {
		this.contextRunner
			.withPropertyValues("tagcache.key-prefix=" + uniquePrefix(), "tagcache.caches.usersByLocation.ttl=5m",
					"tagcache.caches.usersByLocation.shards=2", "tagcache.caches.books.time-to-live=1m")
			.run(context -> {
				assertThat(context).hasNotFailed();
				assertThat(configuration(context.getBean(RedisTaggedCacheManager.class), "usersByLocation").getShards())
					.isEqualTo(2);
			});
		assertThat(output).contains("Unknown tagcache properties", "tagcache.caches.usersbylocation.ttl")
			.doesNotContain("tagcache.caches.usersbylocation.shards")
			.doesNotContain("tagcache.caches.books.time-to-live");
	}

	@Test
	void environmentVariablesInTheLegacyFormThatBindAreNotReportedAsUnknown() {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources()
			.replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
					new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
							Map.of("TAGCACHE_TIME_TO_LIVE", "5m", "TAGCACHE_OUTAGE_COOL_DOWN", "1s",
									"TAGCACHE_CACHES_BOOKS_TIME_TO_LIVE", "1m", "TAGCACHE_CACHES_BOOKS_TIMETOLIVE", "1m",
									"TAGCACHE_CACHES_BOOKS_TTL", "1m", "TAGCACHE_TIME_TO_LVE", "5m")));
		TagCacheProperties bound = Binder.get(environment).bindOrCreate("tagcache", TagCacheProperties.class);
		assertThat(bound.getTimeToLive()).isEqualTo(Duration.ofMinutes(5));
		assertThat(bound.getOutage().getCoolDown()).isEqualTo(Duration.ofSeconds(1));
		assertThat(bound.getCaches().get("books").getTimeToLive()).isEqualTo(Duration.ofMinutes(1));
		assertThat(new IgnoredCacheProperties(environment).unknown()).containsExactly("tagcache.caches.books.ttl",
				"tagcache.time.to.lve");
		// in a properties file dots are structure: tagcache.time.to.live binds to nothing
		environment.getPropertySources().addFirst(new MapPropertySource("file", Map.of("tagcache.time.to.live", "5m")));
		assertThat(new IgnoredCacheProperties(environment).unknown()).contains("tagcache.time.to.live");
	}

	@Test
	void aNegativeTimeToLiveFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("tagcache.caches.users.time-to-live=-5s").run(context -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.isInstanceOf(InvalidConfigurationPropertyValueException.class)
				.hasMessageContaining("tagcache.caches.users.time-to-live")
				.hasMessageContaining("negative");
		});
	}

	@Test
	void anUnknownCacheTagHeaderFailsStartupNamingThePropertyAndTheAcceptedValues() {
		new WebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, TagCacheAutoConfiguration.class,
					TagCacheHttpAutoConfiguration.class))
			.withPropertyValues(redisProperties(RedisTopology.STANDALONE))
			.withPropertyValues("tagcache.http.headers=xkey,x-cache-tags")
			.run(context -> {
				assertThat(context).hasFailed();
				assertThat(context.getStartupFailure()).rootCause()
					.isInstanceOf(InvalidConfigurationPropertyValueException.class)
					.hasMessageContaining("tagcache.http.headers")
					.hasMessageContaining("'x-cache-tags'")
					.hasMessageContaining("surrogate-key (Fastly)");
			});
	}

	@Test
	void aPurgeThatFailsNeitherFailsTheInvalidationNorIsLost() {
		new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, TagCacheAutoConfiguration.class,
					TagCacheHttpAutoConfiguration.class, TagCachePurgeAutoConfiguration.class))
			.withPropertyValues(redisProperties(RedisTopology.STANDALONE))
			.withPropertyValues("tagcache.key-prefix=" + uniquePrefix(),
					"tagcache.http.varnish.purge-urls=http://127.0.0.1:" + VarnishServer.freePort() + "/")
			.run(context -> {
				TagPurgeQueue varnish = context.getBean(TagPurges.class).getQueues().get(0);
				RedisTaggedCacheManager manager = context.getBean(RedisTaggedCacheManager.class);
				manager.getCache("users").put(1L, "Ada", List.of("user-1"));

				assertThat(manager.invalidate("user-1")).as("the invalidation itself").isEqualTo(1);

				Awaitility.await()
					.atMost(Duration.ofSeconds(10))
					.until(() -> varnish.getCount(TagPurgeQueue.FAILED) > 0);
				assertThat(varnish.getPending()).as("kept for the next attempt").isEqualTo(1);
			});
	}

	@Test
	void theHttpEdgeIsOffUntilConfigured() {
		new WebApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(DataRedisAutoConfiguration.class, TagCacheAutoConfiguration.class,
					TagCacheHttpAutoConfiguration.class, TagCachePurgeAutoConfiguration.class))
			.withPropertyValues(redisProperties(RedisTopology.STANDALONE))
			.run(context -> assertThat(context).doesNotHaveBean(CacheTagHeaderFilter.class)
				.doesNotHaveBean(TagPurger.class)
				.doesNotHaveBean(TagPurges.class));
	}

	@Test
	void anInvalidShardCountFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("tagcache.caches.users.shards=0").run(context -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.isInstanceOf(InvalidConfigurationPropertyValueException.class)
				.hasMessageContaining("tagcache.caches.users.shards");
		});
	}

	@Test
	void aZeroDrainBudgetFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("tagcache.drain-budget=0ms").run(context -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.isInstanceOf(InvalidConfigurationPropertyValueException.class)
				.hasMessageContaining("tagcache.drain-budget");
		});
	}

	@Test
	void aMalformedDurationFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("tagcache.time-to-live=ten minutes").run(context -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).hasStackTraceContaining("Failed to bind properties under 'tagcache.time-to-live'");
		});
	}

	@Test
	void aCacheNameWithBracesFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("tagcache.caches.[us{ers}].time-to-live=1m").run(context -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause()
				.isInstanceOf(InvalidConfigurationPropertyValueException.class)
				.hasMessageContaining("tagcache.caches")
				.hasMessageContaining("us{ers}");
		});
	}

	@Test
	void aKeyPrefixWithBracesFailsStartupNamingTheProperty() {
		this.contextRunner.withPropertyValues("tagcache.key-prefix={app}").run(context -> {
			assertThat(context).hasFailed();
			assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("tagcache.key-prefix");
		});
	}

	@Test
	void customizersRunInOrderAfterTheProperties() {
		this.contextRunner.withPropertyValues("tagcache.key-prefix=fromProperties")
			.withUserConfiguration(CustomizerConfiguration.class)
			.run(context -> assertThat(context.getBean(RedisTaggedCacheManager.class).getKeyPrefix())
				.isEqualTo("second"));
	}

	@Test
	void untypedReadsAllowTheApplicationsPackages() {
		this.contextRunner.withUserConfiguration(SampleApplicationPackage.class)
			.withPropertyValues("tagcache.key-prefix=" + uniquePrefix())
			.run(context -> {
				RedisTaggedCache cache = context.getBean(RedisTaggedCacheManager.class).getCache("orders");
				cache.put(1L, new Order(1, "book"));
				assertThat(cache.get(1L).get()).isEqualTo(new Order(1, "book"));
			});
	}

	@Test
	void untypedReadsAllowConfiguredTypes() {
		this.contextRunner
			.withPropertyValues("tagcache.key-prefix=" + uniquePrefix(),
					"tagcache.allowed-types=io.tagcache.autoconfigure.sample")
			.run(context -> {
				RedisTaggedCache cache = context.getBean(RedisTaggedCacheManager.class).getCache("orders");
				cache.put(1L, new Order(1, "book"));
				assertThat(cache.get(1L).get()).isEqualTo(new Order(1, "book"));
			});
	}

	private static RedisTaggedCacheConfiguration configuration(RedisTaggedCacheManager manager, String name) {
		return manager.getCache(name).getConfiguration();
	}

	private static String uniquePrefix() {
		return "t" + java.util.UUID.randomUUID().toString().substring(0, 8);
	}

	@Configuration(proxyBeanMethods = false)
	@EnableCaching
	static class CachingConfiguration {

	}

	static class GreetingService {

		private final java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();

		public int calls() {
			return this.calls.get();
		}

		@CacheableTagged(cacheNames = "greetings", tags = "'person-' + #name")
		public String greet(String name) {
			this.calls.incrementAndGet();
			return "hello " + name;
		}

		@InvalidateTags("'person-' + #name")
		public void rename(String name) {
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class UserManagerConfiguration {

		@Bean
		RedisTaggedCacheManager userCacheManager(LettuceConnectionFactory connectionFactory) {
			return RedisTaggedCacheManager.builder(connectionFactory).keyPrefix("mine").build();
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class CustomizerConfiguration {

		@Bean
		@org.springframework.core.annotation.Order(2)
		TaggedCacheManagerCustomizer second() {
			return builder -> builder.keyPrefix("second");
		}

		@Bean
		@org.springframework.core.annotation.Order(1)
		TaggedCacheManagerCustomizer first() {
			return builder -> builder.keyPrefix("first");
		}

	}

}
