package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.support.AopUtils;
import org.springframework.core.MethodClassKey;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.expression.ParseException;
import org.springframework.format.datetime.standard.DurationFormatterUtils;
import org.springframework.util.StringUtils;

/**
 * Finds and parses the tagcache annotations of methods, once per method and target class, as
 * Spring's {@code AnnotationCacheOperationSource} does for {@code @Cacheable}.
 *
 * <p>Parsing happens when the advisor asks whether a method matches, that is while the application
 * context creates its beans; so every mistake an annotation can hold (an expression that does not
 * parse, a malformed {@code ttl}, {@code sync} over several caches) fails start-up with a message
 * naming the class, the method and the faulty attribute, rather than the first call in production.
 *
 * <p>Annotations are found on the most specific method of the target class first, then on the method
 * that was called (typically an interface method), with {@code @AliasFor} and meta-annotations
 * resolved. Thread-safe.
 */
public final class TagCacheOperationSource {

	private static final Set<Class<? extends java.lang.annotation.Annotation>> ANNOTATIONS = Set
		.of(CacheableTagged.class, InvalidateTags.class);

	/** Marks methods without annotations in the cache, which cannot hold {@code null}. */
	private static final Object NONE = new Object();

	private final TagCacheExpressionEvaluator evaluator = new TagCacheExpressionEvaluator();

	private final Map<MethodClassKey, Object> operations = new ConcurrentHashMap<>(1024);

	private volatile boolean anyFound;

	/**
	 * Whether the class may carry tagcache annotations at all; {@code false} lets proxy creation skip
	 * JDK and other classes without looking at their methods.
	 * @param targetClass the class
	 * @return whether to look at its methods
	 */
	public boolean isCandidateClass(Class<?> targetClass) {
		return AnnotationUtils.isCandidateClass(targetClass, ANNOTATIONS);
	}

	/**
	 * Whether the method carries {@code @CacheableTagged} or {@code @InvalidateTags}.
	 * @param method the method, possibly an interface method
	 * @param targetClass the class of the target object, or {@code null}
	 * @return whether the interceptor applies
	 * @throws IllegalStateException when the annotation is invalid
	 */
	public boolean hasOperation(Method method, @Nullable Class<?> targetClass) {
		return getOperation(method, targetClass) != null;
	}

	/** Whether any annotated method has been found so far. */
	boolean hasFoundOperations() {
		return this.anyFound;
	}

	TagCacheExpressionEvaluator evaluator() {
		return this.evaluator;
	}

	@Nullable TagCacheOperation getOperation(Method method, @Nullable Class<?> targetClass) {
		if (method.getDeclaringClass() == Object.class) {
			return null;
		}
		MethodClassKey cacheKey = new MethodClassKey(method, targetClass);
		Object cached = this.operations.get(cacheKey);
		if (cached == null) {
			TagCacheOperation operation = computeOperation(method, targetClass);
			cached = (operation != null) ? operation : NONE;
			this.operations.put(cacheKey, cached);
			if (operation != null) {
				this.anyFound = true;
			}
		}
		return (cached != NONE) ? (TagCacheOperation) cached : null;
	}

	private @Nullable TagCacheOperation computeOperation(Method method, @Nullable Class<?> targetClass) {
		Class<?> userClass = (targetClass != null) ? targetClass : method.getDeclaringClass();
		Method specificMethod = AopUtils.getMostSpecificMethod(method, userClass);
		TagCacheOperation operation = parse(specificMethod, userClass);
		if (operation == null && specificMethod != method) {
			operation = parse(method, userClass);
		}
		return operation;
	}

	private @Nullable TagCacheOperation parse(Method method, Class<?> targetClass) {
		CacheableTagged cacheable = AnnotatedElementUtils.findMergedAnnotation(method, CacheableTagged.class);
		InvalidateTags invalidate = AnnotatedElementUtils.findMergedAnnotation(method, InvalidateTags.class);
		if (cacheable == null && invalidate == null) {
			return null;
		}
		if (cacheable != null && invalidate != null) {
			throw new IllegalStateException("@CacheableTagged and @InvalidateTags on the same method "
					+ describe(method) + ": a method either reads through the cache or changes data; split it");
		}
		ResultKind resultKind;
		try {
			resultKind = ResultKind.of(method);
		}
		catch (IllegalStateException ex) {
			throw new IllegalStateException(ex.getMessage() + " on " + describe(method), ex);
		}
		return (cacheable != null) ? parseCacheable(cacheable, method, targetClass, resultKind)
				: parseInvalidate(invalidate, method, targetClass, resultKind);
	}

	private TagCacheOperation.Cacheable parseCacheable(CacheableTagged annotation, Method method, Class<?> targetClass,
			ResultKind resultKind) {
		if (method.getReturnType() == void.class) {
			throw new IllegalStateException("@CacheableTagged on " + describe(method) + ", which returns nothing");
		}
		List<String> cacheNames = Arrays.asList(annotation.cacheNames());
		if (cacheNames.isEmpty() || cacheNames.stream().anyMatch((name) -> !StringUtils.hasText(name))) {
			throw new IllegalStateException("@CacheableTagged on " + describe(method)
					+ " must name its cache(s), e.g. @CacheableTagged(\"users\")");
		}
		if (annotation.sync() && cacheNames.size() != 1) {
			throw new IllegalStateException("@CacheableTagged(sync = true) on " + describe(method)
					+ " names " + cacheNames.size() + " caches; a synchronized load works on exactly one");
		}
		Type valueType = resultKind.valueType(method, targetClass);
		checkEntityTypes(ResolvableType.forType(valueType), method);
		TagCacheOperation.NamedExpression key = parseOptional("key", annotation.key(), method, targetClass);
		int keyArgument = (key != null) ? this.evaluator.argumentIndex(key.source(), method) : -1;
		return new TagCacheOperation.Cacheable(method, resultKind, valueType, List.copyOf(cacheNames), key,
				keyArgument, parseOptional("condition", annotation.condition(), method, targetClass),
				parseOptional("unless", annotation.unless(), method, targetClass),
				parseTags(annotation.tags(), method, targetClass), parseTimeToLive(annotation.ttl(), method),
				annotation.sync());
	}

	private TagCacheOperation.Invalidate parseInvalidate(InvalidateTags annotation, Method method,
			Class<?> targetClass, ResultKind resultKind) {
		if (annotation.tags().length == 0) {
			throw new IllegalStateException("@InvalidateTags on " + describe(method)
					+ " names no tags, e.g. @InvalidateTags(\"'user-' + #user.id\")");
		}
		return new TagCacheOperation.Invalidate(method, resultKind, parseTags(annotation.tags(), method, targetClass),
				parseOptional("condition", annotation.condition(), method, targetClass),
				annotation.beforeInvocation());
	}

	/** Fail start-up for a declared {@code @TagEntity} result type (or element type) that has no id. */
	private static void checkEntityTypes(ResolvableType type, Method method) {
		Class<?> resolved = type.resolve();
		if (resolved != null && !resolved.isPrimitive()) {
			try {
				TagExtractor.checkTaggable(resolved);
			}
			catch (IllegalStateException ex) {
				throw new IllegalStateException(ex.getMessage() + " (returned by " + describe(method) + ")", ex);
			}
		}
		if (type.isArray()) {
			checkEntityTypes(type.getComponentType(), method);
		}
		for (ResolvableType generic : type.getGenerics()) {
			checkEntityTypes(generic, method);
		}
	}

	private List<TagCacheOperation.NamedExpression> parseTags(String[] expressions, Method method,
			Class<?> targetClass) {
		List<TagCacheOperation.NamedExpression> tags = new ArrayList<>(expressions.length);
		for (String expression : expressions) {
			if (!StringUtils.hasText(expression)) {
				throw new IllegalStateException("Empty tag expression on " + describe(method));
			}
			tags.add(parse("tag", expression, method, targetClass));
		}
		return List.copyOf(tags);
	}

	private TagCacheOperation.@Nullable NamedExpression parseOptional(String attribute, String expression,
			Method method, Class<?> targetClass) {
		return StringUtils.hasText(expression) ? parse(attribute, expression, method, targetClass) : null;
	}

	private TagCacheOperation.NamedExpression parse(String attribute, String expression, Method method,
			Class<?> targetClass) {
		try {
			return new TagCacheOperation.NamedExpression(attribute, expression,
					this.evaluator.parse(expression, method, targetClass));
		}
		catch (ParseException ex) {
			throw new IllegalStateException("Invalid " + attribute + " expression '" + expression + "' on "
					+ describe(method) + ": " + ex.getMessage(), ex);
		}
	}

	private static @Nullable Duration parseTimeToLive(String ttl, Method method) {
		if (!StringUtils.hasText(ttl)) {
			return null;
		}
		Duration timeToLive;
		try {
			timeToLive = DurationFormatterUtils.detectAndParse(ttl.trim());
		}
		catch (RuntimeException ex) {
			throw new IllegalStateException("Invalid ttl '" + ttl + "' on " + describe(method)
					+ ": use a duration such as \"10m\", \"90s\" or \"PT10M\"", ex);
		}
		if (timeToLive.isNegative()) {
			throw new IllegalStateException("Negative ttl '" + ttl + "' on " + describe(method));
		}
		return timeToLive;
	}

	/** A method as users read it in messages: {@code com.example.UserService.find(long)}. */
	static String describe(Method method) {
		return method.getDeclaringClass().getName() + "." + method.getName()
				+ Arrays.stream(method.getParameterTypes())
					.map(Class::getSimpleName)
					.collect(Collectors.joining(",", "(", ")"));
	}

}
