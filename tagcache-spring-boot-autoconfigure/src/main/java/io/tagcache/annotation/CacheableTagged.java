package io.tagcache.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.core.annotation.AliasFor;

/**
 * Caches a method's result like Spring's {@code @Cacheable}, and stores it together with tags: the
 * identities of everything the result contains. A later {@link InvalidateTags} (or
 * {@code TagInvalidator.invalidate}) of any of those tags removes the entry, whatever its key, so a
 * change never has to know every key it touches.
 *
 * <p>Tags come from two places: the {@link #tags()} expressions, and every {@link TagEntity} instance
 * reachable from the result (the result itself, fields, record components, collection, array and map
 * elements, {@code Optional}s).
 *
 * <p>On a miss the cache's invalidation fence is read <em>before</em> the method runs, and the write is
 * refused when any of the entry's tags was invalidated meanwhile: a result computed from data that was
 * already stale when it was stored never reaches the cache.
 *
 * <p>Results of type {@code Optional}, {@code CompletableFuture} and, with Reactor on the class path,
 * {@code Mono} and {@code Flux} are cached by their (completed) value, as Spring does for
 * {@code @Cacheable}. As with all proxy-based Spring annotations, only calls that come through the
 * proxy are intercepted: a call from another method of the same object ({@code this.find(1)}) is not.
 *
 * @see InvalidateTags
 * @see TagEntity
 */
@Target({ ElementType.METHOD, ElementType.ANNOTATION_TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface CacheableTagged {

	/**
	 * Alias for {@link #cacheNames()}.
	 * @return the cache names
	 */
	@AliasFor("cacheNames")
	String[] value() default {};

	/**
	 * The caches to look the result up in, in order, and to store it in on a miss.
	 * @return the cache names
	 */
	@AliasFor("value")
	String[] cacheNames() default {};

	/**
	 * SpEL expression for the key. Empty (the default) means the key is made of every argument, as
	 * Spring's {@code SimpleKeyGenerator} does. Variables: the arguments by name, {@code #p0}/{@code #a0},
	 * {@code #root.method}, {@code #root.target}, {@code #root.args}.
	 * @return the key expression
	 */
	String key() default "";

	/**
	 * SpEL expressions for tags, evaluated after the call. Variables: the arguments by name,
	 * {@code #p0}/{@code #a0}, {@code #result} (with {@code Optional} unwrapped, the completed value of a
	 * future), {@code #root}. An expression yielding a collection or array adds one tag per element;
	 * {@code null}s are skipped. Added to the tags derived from {@link TagEntity} instances in the
	 * result.
	 * @return the tag expressions
	 */
	String[] tags() default {};

	/**
	 * SpEL expression evaluated before the call: when it is {@code false}, the cache is neither read nor
	 * written. Empty means always.
	 * @return the condition
	 */
	String condition() default "";

	/**
	 * SpEL expression evaluated after the call, with {@code #result}: when it is {@code true}, the result
	 * is not stored (and nothing is tagged). Empty means never.
	 * @return the veto expression
	 */
	String unless() default "";

	/**
	 * The entries' time to live, as a duration such as {@code "10m"}, {@code "90s"} or {@code "PT10M"}.
	 * Empty (the default) means the cache's own time to live. A malformed value fails start-up.
	 * @return the time to live
	 */
	String ttl() default "";

	/**
	 * Whether concurrent misses of one key share one method call across every instance sharing the
	 * Redis: the first caller loads the value (holding a lease on the key in Redis), the others, in this
	 * JVM or another, wait for its result, or call the method themselves after
	 * {@code tagcache.sync-timeout}. Requires exactly one cache.
	 * @return whether loads are synchronized
	 */
	boolean sync() default false;

}
