package io.tagcache.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import io.tagcache.TaggedCacheManager;

import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.cache.CacheManager;

/**
 * Boot's rule for cache managers, "the application's own wins", kept when tagcache adds its manager:
 * when the application defines exactly one other {@link CacheManager} (a Caffeine or a
 * spring-data-redis one, under any name) and none is primary, that one becomes primary. Plain
 * {@code @Cacheable} ({@code @EnableCaching} looks up one {@code CacheManager}) then uses it, as it
 * would without tagcache, while {@code @CacheableTagged} and {@code @InvalidateTags} use the tagged
 * manager, the one {@link TaggedCacheManager}. With several managers of its own the application
 * already decides (a primary one, or a {@code CachingConfigurer}), and nothing is changed.
 */
final class UserCacheManagerPrimary implements BeanFactoryPostProcessor {

	@Override
	public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
		List<String> others = new ArrayList<>();
		for (String name : beanFactory.getBeanNamesForType(CacheManager.class, true, false)) {
			if (!beanFactory.isTypeMatch(name, TaggedCacheManager.class)) {
				others.add(name);
			}
			if (beanFactory.containsBeanDefinition(name) && beanFactory.getBeanDefinition(name).isPrimary()) {
				return;
			}
		}
		if (others.size() == 1 && beanFactory.containsBeanDefinition(others.get(0))) {
			BeanDefinition definition = beanFactory.getBeanDefinition(others.get(0));
			definition.setPrimary(true);
		}
	}

}
