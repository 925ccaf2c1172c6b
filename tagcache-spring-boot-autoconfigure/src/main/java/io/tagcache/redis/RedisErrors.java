package io.tagcache.redis;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

import io.lettuce.core.RedisNoScriptException;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.DataAccessException;
import org.springframework.dao.InvalidDataAccessResourceUsageException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisConnectionFailureException;
import org.springframework.data.redis.RedisSystemException;

/**
 * How Lettuce's failures become Spring {@link DataAccessException}s, and which of them say that Redis
 * cannot serve for now (an outage, which opens the circuit) rather than that it refused a command
 * ({@link InvalidDataAccessResourceUsageException}, counted but not an outage); see
 * {@link RedisOutageGuard}.
 */
final class RedisErrors {

	private static final Pattern UNAVAILABLE = Pattern
		.compile("(^|: )(OOM|BUSY|LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF)\\b");

	private RedisErrors() {
	}

	static Throwable unwrap(Throwable ex) {
		Throwable cause = ex;
		while ((cause instanceof ExecutionException || cause instanceof CompletionException)
				&& cause.getCause() != null) {
			cause = cause.getCause();
		}
		return cause;
	}

	static RuntimeException translate(Throwable ex) {
		if (ex instanceof DataAccessException dataAccess) {
			return dataAccess;
		}
		if (ex instanceof io.lettuce.core.RedisCommandTimeoutException || ex instanceof TimeoutException) {
			return new QueryTimeoutException("Redis did not answer in time: " + ex.getMessage(), ex);
		}
		if (ex instanceof io.lettuce.core.RedisConnectionException) {
			return new RedisConnectionFailureException("Cannot reach Redis: " + ex.getMessage(), ex);
		}
		if (ex instanceof io.lettuce.core.RedisCommandExecutionException && !(ex instanceof RedisNoScriptException)
				&& !isUnavailable(ex.getMessage())) {
			return new InvalidDataAccessResourceUsageException("Redis refused the command: " + ex.getMessage(), ex);
		}
		if (ex instanceof RuntimeException runtime && !(ex instanceof io.lettuce.core.RedisException)) {
			// not Redis failing: e.g. an entry that is not in tagcache's format, reported as such
			return runtime;
		}
		return new RedisSystemException("Redis command failed: " + ex.getMessage(), ex);
	}

	/**
	 * Whether an error reply says that Redis cannot serve for now (out of memory, busy with a script,
	 * loading, a replica or a cluster without its master, ...), as opposed to refusing this command
	 * (a key of the wrong type, a script error, a missing permission), which a retry would not fix.
	 * Inside a script the code follows the script's own prefix.
	 */
	static boolean isUnavailable(@Nullable String error) {
		return error != null && UNAVAILABLE.matcher(error).find();
	}

}
