package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import io.tagcache.TagCacheConfigurationException;
import io.tagcache.TaggedCache;
import io.tagcache.TaggedCacheManager;
import io.tagcache.UncachedCause;
import io.tagcache.ValueRefusedException;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.aop.framework.AopProxyUtils;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.cache.Cache.ValueWrapper;
import org.springframework.cache.interceptor.SimpleKeyGenerator;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.EvaluationException;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.core.annotation.MergedAnnotations.SearchStrategy;
import org.springframework.expression.spel.ExpressionState;
import org.springframework.expression.spel.SpelNode;
import org.springframework.util.Assert;
import org.springframework.util.ClassUtils;
import org.springframework.util.ObjectUtils;
import org.springframework.util.function.SingletonSupplier;

/**
 * Runs {@code @CacheableTagged} and {@code @InvalidateTags} around the annotated methods; the
 * counterpart of Spring's {@code CacheInterceptor}.
 *
 * <p>Design notes:
 * <ul>
 * <li><b>Fenced loads.</b> On a miss the fence of every target cache is read <em>before</em> the method
 * runs, and the value is stored with {@link TaggedCache#putFenced}: if any of its tags was invalidated
 * while the method ran, the possibly stale value is returned to the caller but not stored.</li>
 * <li><b>No entry without its tags.</b> Tags are computed (expressions plus the object graph) before
 * anything is stored. When that fails, or the cache refuses the entry (an invalid tag, a {@code null}
 * the cache does not store, a value that cannot be written as JSON), the result is returned uncached,
 * the failure is counted by {@linkplain UncachedCause cause} ({@link #getUncachedResults(UncachedCause)})
 * and logged once per method and cause. A stored entry therefore always carries every tag it should.
 * A tag that concatenates a {@code null} ({@code 'user-' + #user.id} reading {@code user-null}) is
 * such a failure too: it is found by a cheap look for "null" in the tag, and only then are the
 * concatenation's operands evaluated once more to tell a {@code null} from the text "null". An
 * entry stored with no tag at all, which no invalidation can reach, is logged once per method.</li>
 * <li><b>Invalidations are never dropped.</b> A failing {@code @InvalidateTags} expression fails the
 * call, since a silent skip would leave stale entries with no trace. An invalidation that cannot reach
 * Redis is queued by the cache manager and replayed before Redis serves this instance again.</li>
 * <li><b>Single flight</b> ({@code sync = true}): the first caller of a missing key registers its load;
 * callers arriving meanwhile wait for its result instead of calling the method, unless an invalidation
 * reached the key's cache slot after the load read its fence (the caller's fence is newer): then the
 * caller runs its own load, which later callers join. The first caller looks the key up once more after
 * registering, so a caller that missed just before the previous load stored its value does not load
 * again.</li>
 * <li><b>Asynchronous results.</b> For {@code CompletableFuture} the lookup runs on the calling thread
 * and the value is stored when the future completes. For {@code Mono}/{@code Flux} nothing happens until
 * subscription; the lookup does not block, and the blocking steps (fence, store, invalidation) run on
 * Reactor's bounded elastic scheduler.</li>
 * </ul>
 */
public final class TagCacheInterceptor implements MethodInterceptor, BeanFactoryAware, SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(TagCacheInterceptor.class);

	/** Stores on the thread that completed the value. */
	private static final Executor SAME_THREAD = Runnable::run;

	private final TagCacheOperationSource operationSource;

	private final SingletonSupplier<TaggedCacheManager> cacheManager;

	private final SingletonSupplier<TagExtractor> tagExtractor;

	private final ConcurrentMap<LoadKey, Load> loads = new ConcurrentHashMap<>();

	private final Map<UncachedCause, LongAdder> uncachedResults = new EnumMap<>(UncachedCause.class);

	private final Set<String> warned = ConcurrentHashMap.newKeySet();

	private static final List<String> TRANSACTIONAL = List.of("org.springframework.transaction.annotation.Transactional",
			"jakarta.transaction.Transactional");

	private static final boolean TX_PRESENT = ClassUtils.isPresent(
			"org.springframework.transaction.support.TransactionSynchronizationManager",
			TagCacheInterceptor.class.getClassLoader());

	private final ConcurrentMap<Method, Boolean> transactional = new ConcurrentHashMap<>();

	private @Nullable BeanFactory beanFactory;

	/**
	 * Create an interceptor.
	 * @param operationSource the source of the annotated methods' operations, shared with the advisor
	 * @param cacheManager supplies the cache manager on first use
	 * @param tagExtractor supplies the extractor of tags from results on first use
	 */
	public TagCacheInterceptor(TagCacheOperationSource operationSource,
			Supplier<? extends TaggedCacheManager> cacheManager, Supplier<TagExtractor> tagExtractor) {
		Assert.notNull(operationSource, "Operation source must not be null");
		Assert.notNull(cacheManager, "Cache manager supplier must not be null");
		Assert.notNull(tagExtractor, "Tag extractor supplier must not be null");
		this.operationSource = operationSource;
		this.cacheManager = SingletonSupplier.of(cacheManager::get);
		this.tagExtractor = SingletonSupplier.of(tagExtractor);
		for (UncachedCause cause : UncachedCause.values()) {
			this.uncachedResults.put(cause, new LongAdder());
		}
	}

	@Override
	public void setBeanFactory(BeanFactory beanFactory) {
		this.beanFactory = beanFactory;
	}

	/**
	 * Fails start-up when annotated beans exist but no {@link TaggedCacheManager} does, rather than
	 * failing their first call.
	 */
	@Override
	public void afterSingletonsInstantiated() {
		if (this.operationSource.hasFoundOperations()) {
			try {
				this.cacheManager.obtain();
			}
			catch (BeansException ex) {
				throw new TagCacheConfigurationException("Methods annotated with @CacheableTagged or @InvalidateTags "
						+ "need a unique TaggedCacheManager bean (the tagcache starter creates one from the Redis "
						+ "connection): " + ex.getMessage(),
						"Configure a Redis connection (spring.data.redis.*) with Lettuce, or define one "
								+ "TaggedCacheManager bean",
						ex);
			}
		}
	}

	/**
	 * Return how many results were returned without being cached because their tags could not be
	 * computed (a tag or {@code unless} expression failed, an entity had no id) or the cache refused the
	 * entry (an invalid tag, a {@code null} the cache does not store, a value not writable as JSON).
	 * @return the count since start-up
	 */
	public long getUncachedResults() {
		return this.uncachedResults.values().stream().mapToLong(LongAdder::sum).sum();
	}

	/**
	 * Return how many results were returned without being cached for one cause.
	 * @param cause the cause
	 * @return the count since start-up
	 */
	public long getUncachedResults(UncachedCause cause) {
		return this.uncachedResults.get(cause).sum();
	}

	@Override
	public @Nullable Object invoke(MethodInvocation invocation) throws Throwable {
		Method method = invocation.getMethod();
		Object target = invocation.getThis();
		Class<?> targetClass = (target != null) ? AopProxyUtils.ultimateTargetClass(target)
				: method.getDeclaringClass();
		TagCacheOperation operation = this.operationSource.getOperation(method, targetClass);
		if (operation == null) {
			return invocation.proceed();
		}
		Call call = new Call(operation, invocation, target, targetClass);
		if (operation instanceof TagCacheOperation.Cacheable cacheable) {
			return cacheable(call, cacheable);
		}
		return invalidate(call, (TagCacheOperation.Invalidate) operation);
	}

	// @CacheableTagged

	private @Nullable Object cacheable(Call call, TagCacheOperation.Cacheable operation) throws Throwable {
		if (!call.isTrue(operation.condition())) {
			return call.proceed();
		}
		Object key = call.key(operation);
		List<TaggedCache> caches = caches(operation);
		return switch (operation.resultKind()) {
			case PLAIN, OPTIONAL -> cacheableValue(call, operation, caches, key);
			case FUTURE -> cacheableFuture(call, operation, caches, key);
			case MONO, FLUX -> ReactiveCaching.cacheable(this, call, operation, caches, key);
		};
	}

	private @Nullable Object cacheableValue(Call call, TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key) throws Throwable {
		ResultKind kind = operation.resultKind();
		ValueWrapper hit = lookup(operation, caches, key);
		if (hit != null) {
			return kind.wrap(hit.get());
		}
		if (operation.sync()) {
			return loadSynchronized(call, operation, caches.get(0), key);
		}
		long[] fences = readFences(caches, key);
		Object result = call.proceed();
		store(call, operation, caches, key, fences, kind.unwrap(result));
		return result;
	}

	private @Nullable Object loadSynchronized(Call call, TagCacheOperation.Cacheable operation, TaggedCache cache,
			Object key) throws Throwable {
		ResultKind kind = operation.resultKind();
		LoadKey loadKey = new LoadKey(cache.getName(), key);
		long[] fences = readFences(List.of(cache), key);
		Load load = new Load(Thread.currentThread(), fences[0]);
		Load running = joinOrLead(loadKey, load);
		if (running != null) {
			return kind.wrap(running.await(operation, key));
		}
		try {
			Object result;
			Object value;
			ValueWrapper hit = recheck(operation, cache, key);
			if (hit != null) {
				value = hit.get();
				result = kind.wrap(value);
			}
			else {
				result = call.proceed();
				value = kind.unwrap(result);
				store(call, operation, List.of(cache), key, fences, value);
			}
			load.result.complete(value);
			return result;
		}
		catch (Throwable ex) {
			load.result.completeExceptionally(ex);
			throw ex;
		}
		finally {
			this.loads.remove(loadKey, load);
		}
	}

	/**
	 * Register the load as the key's running load, or find a running load to wait for: one whose fence
	 * is at least the caller's, so that no invalidation reached Redis between its fence read and the
	 * caller's and its value is not older than any invalidation acknowledged before the caller called
	 * (an unknown fence joins nothing). Otherwise the caller's load replaces it for later callers.
	 * @return the running load to wait for, or {@code null} when the caller's load runs
	 */
	private @Nullable Load joinOrLead(LoadKey loadKey, Load load) {
		while (true) {
			Load running = this.loads.putIfAbsent(loadKey, load);
			if (running == null) {
				return null;
			}
			if (running.fence != TaggedCache.UNKNOWN_FENCE && load.fence != TaggedCache.UNKNOWN_FENCE
					&& running.fence >= load.fence) {
				return running;
			}
			if (this.loads.replace(loadKey, running, load)) {
				return null;
			}
		}
	}

	private @Nullable Object cacheableFuture(Call call, TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key) throws Throwable {
		ValueWrapper hit = lookup(operation, caches, key);
		if (hit != null) {
			return CompletableFuture.completedFuture(hit.get());
		}
		long[] fences = readFences(caches, key);
		return loadAsync(call, operation, caches, key, fences, () -> (CompletionStage<?>) call.proceed(),
				SAME_THREAD);
	}

	/**
	 * Invoke an asynchronous method and store its value when it completes; with {@code sync}, callers
	 * arriving while a load of the key runs get its value instead.
	 * @return the value, completing once it is stored (or refused)
	 */
	CompletableFuture<@Nullable Object> loadAsync(Call call, TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key, long[] fences, AsyncInvoker invoker, Executor storeExecutor)
			throws Throwable {
		if (!operation.sync()) {
			return storeWhenDone(call, operation, caches, key, fences, invoker.invoke(), storeExecutor);
		}
		LoadKey loadKey = new LoadKey(caches.get(0).getName(), key);
		Load load = new Load(null, fences[0]);
		Load running = joinOrLead(loadKey, load);
		if (running != null) {
			return running.result.copy();
		}
		CompletableFuture<@Nullable Object> value;
		try {
			value = storeWhenDone(call, operation, caches, key, fences, invoker.invoke(), storeExecutor);
		}
		catch (Throwable ex) {
			this.loads.remove(loadKey, load);
			load.result.completeExceptionally(ex);
			throw ex;
		}
		return value.whenComplete((loaded, ex) -> {
			this.loads.remove(loadKey, load);
			if (ex != null) {
				load.result.completeExceptionally(ex);
			}
			else {
				load.result.complete(loaded);
			}
		});
	}

	private CompletableFuture<@Nullable Object> storeWhenDone(Call call, TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key, long[] fences, @Nullable CompletionStage<?> stage,
			Executor storeExecutor) {
		if (stage == null) {
			return CompletableFuture.completedFuture(null);
		}
		return stage.toCompletableFuture().thenApplyAsync((value) -> {
			store(call, operation, caches, key, fences, value);
			return value;
		}, storeExecutor);
	}

	/** The single-flight loader's second look, not counted again in the cache statistics. */
	private @Nullable ValueWrapper recheck(TagCacheOperation.Cacheable operation, TaggedCache cache, Object key) {
		try {
			return cache.recheck(key, operation.valueType());
		}
		catch (IllegalStateException ex) {
			unreadable(operation, cache, ex);
			return null;
		}
	}

	/** The first hit of the caches, in order; an entry that cannot be read as the value type is a miss. */
	private @Nullable ValueWrapper lookup(TagCacheOperation.Cacheable operation, List<TaggedCache> caches,
			Object key) {
		for (TaggedCache cache : caches) {
			try {
				ValueWrapper hit = cache.lookup(key, operation.valueType());
				if (hit != null) {
					return hit;
				}
			}
			catch (IllegalStateException ex) {
				unreadable(operation, cache, ex);
			}
		}
		return null;
	}

	/** {@link #lookup} without blocking. */
	CompletableFuture<@Nullable ValueWrapper> lookupAsync(TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key) {
		CompletableFuture<@Nullable ValueWrapper> found = CompletableFuture.completedFuture(null);
		for (TaggedCache cache : caches) {
			found = found.thenCompose((hit) -> (hit != null) ? CompletableFuture.completedFuture(hit)
					: cache.lookupAsync(key, operation.valueType()).exceptionally((ex) -> {
						Throwable cause = (ex instanceof CompletionException && ex.getCause() != null) ? ex.getCause()
								: ex;
						if (cause instanceof IllegalStateException unreadable) {
							unreadable(operation, cache, unreadable);
							return null;
						}
						throw (ex instanceof CompletionException completion) ? completion
								: new CompletionException(ex);
					}));
		}
		return found;
	}

	private void unreadable(TagCacheOperation.Cacheable operation, TaggedCache cache, IllegalStateException ex) {
		warnOnce(operation, "read:" + cache.getName(), ex.getMessage() + "; treating it as a miss");
	}

	long[] readFences(List<TaggedCache> caches, Object key) {
		long[] fences = new long[caches.size()];
		for (int i = 0; i < fences.length; i++) {
			fences[i] = caches.get(i).readFence(key);
		}
		return fences;
	}

	/**
	 * Store the value with its tags in every cache, fenced, unless {@code unless} vetoes it; when the tags
	 * cannot be computed or the cache refuses the entry, store nothing (see the class notes).
	 */
	private void store(Call call, TagCacheOperation.Cacheable operation, List<TaggedCache> caches, Object key,
			long[] fences, @Nullable Object value) {
		call.setResult(value);
		Set<String> tags = new LinkedHashSet<>();
		try {
			if (operation.unless() != null && call.isTrue(operation.unless())) {
				return;
			}
		}
		catch (RuntimeException ex) {
			uncached(operation, UncachedCause.UNLESS_EXPRESSION, ex);
			return;
		}
		try {
			call.addTags(operation.tags(), tags);
		}
		catch (RuntimeException ex) {
			uncached(operation, UncachedCause.TAG_EXPRESSION, ex);
			return;
		}
		try {
			tags.addAll(this.tagExtractor.obtain().extract(value));
		}
		catch (RuntimeException ex) {
			uncached(operation, UncachedCause.ENTITY_ID, ex);
			return;
		}
		if (tags.isEmpty()) {
			warnOnce(operation, "untagged", "An entry of " + TagCacheOperationSource.describe(operation.method())
					+ " was stored with no tag" + ((value == null) ? " (the result was null)" : "")
					+ ": no tag invalidation can ever remove it, only its time to live. Give the method tags "
					+ "naming what the result depends on, e.g. tags = \"'user-' + #id\"");
		}
		for (int i = 0; i < caches.size(); i++) {
			try {
				caches.get(i).putFenced(key, value, tags, operation.timeToLive(), fences[i]);
			}
			catch (IllegalArgumentException ex) {
				uncached(operation, (ex instanceof ValueRefusedException refused) ? refused.getUncachedCause()
						: UncachedCause.CACHE_REFUSED, ex);
				return;
			}
		}
	}

	private void uncached(TagCacheOperation.Cacheable operation, UncachedCause uncachedCause, RuntimeException ex) {
		this.uncachedResults.get(uncachedCause).increment();
		String cause = (ex instanceof ExpressionFailure failure) ? failure.source : uncachedCause.tagValue();
		warnOnce(operation, cause, ex.getMessage() + "; returning the result uncached");
		if (logger.isDebugEnabled()) {
			logger.debug("Result of " + TagCacheOperationSource.describe(operation.method()) + " not cached", ex);
		}
	}

	private void warnOnce(TagCacheOperation operation, String cause, String message) {
		if (this.warned.add(TagCacheOperationSource.describe(operation.method()) + '\u0000' + cause)) {
			logger.warn(message + " (logged once for this method and cause)");
		}
	}

	private List<TaggedCache> caches(TagCacheOperation.Cacheable operation) {
		TaggedCacheManager manager = this.cacheManager.obtain();
		List<String> names = operation.cacheNames();
		TaggedCache[] caches = new TaggedCache[names.size()];
		for (int i = 0; i < caches.length; i++) {
			TaggedCache cache = manager.getCache(names.get(i));
			if (cache == null) {
				throw new IllegalStateException("No cache named '" + names.get(i) + "' for @CacheableTagged on "
						+ TagCacheOperationSource.describe(operation.method())
						+ ": configure it (tagcache.caches." + names.get(i) + ") or let the manager create caches");
			}
			caches[i] = cache;
		}
		return List.of(caches);
	}

	// @InvalidateTags

	private @Nullable Object invalidate(Call call, TagCacheOperation.Invalidate operation) throws Throwable {
		if (operation.beforeInvocation()) {
			invalidateTags(call, operation, null);
			if (!isTransactional(operation.method(), call.targetClass)) {
				return call.proceed();
			}
			// This advice runs outside the method's transaction: values of the rows it changes may be loaded
			// and stored again while it runs, so its tags are invalidated again once it completed.
			Object result;
			try {
				result = call.proceed();
			}
			catch (Throwable ex) {
				// the method's own failure is what the caller sees; a failing second invalidation rides along
				try {
					invalidateTags(call, operation, null);
				}
				catch (RuntimeException invalidationFailure) {
					ex.addSuppressed(invalidationFailure);
				}
				throw ex;
			}
			invalidateTags(call, operation, null);
			return result;
		}
		Object result = call.proceed();
		ResultKind kind = operation.resultKind();
		return switch (kind) {
			case PLAIN, OPTIONAL -> {
				invalidateTags(call, operation, kind.unwrap(result));
				yield result;
			}
			case FUTURE -> (result != null) ? ((CompletionStage<?>) result).toCompletableFuture().thenApply((value) -> {
				invalidateTags(call, operation, value);
				return value;
			}) : null;
			case MONO, FLUX -> ReactiveCaching.invalidateAfter(this, call, operation, result);
		};
	}

	/**
	 * Invalidate the operation's tags if its condition holds.
	 * @param result the method's (unwrapped) result, {@code null} before the call
	 */
	void invalidateTags(Call call, TagCacheOperation.Invalidate operation, @Nullable Object result) {
		if (!operation.beforeInvocation()) {
			call.setResult(result);
		}
		if (!call.isTrue(operation.condition())) {
			return;
		}
		Set<String> tags = new LinkedHashSet<>();
		call.addTags(operation.tags(), tags);
		if (!tags.isEmpty()) {
			this.cacheManager.obtain().invalidate(tags);
		}
	}

	/**
	 * Whether the method runs a transaction of its own that this advice may enclose: it or its class is
	 * annotated with Spring's or Jakarta's {@code @Transactional} and no transaction is active yet.
	 * Looked up by annotation name, so that {@code spring-tx} stays optional.
	 */
	private boolean isTransactional(Method method, Class<?> targetClass) {
		boolean annotated = this.transactional.computeIfAbsent(method, (key) -> {
			Method specific = AopUtils.getMostSpecificMethod(method, targetClass);
			for (String annotation : TRANSACTIONAL) {
				if (MergedAnnotations.from(specific, SearchStrategy.TYPE_HIERARCHY).isPresent(annotation)
						|| MergedAnnotations.from(targetClass, SearchStrategy.TYPE_HIERARCHY).isPresent(annotation)) {
					return true;
				}
			}
			return false;
		});
		return annotated && !isTransactionActive();
	}

	private static boolean isTransactionActive() {
		return TX_PRESENT && org.springframework.transaction.support.TransactionSynchronizationManager
			.isActualTransactionActive();
	}

	/** Calls a method that returns its value asynchronously. */
	@FunctionalInterface
	interface AsyncInvoker {

		@Nullable CompletionStage<?> invoke() throws Throwable;

	}

	/**
	 * One intercepted call: the invocation, and an evaluation context created on first use and shared by
	 * every expression of the call; a hit whose key merely names an argument and that has no condition
	 * creates none. Used by one thread at a time (handed over through futures).
	 */
	final class Call {

		private final TagCacheOperation operation;

		private final MethodInvocation invocation;

		private final @Nullable Object target;

		private final Class<?> targetClass;

		private @Nullable EvaluationContext context;

		/** The method's result, given to the context when there is one or once it is created. */
		private @Nullable Object result;

		Call(TagCacheOperation operation, MethodInvocation invocation, @Nullable Object target,
				Class<?> targetClass) {
			this.operation = operation;
			this.invocation = invocation;
			this.target = target;
			this.targetClass = targetClass;
		}

		@Nullable Object proceed() throws Throwable {
			return this.invocation.proceed();
		}

		Object key(TagCacheOperation.Cacheable operation) {
			if (operation.key() == null) {
				return SimpleKeyGenerator.generateKey(this.invocation.getArguments());
			}
			@Nullable Object[] args = this.invocation.getArguments();
			int index = operation.keyArgument();
			// The index holds for as many arguments as parameters, always the case through AOP
			Object key = (index >= 0 && args.length == operation.method().getParameterCount()) ? args[index]
					: evaluate(operation.key());
			if (key == null) {
				throw new ExpressionFailure(operation.key(), operation.method(), "it returned null", null);
			}
			return key;
		}

		/** Whether the expression yields {@code true}; an absent expression counts as {@code true}. */
		boolean isTrue(TagCacheOperation.@Nullable NamedExpression expression) {
			if (expression == null) {
				return true;
			}
			Object value = evaluate(expression);
			if (value instanceof Boolean bool) {
				return bool;
			}
			throw new ExpressionFailure(expression, this.operation.method(),
					"it returned " + ((value != null) ? "a " + value.getClass().getName() : "null") + ", not a boolean",
					null);
		}

		/** Add the tags the expressions yield: one per element of a collection or array, nulls skipped. */
		void addTags(List<TagCacheOperation.NamedExpression> expressions, Set<String> tags) {
			for (TagCacheOperation.NamedExpression expression : expressions) {
				Object value = evaluate(expression);
				if (value instanceof Collection<?> collection) {
					for (Object element : collection) {
						addTag(expression, element, tags);
					}
				}
				else if (value != null && value.getClass().isArray()) {
					for (Object element : ObjectUtils.toObjectArray(value)) {
						addTag(expression, element, tags);
					}
				}
				else {
					if (value instanceof String tag && !expression.concatenationOperands().isEmpty()
							&& tag.contains("null")) {
						checkOperands(expression);
					}
					addTag(expression, value, tags);
				}
			}
		}

		/**
		 * Fail when an operand of a concatenated tag is {@code null}, which SpEL writes as "null"
		 * ({@code user-null}): a tag no invalidation names. Called only for a tag that reads "null".
		 */
		private void checkOperands(TagCacheOperation.NamedExpression expression) {
			for (SpelNode operand : expression.concatenationOperands()) {
				Object value;
				try {
					value = operand.getValue(new ExpressionState(context()));
				}
				catch (EvaluationException ex) {
					throw new ExpressionFailure(expression, this.operation.method(), ex.getMessage(), ex);
				}
				if (value == null) {
					throw new ExpressionFailure(expression, this.operation.method(), "'" + operand.toStringAST()
							+ "' is null, which would make the tag read \"null\"", null);
				}
			}
		}

		private void addTag(TagCacheOperation.NamedExpression expression, @Nullable Object value, Set<String> tags) {
			if (value == null) {
				return;
			}
			if (value instanceof CharSequence || value instanceof Number || value instanceof Boolean
					|| value instanceof Character || value instanceof UUID) {
				tags.add(value.toString());
			}
			else if (value instanceof Enum<?> constant) {
				tags.add(constant.name());
			}
			else {
				throw new ExpressionFailure(expression, this.operation.method(), "it yielded a "
						+ value.getClass().getName() + "; a tag is text, such as 'user-' + #user.id", null);
			}
		}

		void setResult(@Nullable Object result) {
			this.result = result;
			if (this.context != null) {
				this.context.setVariable(TagCacheExpressionEvaluator.RESULT_VARIABLE, result);
			}
		}

		/** Whether an evaluation context was created, for tests. */
		boolean hasContext() {
			return this.context != null;
		}

		private @Nullable Object evaluate(TagCacheOperation.NamedExpression expression) {
			try {
				return expression.expression().getValue(context());
			}
			catch (EvaluationException ex) {
				throw new ExpressionFailure(expression, this.operation.method(), ex.getMessage(), ex);
			}
		}

		private EvaluationContext context() {
			if (this.context == null) {
				EvaluationContext context = TagCacheInterceptor.this.operationSource.evaluator()
					.createContext(this.operation.method(), this.invocation.getArguments(), this.target,
							this.targetClass, TagCacheInterceptor.this.beanFactory);
				if (this.result != null) {
					context.setVariable(TagCacheExpressionEvaluator.RESULT_VARIABLE, this.result);
				}
				this.context = context;
			}
			return this.context;
		}

	}

	/** An expression that failed at run time, named with its method. */
	static final class ExpressionFailure extends IllegalStateException {

		final String source;

		ExpressionFailure(TagCacheOperation.NamedExpression expression, Method method, @Nullable String reason,
				@Nullable Throwable cause) {
			super("Could not evaluate " + expression.attribute() + " expression '" + expression.source() + "' on "
					+ TagCacheOperationSource.describe(method) + ": " + reason, cause);
			this.source = expression.source();
		}

	}

	private record LoadKey(String cacheName, Object key) {
	}

	/** One running synchronized load of a key; callers arriving meanwhile wait for its value. */
	private static final class Load {

		private final @Nullable Thread owner;

		/** The fence the load read before it ran. */
		final long fence;

		final CompletableFuture<@Nullable Object> result = new CompletableFuture<>();

		Load(@Nullable Thread owner, long fence) {
			this.owner = owner;
			this.fence = fence;
		}

		@Nullable Object await(TagCacheOperation.Cacheable operation, Object key) throws Throwable {
			if (this.owner == Thread.currentThread()) {
				throw new IllegalStateException("Recursive load of key '" + key + "' by "
						+ TagCacheOperationSource.describe(operation.method())
						+ ": the method called itself for the key it is loading");
			}
			try {
				return this.result.join();
			}
			catch (CompletionException ex) {
				throw (ex.getCause() != null) ? ex.getCause() : ex;
			}
		}

	}

}
