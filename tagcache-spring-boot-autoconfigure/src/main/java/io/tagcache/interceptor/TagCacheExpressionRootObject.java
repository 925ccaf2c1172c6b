package io.tagcache.interceptor;

import java.lang.reflect.Method;

import org.jspecify.annotations.Nullable;

/**
 * The {@code #root} object of tagcache expressions, with the same properties as Spring's cache
 * expressions ({@code #root.method}, {@code #root.target}, ...), so that expressions move between
 * {@code @Cacheable} and {@code @CacheableTagged} unchanged.
 */
public final class TagCacheExpressionRootObject {

	private final Method method;

	private final @Nullable Object[] args;

	private final @Nullable Object target;

	private final Class<?> targetClass;

	TagCacheExpressionRootObject(Method method, @Nullable Object[] args, @Nullable Object target,
			Class<?> targetClass) {
		this.method = method;
		this.args = args;
		this.target = target;
		this.targetClass = targetClass;
	}

	/** Return the method being invoked. */
	public Method getMethod() {
		return this.method;
	}

	/** Return the name of the method being invoked. */
	public String getMethodName() {
		return this.method.getName();
	}

	/** Return the arguments of the call. */
	public @Nullable Object[] getArgs() {
		return this.args;
	}

	/** Return the object the method is invoked on. */
	public @Nullable Object getTarget() {
		return this.target;
	}

	/** Return the class of the object the method is invoked on. */
	public Class<?> getTargetClass() {
		return this.targetClass;
	}

}
