package io.tagcache.interceptor;

import java.lang.reflect.Method;

import org.springframework.aop.ClassFilter;
import org.springframework.aop.Pointcut;
import org.springframework.aop.support.AbstractBeanFactoryPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.cache.CacheManager;
import org.springframework.util.Assert;

/**
 * Applies the {@link TagCacheInterceptor} to the methods that carry {@code @CacheableTagged} or
 * {@code @InvalidateTags}, as Spring's {@code BeanFactoryCacheOperationSourceAdvisor} does for
 * {@code @Cacheable}. Any Spring auto-proxy creator picks it up (it is an infrastructure bean), so it
 * works beside {@code @EnableCaching}, {@code @EnableTransactionManagement} and AspectJ auto-proxying,
 * sharing their single proxy per bean.
 */
public final class TagCacheAdvisor extends AbstractBeanFactoryPointcutAdvisor {

	private final TagCacheOperationSource operationSource;

	private final Pointcut pointcut = new OperationSourcePointcut();

	/**
	 * Create an advisor for the methods the operation source finds annotated.
	 * @param operationSource the operation source, shared with the interceptor
	 */
	public TagCacheAdvisor(TagCacheOperationSource operationSource) {
		Assert.notNull(operationSource, "Operation source must not be null");
		this.operationSource = operationSource;
	}

	@Override
	public Pointcut getPointcut() {
		return this.pointcut;
	}

	/** Matches annotated methods; parsing the annotation here is what makes mistakes fail start-up. */
	private final class OperationSourcePointcut extends StaticMethodMatcherPointcut {

		OperationSourcePointcut() {
			// Cache managers are never advised: their own calls must not go through the cache.
			setClassFilter((ClassFilter) (type) -> !CacheManager.class.isAssignableFrom(type)
					&& TagCacheAdvisor.this.operationSource.isCandidateClass(type));
		}

		@Override
		public boolean matches(Method method, Class<?> targetClass) {
			return TagCacheAdvisor.this.operationSource.hasOperation(method, targetClass);
		}

	}

}
