package io.tagcache.redis;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import org.jspecify.annotations.Nullable;

import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.RedisSystemException;
import org.springframework.data.redis.connection.RedisConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnection;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

/**
 * Runs commands on Lettuce's asynchronous API of one connection of the factory (the shared native
 * connection, or one kept for tagcache), the same on a standalone server and on a cluster (where
 * Lettuce routes each command by its first key): waits for replies within the command timeout,
 * translates failures ({@link RedisErrors}), falls back from {@code EVALSHA} to {@code EVAL} on
 * {@code NOSCRIPT}, and tells the listener about every round trip.
 */
final class RedisCommandRunner {

	private final LettuceConnectionFactory connectionFactory;

	private final Duration timeout;

	private final RedisOperationListener listener;

	private volatile @Nullable RedisClusterAsyncCommands<byte[], byte[]> sharedCommands;

	/** Without a shared native connection: the factory's connection the runner keeps open for itself. */
	private @Nullable RedisConnection ownConnection;

	RedisCommandRunner(LettuceConnectionFactory connectionFactory, RedisOperationListener listener) {
		this.connectionFactory = connectionFactory;
		this.timeout = connectionFactory.getClientConfiguration().getCommandTimeout();
		this.listener = listener;
	}

	/**
	 * Scan keys matching the pattern and hand them over a page ({@code COUNT 1000}) at a time,
	 * holding no more than a page in memory; on a cluster, Lettuce walks every master. Never
	 * {@code KEYS}, which blocks Redis for the whole keyspace.
	 */
	void scan(String pattern, String operation, Consumer<List<byte[]>> pages) {
		ScanArgs args = ScanArgs.Builder.matches(pattern).limit(1000);
		KeyScanCursor<byte[]> cursor = null;
		do {
			ScanCursor from = (cursor != null) ? cursor : ScanCursor.INITIAL;
			cursor = execute(operation, commands -> commands.scan(from, args).toCompletableFuture());
			if (!cursor.getKeys().isEmpty()) {
				pages.accept(cursor.getKeys());
			}
		}
		while (!cursor.isFinished());
	}

	static <T> CompletableFuture<T> script(RedisClusterAsyncCommands<byte[], byte[]> commands, TagCacheScript script,
			ScriptOutputType type, byte[][] keys, byte[][] args) {
		return commands.<T>evalsha(script.sha1(), type, keys, args)
			.toCompletableFuture()
			.exceptionallyCompose(ex -> (RedisErrors.unwrap(ex) instanceof RedisNoScriptException)
					? commands.<T>eval(script.source(), type, keys, args).toCompletableFuture()
					: CompletableFuture.failedFuture(RedisErrors.unwrap(ex)));
	}

	<T> T execute(String operation,
			Function<RedisClusterAsyncCommands<byte[], byte[]>, CompletableFuture<T>> action) {
		long started = System.nanoTime();
		boolean failed = true;
		try {
			T result = await(withCommands(action));
			failed = false;
			return result;
		}
		finally {
			this.listener.onOperation(operation, System.nanoTime() - started, failed);
		}
	}

	<T> CompletableFuture<T> executeAsync(String operation,
			Function<RedisClusterAsyncCommands<byte[], byte[]>, CompletableFuture<T>> action) {
		long started = System.nanoTime();
		CompletableFuture<T> future;
		try {
			future = withCommands(action).orTimeout(this.timeout.toMillis(), TimeUnit.MILLISECONDS)
				.exceptionallyCompose(ex -> CompletableFuture.failedFuture(RedisErrors.translate(RedisErrors.unwrap(ex))));
		}
		catch (RuntimeException ex) {
			future = CompletableFuture.failedFuture(ex);
		}
		return future.whenComplete((result, ex) -> this.listener.onOperation(operation, System.nanoTime() - started,
				ex != null));
	}

	/**
	 * Apply the action to the asynchronous commands of the connection the runner uses, resolved once
	 * and again only when it was closed (the factory was stopped or reset). That is the factory's
	 * shared native connection; without one (a factory with {@code shareNativeConnection=false},
	 * pooled or not), a connection of the factory that the runner keeps for itself, so that the replies
	 * of its asynchronous commands always arrive on an open connection, and a dedicated connection is
	 * not opened per command. Lettuce reconnects either by itself when Redis comes back.
	 */
	private <T> CompletableFuture<T> withCommands(
			Function<RedisClusterAsyncCommands<byte[], byte[]>, CompletableFuture<T>> action) {
		RedisClusterAsyncCommands<byte[], byte[]> commands = this.sharedCommands;
		if (commands == null || !commands.isOpen()) {
			commands = resolveCommands();
		}
		return action.apply(commands);
	}

	private synchronized RedisClusterAsyncCommands<byte[], byte[]> resolveCommands() {
		RedisClusterAsyncCommands<byte[], byte[]> commands = this.sharedCommands;
		if (commands != null && commands.isOpen()) {
			return commands;
		}
		closeOwnConnection();
		RedisConnection connection = this.connectionFactory.getConnection();
		try {
			commands = nativeCommands(connection);
		}
		catch (RuntimeException ex) {
			connection.close();
			throw ex;
		}
		if (this.connectionFactory.getShareNativeConnection()) {
			// closing the wrapper leaves the shared native connection open
			connection.close();
		}
		else {
			this.ownConnection = connection;
		}
		this.sharedCommands = commands;
		return commands;
	}

	/** Close the connection the runner kept for itself, if any (when the manager stops). */
	synchronized void close() {
		closeOwnConnection();
		this.sharedCommands = null;
	}

	private void closeOwnConnection() {
		RedisConnection own = this.ownConnection;
		this.ownConnection = null;
		if (own != null) {
			try {
				own.close();
			}
			catch (RuntimeException ex) {
				// already closed with its factory
			}
		}
	}

	@SuppressWarnings("unchecked")
	private static RedisClusterAsyncCommands<byte[], byte[]> nativeCommands(RedisConnection connection) {
		return ((LettuceConnection) connection).getNativeConnection();
	}

	private <T> T await(CompletableFuture<T> future) {
		try {
			return future.get(this.timeout.toMillis(), TimeUnit.MILLISECONDS);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			future.cancel(true);
			throw new RedisSystemException("Interrupted while waiting for Redis", ex);
		}
		catch (TimeoutException ex) {
			future.cancel(true);
			throw new QueryTimeoutException("Redis did not answer within " + this.timeout, ex);
		}
		catch (ExecutionException ex) {
			throw RedisErrors.translate(RedisErrors.unwrap(ex));
		}
	}

	/** Waits for futures that each time out on their own (every command has the command timeout). */
	static void awaitAll(List<? extends CompletableFuture<?>> futures) {
		try {
			CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).join();
		}
		catch (CompletionException ex) {
			throw RedisErrors.translate(RedisErrors.unwrap(ex));
		}
	}

}
