package io.tagcache.autoconfigure;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import io.tagcache.TaggedCacheManager;
import io.tagcache.interceptor.TagCacheOperationSource;
import io.tagcache.interceptor.TaggedCachingConfiguration;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TypeAllowList;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.ConfigurableBeanFactory;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurationPackages;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.source.InvalidConfigurationPropertyValueException;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.cache.autoconfigure.CacheManagerCustomizer;
import org.springframework.boot.cache.autoconfigure.CacheManagerCustomizers;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.env.Environment;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.context.annotation.Import;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Auto-configuration of the {@link RedisTaggedCacheManager}: the application's
 * {@code CacheManager}, on the Lettuce connection factory of Spring Boot's Redis support.
 *
 * <p>Also turns on the annotations ({@code @CacheableTagged}, {@code @InvalidateTags}) with no
 * {@code @Enable...} annotation needed.
 *
 * <p>Runs after Boot's Redis auto-configuration and before its cache auto-configuration, so that
 * Boot's cache support ({@code /actuator/caches}, cache metrics) sees our manager and does not
 * create another. Backs off when the application defines its own {@link TaggedCacheManager}, or
 * when {@code tagcache.enabled=false}.
 */
@AutoConfiguration(afterName = "org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration",
		beforeName = { "org.springframework.boot.cache.autoconfigure.CacheAutoConfiguration",
				"org.springframework.boot.cache.autoconfigure.metrics.CacheMetricsAutoConfiguration" })
@ConditionalOnClass({ LettuceConnectionFactory.class, RedisTaggedCacheManager.class })
@ConditionalOnBooleanProperty(name = "tagcache.enabled", matchIfMissing = true)
@Conditional(TagCacheAutoConfiguration.CachingNotTurnedOff.class)
@EnableConfigurationProperties(TagCacheProperties.class)
@Import(TaggedCachingConfiguration.class)
public final class TagCacheAutoConfiguration {

	/**
	 * Boot's {@code spring.cache.type=none} turns caching off: tagcache backs off too (its annotations
	 * then run every method, and Boot's no-op cache manager serves plain {@code @Cacheable}).
	 */
	static final class CachingNotTurnedOff extends SpringBootCondition {

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			String type = context.getEnvironment().getProperty("spring.cache.type");
			return (type != null && type.trim().equalsIgnoreCase("none"))
					? ConditionOutcome.noMatch("spring.cache.type is none")
					: ConditionOutcome.match("spring.cache.type is not none");
		}

	}

	/** The name of the auto-configured manager's bean; its meters are tagged {@code cache.manager=tagcache}. */
	public static final String CACHE_MANAGER_BEAN_NAME = "tagcacheCacheManager";

	/**
	 * The tagged cache manager. Named {@value #CACHE_MANAGER_BEAN_NAME}, not {@code cacheManager}, so that
	 * an application's own {@code cacheManager} bean is no conflict; see
	 * {@link UserCacheManagerPrimary} for which manager plain {@code @Cacheable} uses then.
	 */
	@Bean(CACHE_MANAGER_BEAN_NAME)
	@ConditionalOnMissingBean(TaggedCacheManager.class)
	@ConditionalOnBean(LettuceConnectionFactory.class)
	RedisTaggedCacheManager tagcacheCacheManager(LettuceConnectionFactory connectionFactory, TagCacheProperties properties,
			ObjectProvider<JsonMapper> jsonMapper, ObjectProvider<TaggedCacheManagerCustomizer> customizers,
			BeanFactory beanFactory) {
		RedisTaggedCacheManager.Builder builder = RedisTaggedCacheManager.builder(connectionFactory);
		applyProperties(builder, properties, beanFactory);
		jsonMapper.ifAvailable(builder::jsonMapper);
		if (beanFactory instanceof ConfigurableBeanFactory configurable) {
			builder.classLoader(configurable.getBeanClassLoader());
		}
		customizers.orderedStream().forEach(customizer -> customizer.customize(builder));
		return builder.build();
	}

	/** Warns about {@code spring.cache.*} settings that do not apply to the tagged manager. */
	@Bean
	static IgnoredCacheProperties tagCacheIgnoredCacheProperties(Environment environment) {
		return new IgnoredCacheProperties(environment);
	}

	@Bean
	static UserCacheManagerPrimary tagCacheUserCacheManagerPrimary() {
		return new UserCacheManagerPrimary();
	}

	@Bean
	@ConditionalOnBooleanProperty(name = "tagcache.create-missing-caches", havingValue = false)
	static MissingCachesCheck tagCacheMissingCachesCheck(TagCacheOperationSource tagCacheOperationSource,
			ObjectProvider<TaggedCacheManager> cacheManager) {
		return new MissingCachesCheck(tagCacheOperationSource, cacheManager::getObject);
	}

	private static void applyProperties(RedisTaggedCacheManager.Builder builder, TagCacheProperties properties,
			BeanFactory beanFactory) {
		property("tagcache.key-prefix", properties.getKeyPrefix(), () -> builder.keyPrefix(properties.getKeyPrefix()));
		RedisTaggedCacheConfiguration timed = property("tagcache.time-to-live", properties.getTimeToLive(),
				() -> RedisTaggedCacheConfiguration.defaultConfig()
					.withTimeToLive(properties.getTimeToLive())
					.withNullValues(properties.isCacheNullValues()));
		RedisTaggedCacheConfiguration defaults = freshness("tagcache.", timed, properties.getEarlyRefreshBeta(),
				properties.getStaleWhileRevalidate(), properties.getStaleIfError())
			.withNearCache(properties.getNearCache().isEnabled());
		builder.cacheDefaults(defaults);
		for (Map.Entry<String, TagCacheProperties.Cache> entry : properties.getCaches().entrySet()) {
			String name = entry.getKey();
			TagCacheProperties.Cache cache = entry.getValue();
			String prefix = "tagcache.caches." + name + ".";
			Duration timeToLive = (cache.getTimeToLive() != null) ? cache.getTimeToLive() : defaults.getTimeToLive();
			boolean nullValues = (cache.getCacheNullValues() != null) ? cache.getCacheNullValues()
					: defaults.isCacheNullValues();
			RedisTaggedCacheConfiguration configured = property(prefix + "time-to-live", timeToLive,
					() -> defaults.withTimeToLive(timeToLive).withNullValues(nullValues));
			RedisTaggedCacheConfiguration sharded = property(prefix + "shards", cache.getShards(),
					() -> configured.withShards(cache.getShards()));
			RedisTaggedCacheConfiguration configuration = freshness(prefix, sharded,
					(cache.getEarlyRefreshBeta() != null) ? cache.getEarlyRefreshBeta() : defaults.getEarlyRefreshBeta(),
					(cache.getStaleWhileRevalidate() != null) ? cache.getStaleWhileRevalidate()
							: defaults.getStaleWhileRevalidate(),
					(cache.getStaleIfError() != null) ? cache.getStaleIfError() : defaults.getStaleIfError())
				.withNearCache((cache.getNearCache().getEnabled() != null) ? cache.getNearCache().getEnabled()
						: defaults.isNearCache());
			property("tagcache.caches", name, () -> builder.withCache(name, configuration));
		}
		if (!properties.isCreateMissingCaches()) {
			builder.disableCreateOnMissingCache();
		}
		property("tagcache.allowed-types", properties.getAllowedTypes(),
				() -> builder.allowedTypes(allowList(properties, beanFactory)));
		property("tagcache.fence-retention", properties.getFenceRetention(),
				() -> builder.fenceRetention(properties.getFenceRetention()));
		property("tagcache.inline-invalidation-limit", properties.getInlineInvalidationLimit(),
				() -> builder.inlineInvalidationLimit(properties.getInlineInvalidationLimit()));
		property("tagcache.drain-budget", properties.getDrainBudget(),
				() -> builder.drainBudget(properties.getDrainBudget()));
		property("tagcache.transaction-hold", properties.getTransactionHold(),
				() -> builder.transactionHold(properties.getTransactionHold()));
		property("tagcache.sync-timeout", properties.getSyncTimeout(),
				() -> builder.syncTimeout(properties.getSyncTimeout()));
		property("tagcache.near-cache.maximum-size", properties.getNearCache().getMaximumSize(),
				() -> builder.nearCacheMaximumSize(properties.getNearCache().getMaximumSize()));
		builder.broadcastEvents(properties.getEvents().isBroadcast());
		TagCacheProperties.Outage outage = properties.getOutage();
		property("tagcache.outage.failure-threshold", outage.getFailureThreshold(),
				() -> builder.failureThreshold(outage.getFailureThreshold()));
		property("tagcache.outage.cool-down", outage.getCoolDown(), () -> builder.coolDown(outage.getCoolDown()));
		property("tagcache.outage.pending-invalidations", outage.getPendingInvalidations(),
				() -> builder.pendingInvalidationLimit(outage.getPendingInvalidations()));
		property("tagcache.outage.invalidation-wait", outage.getInvalidationWait(),
				() -> builder.invalidationWait(outage.getInvalidationWait()));
	}

	/** The freshness settings of a configuration, each checked and named as the property it came from. */
	private static RedisTaggedCacheConfiguration freshness(String prefix, RedisTaggedCacheConfiguration configuration,
			double earlyRefreshBeta, Duration staleWhileRevalidate, Duration staleIfError) {
		RedisTaggedCacheConfiguration beta = property(prefix + "early-refresh-beta", earlyRefreshBeta,
				() -> configuration.withEarlyRefreshBeta(earlyRefreshBeta));
		RedisTaggedCacheConfiguration revalidating = property(prefix + "stale-while-revalidate", staleWhileRevalidate,
				() -> beta.withStaleWhileRevalidate(staleWhileRevalidate));
		return property(prefix + "stale-if-error", staleIfError, () -> revalidating.withStaleIfError(staleIfError));
	}

	/** The JDK value types, the application's packages and the configured ones. */
	private static TypeAllowList allowList(TagCacheProperties properties, BeanFactory beanFactory) {
		List<String> allowed = new ArrayList<>();
		if (AutoConfigurationPackages.has(beanFactory)) {
			allowed.addAll(AutoConfigurationPackages.get(beanFactory));
		}
		allowed.addAll(properties.getAllowedTypes());
		return TypeAllowList.jdkValueTypes().and(allowed.toArray(String[]::new));
	}

	/** Applies a property, turning a refusal into a start-up failure that names the property. */
	static <T> T property(String name, Object value, Supplier<T> application) {
		try {
			return application.get();
		}
		catch (IllegalArgumentException ex) {
			throw new InvalidConfigurationPropertyValueException(name, value, ex.getMessage());
		}
	}

	/**
	 * Boot's cache convention: its {@code CacheManagerCustomizer} beans (of
	 * {@code RedisTaggedCacheManager} or a supertype) are applied to the auto-configured manager once it
	 * is built, as Boot applies them to the managers it creates. ({@code TaggedCacheManagerCustomizer}
	 * customizes the builder instead, before.)
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(CacheManagerCustomizers.class)
	static class BootCacheManagerCustomizers {

		@Bean
		static BeanPostProcessor tagCacheManagerCustomizersPostProcessor(
				ObjectProvider<CacheManagerCustomizer<?>> customizers) {
			return new BeanPostProcessor() {

				@Override
				public Object postProcessAfterInitialization(Object bean, String beanName) {
					if (bean instanceof RedisTaggedCacheManager manager && beanName.equals(CACHE_MANAGER_BEAN_NAME)) {
						new CacheManagerCustomizers(customizers.orderedStream().toList()).customize(manager);
					}
					return bean;
				}

			};
		}

	}

}
