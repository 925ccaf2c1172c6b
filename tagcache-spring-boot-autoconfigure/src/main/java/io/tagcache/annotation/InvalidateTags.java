package io.tagcache.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.core.annotation.AliasFor;

/**
 * Invalidates tags when the method runs: every cached entry, in every cache, that carries one of the
 * tags is removed. Put it on the methods that change data, naming what they change
 * ({@code @InvalidateTags("'user-' + #user.id")}); every entry that contains that user, under whatever
 * key, goes.
 *
 * <p>By default the tags are invalidated after the method returns successfully, so a method that throws
 * invalidates nothing; {@link #beforeInvocation()} invalidates first, whatever the outcome. An
 * expression that cannot be evaluated fails the call rather than leaving stale entries behind
 * silently; an invalidation that cannot reach Redis is queued and replayed before Redis serves this
 * application again. As with all proxy-based Spring annotations, calls from
 * another method of the same object are not intercepted.
 *
 * @see CacheableTagged
 */
@Target({ ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface InvalidateTags {

	/**
	 * Alias for {@link #tags()}.
	 * @return the tag expressions
	 */
	@AliasFor("tags")
	String[] value() default {};

	/**
	 * SpEL expressions for the tags to invalidate. Variables: the arguments by name, {@code #p0}/{@code #a0},
	 * {@code #root}, and {@code #result} when invalidating after the call. An expression yielding a
	 * collection or array invalidates one tag per element; {@code null}s are skipped.
	 * @return the tag expressions
	 */
	@AliasFor("value")
	String[] tags() default {};

	/**
	 * Whether to invalidate before the method runs (then even if it throws, and without
	 * {@code #result}) rather than after it returns successfully.
	 * @return whether to invalidate first
	 */
	boolean beforeInvocation() default false;

	/**
	 * Whether to mark the entries stale instead of removing them (soft invalidation, as Varnish's soft
	 * purge): for the cache's stale-while-revalidate time ({@code tagcache.stale-while-revalidate}),
	 * callers of {@code @CacheableTagged} methods get the stale value while one caller per key, across
	 * instances, calls the method again. No value loaded before the invalidation is stored after it.
	 * @return whether to soft-invalidate
	 */
	boolean soft() default false;

	/**
	 * SpEL expression that must be {@code true} for the tags to be invalidated; {@code #result} is
	 * available when invalidating after the call. Empty means always.
	 * @return the condition
	 */
	String condition() default "";

}
