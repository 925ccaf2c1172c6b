package io.tagcache.redis;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.ClassUtils;

/**
 * Tag invalidations issued inside a Spring transaction: they take effect at once, with a hold that
 * refuses every fenced write of their tags (by any instance) until the transaction completes, and are
 * issued again when it completes, which removes whatever was stored meanwhile and releases the hold.
 * A value loaded inside such a transaction (which may hold its own uncommitted data) is not stored.
 *
 * <p>The hold is the tag's fence record raised ahead of the generation by the hold duration, so a
 * fence read before it expires is below it; it expires on its own if the JVM dies before the
 * transaction completes. When two transactions hold one tag, the first to complete releases it for
 * both; the second's own completion still removes anything stored in between.
 *
 * <p>{@code spring-tx} is optional: without it on the classpath, no transaction is ever active.
 */
final class TransactionalInvalidations {

	private static final Log logger = LogFactory.getLog(TransactionalInvalidations.class);

	private static final boolean PRESENT = ClassUtils.isPresent(
			"org.springframework.transaction.support.TransactionSynchronizationManager",
			TransactionalInvalidations.class.getClassLoader());

	/** Re-issues invalidations, scope by scope ({@link PendingInvalidations#EVERY_CACHE} or a cache name). */
	interface Reissuer {

		void invalidate(String scope, List<String> tags);

	}

	private TransactionalInvalidations() {
	}

	/** Whether the current thread runs inside a Spring transaction that synchronizes. */
	static boolean isActive() {
		return PRESENT && Synchronizations.isActive();
	}

	/**
	 * Record that the current transaction invalidates the tags, so that they are invalidated again
	 * when it completes. Call only when {@link #isActive()}.
	 * @param owner the manager, one record per manager and transaction
	 */
	static void record(Object owner, String scope, List<String> tags, Reissuer reissuer) {
		Synchronizations.record(owner, scope, tags, reissuer);
	}

	/** Whether the current transaction invalidated tags through this manager. */
	static boolean hasInvalidated(Object owner) {
		return PRESENT && Synchronizations.hasInvalidated(owner);
	}

	/** Keeps the references to spring-tx in a class of its own, loaded only when it is present. */
	private static final class Synchronizations {

		static boolean isActive() {
			return TransactionSynchronizationManager.isSynchronizationActive();
		}

		static boolean hasInvalidated(Object owner) {
			return TransactionSynchronizationManager.isSynchronizationActive()
					&& TransactionSynchronizationManager.hasResource(new Key(owner));
		}

		static void record(Object owner, String scope, List<String> tags, Reissuer reissuer) {
			Key key = new Key(owner);
			Invalidated invalidated = (Invalidated) TransactionSynchronizationManager.getResource(key);
			if (invalidated == null) {
				invalidated = new Invalidated(key, reissuer);
				TransactionSynchronizationManager.bindResource(key, invalidated);
				TransactionSynchronizationManager.registerSynchronization(invalidated);
			}
			invalidated.tags.computeIfAbsent(scope, any -> new LinkedHashSet<>()).addAll(tags);
		}

	}

	/** The resource key of a manager's record in a transaction. */
	private record Key(Object owner) {

		@Override
		public boolean equals(@Nullable Object other) {
			return other instanceof Key key && key.owner == this.owner;
		}

		@Override
		public int hashCode() {
			return System.identityHashCode(this.owner);
		}

	}

	/** The tags one transaction invalidated, re-issued when it completes, committed or rolled back. */
	private static final class Invalidated implements TransactionSynchronization {

		private final Key key;

		private final Reissuer reissuer;

		final Map<String, Set<String>> tags = new LinkedHashMap<>();

		Invalidated(Key key, Reissuer reissuer) {
			this.key = key;
			this.reissuer = reissuer;
		}

		@Override
		public void suspend() {
			TransactionSynchronizationManager.unbindResource(this.key);
		}

		@Override
		public void resume() {
			TransactionSynchronizationManager.bindResource(this.key, this);
		}

		@Override
		public void afterCompletion(int status) {
			TransactionSynchronizationManager.unbindResourceIfPossible(this.key);
			this.tags.forEach((scope, tags) -> {
				try {
					this.reissuer.invalidate(scope, List.copyOf(tags));
				}
				catch (RuntimeException ex) {
					// afterCompletion must not throw; a failure to reach Redis was queued by the guard already
					logger.error("Could not invalidate tags " + tags + " again after the transaction completed", ex);
				}
			});
		}

	}

}
