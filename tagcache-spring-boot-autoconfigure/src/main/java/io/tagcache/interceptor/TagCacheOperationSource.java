package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import io.tagcache.TagCacheConfigurationException;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.support.AopUtils;
import org.springframework.core.MethodClassKey;
import org.springframework.core.ResolvableType;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.expression.Expression;
import org.springframework.expression.ParseException;
import org.springframework.expression.spel.SpelNode;
import org.springframework.expression.spel.ast.OpPlus;
import org.springframework.expression.spel.ast.VariableReference;
import org.springframework.expression.spel.standard.SpelExpression;
import org.springframework.format.datetime.standard.DurationFormatterUtils;
import org.springframework.util.ReflectionUtils;
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
 *
 * <p>Each expression's variables are checked against what a call defines (the parameters by name,
 * {@code #p0}/{@code #a0}, {@code #result}, {@code #root}, {@code #this}): a misspelt
 * {@code #authorID} for a parameter {@code authorId} would be {@code null} at every call, tagging
 * every entry {@code author-null}. Annotated methods that a proxy cannot intercept (private, final,
 * static) are reported with a warning when their class is first looked at.
 */
public final class TagCacheOperationSource {

	private static final Log logger = LogFactory.getLog(TagCacheOperationSource.class);

	private static final Set<Class<? extends java.lang.annotation.Annotation>> ANNOTATIONS = Set
		.of(CacheableTagged.class, InvalidateTags.class);

	/** The variables a call defines besides the arguments. */
	private static final Set<String> CALL_VARIABLES = Set.of(TagCacheExpressionEvaluator.RESULT_VARIABLE, "root",
			"this");

	/** Classes already checked for annotated methods that no proxy intercepts. */
	private final Set<Class<?>> checkedClasses = ConcurrentHashMap.newKeySet();

	/** Unproxied annotated methods already reported, once each even when inherited by several beans. */
	private final Set<Method> reportedMethods = ConcurrentHashMap.newKeySet();

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
		if (!AnnotationUtils.isCandidateClass(targetClass, ANNOTATIONS)) {
			return false;
		}
		if (this.checkedClasses.add(targetClass)) {
			warnAboutUnproxiedMethods(targetClass);
		}
		return true;
	}

	/**
	 * Warn about annotated methods that a proxy cannot intercept: private, static and final ones
	 * (neither a JDK nor a CGLIB proxy can override them), so that their annotations are not
	 * ignored without a word.
	 */
	private void warnAboutUnproxiedMethods(Class<?> targetClass) {
		ReflectionUtils.doWithMethods(targetClass, (method) -> {
			int modifiers = method.getModifiers();
			String reason = Modifier.isPrivate(modifiers) ? "private" : Modifier.isStatic(modifiers) ? "static"
					: Modifier.isFinal(modifiers) ? "final" : null;
			if (reason == null || method.isSynthetic()) {
				return;
			}
			for (Class<? extends java.lang.annotation.Annotation> annotation : ANNOTATIONS) {
				if (AnnotatedElementUtils.hasAnnotation(method, annotation) && this.reportedMethods.add(method)) {
					logger.warn("@" + annotation.getSimpleName() + " on " + describe(method) + " is ignored: the method is "
							+ reason + ", so no proxy can intercept it. Make it public and not final (or move it to "
							+ "another bean if it is called from within its own class)");
				}
			}
		}, (method) -> method.getDeclaringClass() != Object.class);
	}

	/**
	 * Return the caches each {@code @CacheableTagged} method found so far reads and writes, for
	 * checks that run once the application context is started.
	 * @return the cache names by method, the method as messages name it
	 */
	public Map<String, List<String>> getCacheNamesByMethod() {
		Map<String, List<String>> cacheNames = new LinkedHashMap<>();
		for (Object operation : this.operations.values()) {
			if (operation instanceof TagCacheOperation.Cacheable cacheable) {
				cacheNames.put(describe(cacheable.method()), cacheable.cacheNames());
			}
		}
		return cacheNames;
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
			throw new TagCacheConfigurationException("@CacheableTagged and @InvalidateTags on the same method "
					+ describe(method) + ": a method either reads through the cache or changes data; split it",
					"Split the method into one that reads (@CacheableTagged) and one that changes data "
							+ "(@InvalidateTags)");
		}
		ResultKind resultKind;
		try {
			resultKind = ResultKind.of(method);
		}
		catch (IllegalStateException ex) {
			throw new TagCacheConfigurationException(ex.getMessage() + " on " + describe(method),
					"Return a plain value, Optional, CompletableFuture, Mono or Flux", ex);
		}
		return (cacheable != null) ? parseCacheable(cacheable, method, targetClass, resultKind)
				: parseInvalidate(invalidate, method, targetClass, resultKind);
	}

	private TagCacheOperation.Cacheable parseCacheable(CacheableTagged annotation, Method method, Class<?> targetClass,
			ResultKind resultKind) {
		if (method.getReturnType() == void.class) {
			throw new TagCacheConfigurationException("@CacheableTagged on " + describe(method) + ", which returns nothing",
					"Remove @CacheableTagged, or make the method return the value to cache");
		}
		List<String> cacheNames = Arrays.asList(annotation.cacheNames());
		if (cacheNames.isEmpty() || cacheNames.stream().anyMatch((name) -> !StringUtils.hasText(name))) {
			throw new TagCacheConfigurationException("@CacheableTagged on " + describe(method)
					+ " must name its cache(s), e.g. @CacheableTagged(\"users\")",
					"Name the cache(s), e.g. @CacheableTagged(\"users\")");
		}
		if (annotation.sync() && cacheNames.size() != 1) {
			throw new TagCacheConfigurationException("@CacheableTagged(sync = true) on " + describe(method)
					+ " names " + cacheNames.size() + " caches; a synchronized load works on exactly one",
					"Name exactly one cache, or remove sync = true");
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
			throw new TagCacheConfigurationException("@InvalidateTags on " + describe(method)
					+ " names no tags, e.g. @InvalidateTags(\"'user-' + #user.id\")",
					"Name the tags to invalidate, e.g. @InvalidateTags(\"'user-' + #user.id\")");
		}
		return new TagCacheOperation.Invalidate(method, resultKind, parseTags(annotation.tags(), method, targetClass),
				parseOptional("condition", annotation.condition(), method, targetClass),
				annotation.beforeInvocation(), annotation.soft());
	}

	/** Fail start-up for a declared {@code @TagEntity} result type (or element type) that has no id. */
	private static void checkEntityTypes(ResolvableType type, Method method) {
		Class<?> resolved = type.resolve();
		if (resolved != null && !resolved.isPrimitive()) {
			try {
				TagExtractor.checkTaggable(resolved);
			}
			catch (IllegalStateException ex) {
				throw new TagCacheConfigurationException(ex.getMessage() + " (returned by " + describe(method) + ")",
						"Annotate the id of the @TagEntity type with @TagId, or give it a property named id", ex);
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
				throw new TagCacheConfigurationException("Empty tag expression on " + describe(method),
						"Remove the empty tag, or write an expression such as 'user-' + #id");
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
		Expression parsed;
		try {
			parsed = this.evaluator.parse(expression, method, targetClass);
		}
		catch (ParseException ex) {
			throw new TagCacheConfigurationException("Invalid " + attribute + " expression '" + expression + "' on "
					+ describe(method) + ": " + ex.getMessage(), "Correct the expression's syntax (SpEL)", ex);
		}
		SpelNode ast = (parsed instanceof SpelExpression spel) ? spel.getAST() : null;
		if (ast != null) {
			checkVariables(attribute, expression, ast, method);
		}
		List<SpelNode> operands = (ast != null && attribute.equals("tag")) ? concatenationOperands(ast) : List.of();
		return new TagCacheOperation.NamedExpression(attribute, expression, parsed, operands);
	}

	/**
	 * Fail for a variable that no call defines: it would be {@code null} at every call. Defined are
	 * the parameters by name, {@code #p0}/{@code #a0} and so on, {@code #result}, {@code #root} and
	 * {@code #this}.
	 */
	private void checkVariables(String attribute, String expression, SpelNode ast, Method method) {
		Set<String> names = new LinkedHashSet<>();
		collectVariables(ast, names);
		if (names.isEmpty()) {
			return;
		}
		@Nullable String[] parameterNames = this.evaluator.parameterNames(method);
		List<String> parameters = (parameterNames != null) ? Arrays.stream(parameterNames)
			.filter((name) -> name != null)
			.map(String.class::cast)
			.toList() : List.of();
		for (String name : names) {
			if (CALL_VARIABLES.contains(name) || parameters.contains(name) || isIndexVariable(name, method)) {
				continue;
			}
			String known = parameters.isEmpty() ? "it has no parameter names (compile with -parameters, as "
					+ "Spring Boot's build plugins do, or use #p0, #a0...)" : "its parameters are "
							+ parameters.stream().map((parameter) -> "#" + parameter).collect(Collectors.joining(", "));
			throw new TagCacheConfigurationException("The " + attribute + " expression '" + expression + "' on "
					+ describe(method) + " names the variable #" + name + ", which the method does not define: "
					+ known + "; #result, #root and #p0/#a0... are defined too",
					"Use a parameter's exact name (names are case-sensitive), e.g. "
							+ (parameters.isEmpty() ? "#p0" : "#" + closest(name, parameters)));
		}
	}

	private static void collectVariables(SpelNode node, Set<String> names) {
		if (node instanceof VariableReference) {
			// "#name": VariableReference has no accessor for the name
			names.add(node.toStringAST().substring(1));
		}
		for (int i = 0; i < node.getChildCount(); i++) {
			collectVariables(node.getChild(i), names);
		}
	}

	private static boolean isIndexVariable(String name, Method method) {
		if (name.length() < 2 || (name.charAt(0) != 'p' && name.charAt(0) != 'a')) {
			return false;
		}
		String index = name.substring(1);
		if (!index.chars().allMatch(Character::isDigit) || (index.length() > 1 && index.charAt(0) == '0')
				|| index.length() > 9) {
			return false;
		}
		return Integer.parseInt(index) < method.getParameterCount();
	}

	/** The parameter whose name is the variable's but for case, or else the first parameter. */
	private static String closest(String name, List<String> parameters) {
		return parameters.stream().filter(name::equalsIgnoreCase).findFirst().orElse(parameters.get(0));
	}

	/**
	 * The operands of a tag expression that is a concatenation ({@code 'user-' + #user.id}) which
	 * are not literals: an operand that is {@code null} turns into the text "null" in the tag. Only a
	 * concatenation at the top of the expression counts, where every operand is always evaluated.
	 */
	private static List<SpelNode> concatenationOperands(SpelNode ast) {
		if (!(ast instanceof OpPlus)) {
			return List.of();
		}
		List<SpelNode> operands = new ArrayList<>();
		collectOperands(ast, operands);
		return List.copyOf(operands);
	}

	private static void collectOperands(SpelNode node, List<SpelNode> operands) {
		if (node instanceof OpPlus) {
			for (int i = 0; i < node.getChildCount(); i++) {
				collectOperands(node.getChild(i), operands);
			}
		}
		else if (!(node instanceof org.springframework.expression.spel.ast.Literal)) {
			operands.add(node);
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
			throw new TagCacheConfigurationException("Invalid ttl '" + ttl + "' on " + describe(method)
					+ ": use a duration such as \"10m\", \"90s\" or \"PT10M\"",
					"Write the ttl as a duration such as \"10m\", \"90s\" or \"PT10M\"", ex);
		}
		if (timeToLive.isNegative()) {
			throw new TagCacheConfigurationException("Negative ttl '" + ttl + "' on " + describe(method),
					"Use a positive duration, or leave ttl empty for the cache's time to live");
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
