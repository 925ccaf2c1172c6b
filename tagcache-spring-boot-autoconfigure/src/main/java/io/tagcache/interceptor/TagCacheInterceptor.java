package io.tagcache.interceptor;

import java.lang.reflect.Method;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.ArrayList;
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
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

import io.tagcache.AsyncTaggedLoader;
import io.tagcache.LoadCallbacks;
import io.tagcache.Loaded;
import io.tagcache.TagCacheConfigurationException;
import io.tagcache.TaggedCache;
import io.tagcache.TaggedCacheManager;
import io.tagcache.TaggedLoader;
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
import org.springframework.cache.Cache.ValueRetrievalException;
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
 * <li><b>One load path.</b> Lookups, fences, single flight ({@code sync = true}) and stores are the
 * cache's ({@link TaggedCache#get(Object, java.lang.reflect.Type, boolean, TaggedLoader)} and its
 * non-blocking twin): the interceptor hands it a loader that calls the method and names the tags of
 * its value. With several caches, the first one's load path runs; the others are looked up by the
 * loader before the method runs, and the value is stored in each.</li>
 * <li><b>Asynchronous results.</b> For {@code CompletableFuture}, {@code Mono} and {@code Flux} nothing
 * blocks the caller: the cache is reached asynchronously and the value stored when it completes. On a
 * miss, a {@code CompletableFuture} method is called on the thread that completed the lookup (as
 * Spring's cache interceptor does), a reactive one on Reactor's bounded elastic scheduler, and
 * invalidations after a reactive method run there too.</li>
 * </ul>
 */
public final class TagCacheInterceptor implements MethodInterceptor, BeanFactoryAware, SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(TagCacheInterceptor.class);

	private final TagCacheOperationSource operationSource;

	private final SingletonSupplier<TaggedCacheManager> cacheManager;

	private final SingletonSupplier<TagExtractor> tagExtractor;

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

	/**
	 * A method with one result: the first cache's load path looks the key up and, on a miss, calls the
	 * method through {@link MethodLoader}; a hit in another cache is found by the loader.
	 */
	private @Nullable Object cacheableValue(Call call, TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key) throws Throwable {
		MethodLoader loader = new MethodLoader(call, operation, caches, key);
		Object value;
		try {
			value = caches.get(0).get(key, operation.valueType(), operation.sync(), loader);
		}
		catch (ValueRetrievalException ex) {
			// the method's own exception, as it threw it (or the load it shared threw it)
			throw (ex.getCause() != null) ? ex.getCause() : ex;
		}
		ServedTags.record(loader.servedTags, loader.servedStale);
		return operation.resultKind().wrap(value);
	}

	private @Nullable Object cacheableFuture(Call call, TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key) {
		return retrieve(call, operation, caches, key, () -> (CompletionStage<?>) call.proceed());
	}

	/**
	 * The first cache's non-blocking load path for a method whose value comes asynchronously: on a miss
	 * the invoker calls the method (on the thread that completed the lookup, as Spring's cache
	 * interceptor does for {@code CompletableFuture}s) and its value is stored when it completes.
	 */
	CompletableFuture<@Nullable Object> retrieve(Call call, TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key, AsyncInvoker invoker) {
		return caches.get(0).retrieve(key, operation.valueType(), operation.sync(),
				new AsyncMethodLoader(call, operation, caches, key, invoker));
	}

	/** Look the other caches of the operation up, in order: a hit there is returned, not copied. */
	private @Nullable ValueWrapper lookupOthers(TagCacheOperation.Cacheable operation, List<TaggedCache> caches,
			Object key) {
		for (TaggedCache cache : caches.subList(1, caches.size())) {
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

	/** {@link #lookupOthers} without blocking. */
	private CompletableFuture<@Nullable ValueWrapper> lookupOthersAsync(TagCacheOperation.Cacheable operation,
			List<TaggedCache> caches, Object key) {
		CompletableFuture<@Nullable ValueWrapper> found = CompletableFuture.completedFuture(null);
		for (TaggedCache cache : caches.subList(1, caches.size())) {
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

	/**
	 * What to store a method's value with: its tags and time to live, or nothing when {@code unless}
	 * vetoes it or the tags cannot be computed (counted and logged, see the class notes).
	 */
	private Loaded<Object> tagged(Call call, TagCacheOperation.Cacheable operation, @Nullable Object value) {
		call.setResult(value);
		Set<String> tags = new LinkedHashSet<>();
		try {
			if (operation.unless() != null && call.isTrue(operation.unless())) {
				return Loaded.uncached(value);
			}
		}
		catch (RuntimeException ex) {
			uncached(operation, UncachedCause.UNLESS_EXPRESSION, ex);
			return Loaded.uncached(value);
		}
		try {
			call.addTags(operation.tags(), tags);
		}
		catch (RuntimeException ex) {
			uncached(operation, UncachedCause.TAG_EXPRESSION, ex);
			return Loaded.uncached(value);
		}
		try {
			tags.addAll(this.tagExtractor.obtain().extract(value));
		}
		catch (RuntimeException ex) {
			uncached(operation, UncachedCause.ENTITY_ID, ex);
			return Loaded.uncached(value);
		}
		if (tags.isEmpty()) {
			warnOnce(operation, "untagged", "An entry of " + TagCacheOperationSource.describe(operation.method())
					+ " was stored with no tag" + ((value == null) ? " (the result was null)" : "")
					+ ": no tag invalidation can ever remove it, only its time to live. Give the method tags "
					+ "naming what the result depends on, e.g. tags = \"'user-' + #id\"");
		}
		return Loaded.of(value, tags, operation.timeToLive());
	}

	private void refused(TagCacheOperation.Cacheable operation, ValueRefusedException ex) {
		uncached(operation, ex.getUncachedCause(), ex);
	}

	/** What the cache tells a method's loaders: refusals and unreadable entries, counted and logged per method. */
	private abstract class MethodCallbacks implements LoadCallbacks {

		final TagCacheOperation.Cacheable operation;

		final List<TaggedCache> caches;

		MethodCallbacks(TagCacheOperation.Cacheable operation, List<TaggedCache> caches) {
			this.operation = operation;
			this.caches = caches;
		}

		@Override
		public void refused(ValueRefusedException ex) {
			TagCacheInterceptor.this.refused(this.operation, ex);
		}

		@Override
		public void unreadable(IllegalStateException ex) {
			TagCacheInterceptor.this.unreadable(this.operation, this.caches.get(0), ex);
		}

		/** The tags of the value the call returns, {@code null} while unknown (see {@link ServedTags}). */
		volatile @Nullable List<String> servedTags;

		/** Whether the value the call returns is a stale entry's. */
		volatile boolean servedStale;

		@Override
		public void served(List<String> tags, boolean stale) {
			this.servedStale = stale;
			this.servedTags = tags;
		}

	}

	/**
	 * Calls the method on a miss of the first cache and names the tags of its value. With several
	 * caches, the others are looked up first (a hit there is returned, as Spring does), their fences
	 * read before the method runs, and the value stored in each of them too, fenced.
	 */
	private final class MethodLoader extends MethodCallbacks implements TaggedLoader<Object> {

		private final Call call;

		private final Object key;

		/** Whether a request collects the tags of what cached calls return (see {@link ServedTags}). */
		private final boolean collectingTags = ServedTags.isOpen();

		MethodLoader(Call call, TagCacheOperation.Cacheable operation, List<TaggedCache> caches, Object key) {
			super(operation, caches);
			this.call = call;
			this.key = key;
		}

		@Override
		public boolean wantsServedTags() {
			return this.collectingTags;
		}

		@Override
		public Loaded<Object> load() throws Exception {
			long[] fences = new long[this.caches.size()];
			if (this.caches.size() > 1) {
				ValueWrapper hit = lookupOthers(this.operation, this.caches, this.key);
				if (hit != null) {
					return Loaded.uncached(hit.get());
				}
				for (int i = 1; i < fences.length; i++) {
					fences[i] = this.caches.get(i).readFence(this.key);
				}
			}
			Object result;
			try {
				result = this.call.proceed();
			}
			catch (Exception | Error ex) {
				throw ex;
			}
			catch (Throwable ex) {
				throw new UndeclaredThrowableException(ex);
			}
			Loaded<Object> loaded = tagged(this.call, this.operation, this.operation.resultKind().unwrap(result));
			for (int i = 1; i < fences.length && loaded.isStored(); i++) {
				try {
					this.caches.get(i).putFenced(this.key, loaded.value(), loaded.tags(), loaded.timeToLive(), fences[i]);
				}
				catch (ValueRefusedException ex) {
					refused(ex);
					return Loaded.uncached(loaded.value());
				}
			}
			return loaded;
		}

	}

	/** {@link MethodLoader} for a method whose value comes asynchronously; nothing here blocks. */
	private final class AsyncMethodLoader extends MethodCallbacks implements AsyncTaggedLoader<Object> {

		private final Call call;

		private final Object key;

		private final AsyncInvoker invoker;

		AsyncMethodLoader(Call call, TagCacheOperation.Cacheable operation, List<TaggedCache> caches, Object key,
				AsyncInvoker invoker) {
			super(operation, caches);
			this.call = call;
			this.key = key;
			this.invoker = invoker;
		}

		@Override
		public CompletableFuture<Loaded<Object>> load() {
			if (this.caches.size() == 1) {
				return invoke(new long[1]);
			}
			return lookupOthersAsync(this.operation, this.caches, this.key).thenCompose(hit -> {
				if (hit != null) {
					return CompletableFuture.completedFuture(Loaded.uncached(hit.get()));
				}
				List<CompletableFuture<Long>> reads = new ArrayList<>();
				for (TaggedCache cache : this.caches.subList(1, this.caches.size())) {
					reads.add(cache.readFenceAsync(this.key));
				}
				return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenCompose(done -> {
					long[] fences = new long[this.caches.size()];
					for (int i = 1; i < fences.length; i++) {
						fences[i] = reads.get(i - 1).join();
					}
					return invoke(fences);
				});
			});
		}

		private CompletableFuture<Loaded<Object>> invoke(long[] fences) {
			CompletionStage<?> stage;
			try {
				stage = this.invoker.invoke();
			}
			catch (Throwable ex) {
				return CompletableFuture.failedFuture(ex);
			}
			CompletableFuture<?> value = (stage != null) ? stage.toCompletableFuture()
					: CompletableFuture.completedFuture(null);
			return value.thenCompose(result -> {
				Loaded<Object> loaded = tagged(this.call, this.operation, result);
				CompletableFuture<Loaded<Object>> stored = CompletableFuture.completedFuture(loaded);
				for (int i = 1; i < fences.length && loaded.isStored(); i++) {
					TaggedCache cache = this.caches.get(i);
					long fence = fences[i];
					stored = stored.thenCompose(previous -> {
						if (!previous.isStored()) {
							return CompletableFuture.completedFuture(previous);
						}
						try {
							return cache.putFencedAsync(this.key, previous.value(), previous.tags(),
									previous.timeToLive(), fence).thenApply(written -> previous);
						}
						catch (ValueRefusedException ex) {
							refused(ex);
							return CompletableFuture.completedFuture(Loaded.uncached(previous.value()));
						}
					});
				}
				return stored;
			});
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
			if (operation.soft()) {
				this.cacheManager.obtain().softInvalidate(tags);
			}
			else {
				this.cacheManager.obtain().invalidate(tags);
			}
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

}
