package io.tagcache;

import org.jspecify.annotations.Nullable;

/**
 * A cache refused to store a value: nothing was written. Thrown by the writes of {@link TaggedCache}
 * that callers make knowingly ({@link TaggedCache#put(Object, Object, java.util.Collection)},
 * {@link TaggedCache#putFenced}); the annotations catch it, return the result uncached and count it
 * by {@linkplain #getUncachedCause() cause}.
 */
public class ValueRefusedException extends IllegalArgumentException {

	private final UncachedCause uncachedCause;

	/**
	 * Create an exception.
	 * @param uncachedCause why the value was refused
	 * @param message what was refused, naming the cache and the type, and the fix
	 * @param cause the underlying failure, or {@code null}
	 */
	public ValueRefusedException(UncachedCause uncachedCause, String message, @Nullable Throwable cause) {
		super(message, cause);
		this.uncachedCause = uncachedCause;
	}

	/**
	 * Return why the value was refused.
	 * @return the cause
	 */
	public UncachedCause getUncachedCause() {
		return this.uncachedCause;
	}

}
