package io.tagcache;

import org.jspecify.annotations.Nullable;

/**
 * A mistake in how an application uses tagcache, found while the application starts: an
 * annotation that cannot work (an expression naming a variable that does not exist, a malformed
 * {@code ttl}), or a method naming a cache that the configuration does not provide. It fails
 * start-up rather than the first call in production.
 *
 * <p>The message says what is wrong, naming the class, method and attribute; the
 * {@linkplain #getAction() action} says how to fix it. Spring Boot prints both in its
 * "APPLICATION FAILED TO START" report, whatever exceptions the application context wrapped this
 * one in.
 */
public class TagCacheConfigurationException extends IllegalStateException {

	private final String action;

	/**
	 * Create an exception.
	 * @param message what is wrong, naming the method, attribute or property
	 * @param action how to fix it, a sentence for the user
	 */
	public TagCacheConfigurationException(String message, String action) {
		this(message, action, null);
	}

	/**
	 * Create an exception with the failure that revealed the mistake.
	 * @param message what is wrong, naming the method, attribute or property
	 * @param action how to fix it, a sentence for the user
	 * @param cause the failure that revealed it, or {@code null}
	 */
	public TagCacheConfigurationException(String message, String action, @Nullable Throwable cause) {
		super(message, cause);
		this.action = action;
	}

	/**
	 * Return how to fix the mistake.
	 * @return a sentence for the user
	 */
	public String getAction() {
		return this.action;
	}

}
