package io.tagcache;

/**
 * Loads the value of a key for {@link TaggedCache#get(Object, java.lang.reflect.Type, boolean, TaggedLoader)}
 * on the caller's thread, and says what to store it with.
 * @param <T> the value's type
 */
@FunctionalInterface
public interface TaggedLoader<T> extends LoadCallbacks {

	/**
	 * Compute the value (typically: call the method whose result is cached).
	 * @return the value, with the tags and time to live to store it with
	 * @throws Exception when the value cannot be computed; nothing is stored then
	 */
	Loaded<T> load() throws Exception;

}
