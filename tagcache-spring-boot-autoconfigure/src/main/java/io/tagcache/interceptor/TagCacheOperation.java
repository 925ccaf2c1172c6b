package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.List;

import org.jspecify.annotations.Nullable;

import org.springframework.expression.Expression;
import org.springframework.expression.spel.SpelNode;

/**
 * One annotated method, parsed: the annotation's attributes with every expression already parsed, and
 * how the method's results are unwrapped. Immutable, built once per method by
 * {@link TagCacheOperationSource}.
 */
sealed interface TagCacheOperation {

	/** The method the annotation was found on, for messages. */
	Method method();

	/** How the method returns its value. */
	ResultKind resultKind();

	/**
	 * A {@code @CacheableTagged} method.
	 * @param valueType the generic type cached values are read back as (the unwrapped return type)
	 * @param keyArgument the index of the argument the key expression merely names ({@code #id},
	 * {@code #p0}, ...), read at call time without SpEL; -1 when the key is evaluated or generated
	 * @param timeToLive the entries' time to live, or {@code null} for the cache's default
	 */
	record Cacheable(Method method, ResultKind resultKind, Type valueType, List<String> cacheNames,
			@Nullable NamedExpression key, int keyArgument, @Nullable NamedExpression condition,
			@Nullable NamedExpression unless, List<NamedExpression> tags, @Nullable Duration timeToLive,
			boolean sync) implements TagCacheOperation {
	}

	/** An {@code @InvalidateTags} method. */
	record Invalidate(Method method, ResultKind resultKind, List<NamedExpression> tags,
			@Nullable NamedExpression condition, boolean beforeInvocation, boolean soft) implements TagCacheOperation {
	}

	/**
	 * A parsed expression with what it is, for messages.
	 * @param attribute the annotation attribute, such as "tag" or "key"
	 * @param source the expression as written
	 * @param expression the parsed expression
	 * @param concatenationOperands for a tag that is a concatenation ({@code 'user-' + #user.id}), its
	 * operands other than literals, checked for {@code null} when the tag reads "null"; else empty
	 */
	record NamedExpression(String attribute, String source, Expression expression,
			List<SpelNode> concatenationOperands) {
	}

}
