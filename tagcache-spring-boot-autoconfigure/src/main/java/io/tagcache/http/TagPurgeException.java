package io.tagcache.http;

import org.jspecify.annotations.Nullable;

/**
 * A purge request was not accepted: the cache answered with an error, or could not be reached. The
 * purge may succeed later: {@link TagPurgeQueue} retries it.
 */
public class TagPurgeException extends RuntimeException {

	private final String purger;

	private final int status;

	/**
	 * Create an exception for a request the cache answered with an error.
	 * @param purger the name of the purger
	 * @param status the HTTP status of the answer
	 * @param message what went wrong, naming the request
	 */
	public TagPurgeException(String purger, int status, String message) {
		super(message);
		this.purger = purger;
		this.status = status;
	}

	/**
	 * Create an exception for a request that got no answer.
	 * @param purger the name of the purger
	 * @param message what went wrong, naming the request
	 * @param cause why
	 */
	public TagPurgeException(String purger, String message, @Nullable Throwable cause) {
		super(message, cause);
		this.purger = purger;
		this.status = -1;
	}

	/**
	 * The purger whose request failed.
	 * @return its {@link TagPurger#name() name}
	 */
	public String getPurger() {
		return this.purger;
	}

	/**
	 * The HTTP status the cache answered.
	 * @return the status, or {@code -1} when the request got no answer
	 */
	public int getStatus() {
		return this.status;
	}

}
