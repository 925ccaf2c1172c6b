package io.tagcache;

/**
 * What a cache tells a loader about the entry it loads for (see {@link TaggedLoader} and
 * {@link AsyncTaggedLoader}); by default each is thrown to the caller.
 */
public interface LoadCallbacks {

	/**
	 * The cache refused to store the loaded value (an invalid tag, a {@code null} the cache does not
	 * store, a value it cannot write); the value is returned to the caller all the same, unless this
	 * method throws.
	 * @param ex what was refused and why
	 */
	default void refused(ValueRefusedException ex) {
		throw ex;
	}

	/**
	 * The entry found cannot be read as the requested type (it was written as another, or its class
	 * changed); it is treated as a miss and loaded again, unless this method throws.
	 * @param ex why it could not be read
	 */
	default void unreadable(IllegalStateException ex) {
		throw ex;
	}

}
