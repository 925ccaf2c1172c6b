package io.tagcache.interceptor;

import java.util.Collection;

/**
 * Derives tags from values of types that cannot carry {@link io.tagcache.annotation.TagEntity}: classes of
 * another library, generated classes, types shared with code that must not depend on tagcache.
 * Declare one or more as beans; each is asked about every object reachable from a cached result,
 * except JDK types (strings, numbers, dates, collections, maps and {@code Optional}s themselves).
 *
 * <pre class="code">
 * &#064;Bean
 * TagResolver invoiceTags() {
 *     return (value) -&gt; (value instanceof Invoice invoice) ? List.of("invoice-" + invoice.getNumber()) : List.of();
 * }
 * </pre>
 *
 * Resolvers run on every cached result, so they should answer quickly, and answer an empty collection
 * for the types they do not handle. A resolver sees the objects that tagcache reaches: the properties
 * Jackson writes of application types, but not the insides of framework types or of types written by a
 * custom serializer, which are exactly the ones a resolver is for.
 */
@FunctionalInterface
public interface TagResolver {

	/**
	 * Return the tags of the given value.
	 * @param value an object reachable from a cached result, never {@code null}
	 * @return its tags, empty when the resolver does not handle its type; {@code null} elements are
	 * skipped
	 */
	Collection<String> resolve(Object value);

}
