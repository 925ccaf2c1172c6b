package io.tagcache.interceptor;

import io.tagcache.TaggedCacheManager;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.aop.config.AopConfigUtils;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.ImportBeanDefinitionRegistrar;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Role;
import org.springframework.core.type.AnnotationMetadata;

/**
 * Registers the annotation support: the operation source, the interceptor and the advisor that applies
 * it, plus Spring's auto-proxy creator when none is registered yet. Importing this class is all an
 * application needs; there is no {@code @Enable...} annotation. The tagcache auto-configuration
 * imports it.
 *
 * <p>The auto-proxy creator is registered the way {@code @EnableCaching} does it
 * ({@link AopConfigUtils#registerAutoProxyCreatorIfNecessary}): when {@code @EnableCaching},
 * {@code @EnableTransactionManagement} or Spring Boot's AOP auto-configuration register theirs, one
 * creator remains, the most capable one, and it applies all advisors through one proxy per bean. Like
 * {@code @EnableCaching} this does not force class-based proxies; Spring Boot does by default
 * ({@code spring.aop.proxy-target-class=true}).
 *
 * <p>The {@link TaggedCacheManager} is looked up on first use rather than injected, so the
 * infrastructure beans (created early, while bean post-processors are set up) do not drag the cache
 * manager and the Redis connection factory into early creation.
 *
 * <p>Tags are derived from the properties that the application's {@link JsonMapper} bean writes (a
 * default mapper when there is none), the mapper the auto-configured cache manager writes values with.
 * A cache manager given another mapper should be given an equivalent one, or results may carry tags
 * for a graph other than the one stored.
 */
@Configuration(proxyBeanMethods = false)
@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
@Import(TaggedCachingConfiguration.AutoProxyRegistrar.class)
public final class TaggedCachingConfiguration {

	/** The advisor's bean name. */
	public static final String ADVISOR_BEAN_NAME = "io.tagcache.interceptor.internalTagCacheAdvisor";

	@Bean(name = ADVISOR_BEAN_NAME)
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	static TagCacheAdvisor tagCacheAdvisor(TagCacheOperationSource tagCacheOperationSource,
			TagCacheInterceptor tagCacheInterceptor) {
		TagCacheAdvisor advisor = new TagCacheAdvisor(tagCacheOperationSource);
		advisor.setAdvice(tagCacheInterceptor);
		return advisor;
	}

	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	static TagCacheOperationSource tagCacheOperationSource() {
		return new TagCacheOperationSource();
	}

	@Bean
	@Role(BeanDefinition.ROLE_INFRASTRUCTURE)
	static TagCacheInterceptor tagCacheInterceptor(TagCacheOperationSource tagCacheOperationSource,
			ObjectProvider<TaggedCacheManager> cacheManager, ObjectProvider<TagResolver> tagResolvers,
			ObjectProvider<JsonMapper> jsonMapper) {
		return new TagCacheInterceptor(tagCacheOperationSource, cacheManager::getObject,
				() -> new TagExtractor(tagResolvers.orderedStream().toList(),
						jsonMapper.getIfAvailable(JsonMapper::shared)));
	}

	/** Registers the auto-proxy creator, or keeps the more capable one already registered. */
	static final class AutoProxyRegistrar implements ImportBeanDefinitionRegistrar {

		@Override
		public void registerBeanDefinitions(AnnotationMetadata importingClassMetadata, BeanDefinitionRegistry registry) {
			AopConfigUtils.registerAutoProxyCreatorIfNecessary(registry);
		}

	}

}
