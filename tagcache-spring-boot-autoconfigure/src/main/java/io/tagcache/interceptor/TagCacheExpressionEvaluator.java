package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.context.expression.AnnotatedElementKey;
import org.springframework.context.expression.BeanFactoryResolver;
import org.springframework.context.expression.CachedExpressionEvaluator;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.KotlinDetector;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.Expression;

/**
 * Parses and evaluates the SpEL expressions of the annotations, as Spring's
 * {@code CacheOperationExpressionEvaluator} does for {@code @Cacheable}: each expression is parsed once
 * per method and kept, and each call gets its own evaluation context, so the evaluator is shared by all
 * threads.
 *
 * <p>An expression that merely names an argument ({@code #id}, {@code #p0}, {@code #a0},
 * {@code #root.args[0]}) can instead be {@linkplain #argumentIndex resolved to the argument's index}
 * once, so that a call reads the argument without creating an evaluation context.
 */
final class TagCacheExpressionEvaluator extends CachedExpressionEvaluator {

	/** The name of the variable holding the method's result. */
	static final String RESULT_VARIABLE = "result";

	/** {@code #name}; a stricter identifier than SpEL's, so that a match is always a variable reference. */
	private static final Pattern VARIABLE = Pattern.compile("#([A-Za-z_][A-Za-z0-9_]*)");

	/** {@code #root.args[index]}, the index without leading zeros. */
	private static final Pattern ROOT_ARGUMENT = Pattern.compile("#root\\.args\\[(0|[1-9][0-9]{0,8})]");

	private final Map<ExpressionKey, Expression> expressions = new ConcurrentHashMap<>(64);

	/**
	 * Parse an expression of a method, or return it parsed already.
	 * @throws org.springframework.expression.ParseException if it does not parse
	 */
	Expression parse(String expression, Method method, Class<?> targetClass) {
		return getExpression(this.expressions, new AnnotatedElementKey(method, targetClass), expression);
	}

	/**
	 * Return the method's parameter names, as the evaluation context will define them.
	 * @return the names, or {@code null} when they are not available
	 */
	@Nullable String @Nullable [] parameterNames(Method method) {
		return getParameterNameDiscoverer().getParameterNames(method);
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

	/**
	 * Return the index of the argument that an expression of the method merely names, so that a call can
	 * read {@code args[index]} instead of evaluating it; the value is then the one SpEL would yield, for a
	 * call whose number of arguments is the method's number of parameters.
	 * @param expression the expression as written, already parsed
	 * @param method the method, the one given to {@link #createContext}
	 * @return the index, or -1 when the expression needs SpEL
	 */
	int argumentIndex(String expression, Method method) {
		if (KotlinDetector.isSuspendingFunction(method)) {
			return -1;
		}
		return argumentIndex(expression, getParameterNameDiscoverer().getParameterNames(method),
				method.getParameterCount());
	}

	/**
	 * {@link #argumentIndex(String, Method)} with the parameter names already discovered.
	 * @param parameterNames the names, or {@code null} when they are not available
	 */
	static int argumentIndex(String expression, @Nullable String @Nullable [] parameterNames, int parameterCount) {
		if (parameterNames != null && parameterNames.length != parameterCount) {
			return -1;
		}
		Matcher rootArgument = ROOT_ARGUMENT.matcher(expression);
		if (rootArgument.matches()) {
			int index = Integer.parseInt(rootArgument.group(1));
			return (index < parameterCount) ? index : -1;
		}
		Matcher variable = VARIABLE.matcher(expression);
		if (!variable.matches()) {
			return -1;
		}
		String name = variable.group(1);
		if (name.equals("root") || name.equals("this") || name.equals(RESULT_VARIABLE)) {
			// SpEL's own variables; and #result, once set, hides an argument of that name
			return -1;
		}
		// As MethodBasedEvaluationContext sets the variables: in this order, a later one replacing an earlier.
		int index = -1;
		for (int i = 0; i < parameterCount; i++) {
			if (name.equals("a" + i) || name.equals("p" + i)
					|| (parameterNames != null && name.equals(parameterNames[i]))) {
				index = i;
			}
		}
		return index;
	}

}
