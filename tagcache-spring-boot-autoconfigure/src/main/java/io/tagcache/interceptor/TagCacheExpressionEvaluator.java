package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.context.expression.AnnotatedElementKey;
import org.springframework.context.expression.BeanFactoryResolver;
import org.springframework.context.expression.CachedExpressionEvaluator;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.Expression;

/**
 * Parses and evaluates the SpEL expressions of the annotations, as Spring's
 * {@code CacheOperationExpressionEvaluator} does for {@code @Cacheable}: each expression is parsed once
 * per method and kept, and each call gets its own evaluation context, so the evaluator is shared by all
 * threads.
 */
final class TagCacheExpressionEvaluator extends CachedExpressionEvaluator {

	/** The name of the variable holding the method's result. */
	static final String RESULT_VARIABLE = "result";

	private final Map<ExpressionKey, Expression> expressions = new ConcurrentHashMap<>(64);

	/**
	 * Parse an expression of a method, or return it parsed already.
	 * @throws org.springframework.expression.ParseException if it does not parse
	 */
	Expression parse(String expression, Method method, Class<?> targetClass) {
		return getExpression(this.expressions, new AnnotatedElementKey(method, targetClass), expression);
	}

	/**
	 * Create the context of one call: arguments by name and as {@code #p0}/{@code #a0}, the
	 * {@linkplain TagCacheExpressionRootObject root object}, and {@code @bean} references.
	 */
	EvaluationContext createContext(Method method, @Nullable Object[] args, @Nullable Object target,
			Class<?> targetClass, @Nullable BeanFactory beanFactory) {
		TagCacheExpressionRootObject root = new TagCacheExpressionRootObject(method, args, target, targetClass);
		MethodBasedEvaluationContext context = new MethodBasedEvaluationContext(root, method, args,
				getParameterNameDiscoverer());
		if (beanFactory != null) {
			context.setBeanResolver(new BeanFactoryResolver(beanFactory));
		}
		return context;
	}

}
