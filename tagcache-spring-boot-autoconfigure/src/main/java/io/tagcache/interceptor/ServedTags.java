package io.tagcache.interceptor;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * The tags of the entries that {@code @CacheableTagged} methods returned on one thread while a
 * scope is open: what a web request's handling read or stored, for HTTP cache-tag headers. A hit
 * reports its entry's tags, a miss the tags of the value loaded; a value whose tags are unknown (one
 * the method returned uncached, a hit in another cache of a method with several) makes the tags
 * unknown. Only calls that return on the thread that opened the scope are seen: the methods that
 * return a plain value or an {@code Optional}, not {@code CompletableFuture}, {@code Mono} or
 * {@code Flux} ones.
 */
public final class ServedTags implements AutoCloseable {

	private static final ThreadLocal<ServedTags> current = new ThreadLocal<>();

	private final @Nullable ServedTags enclosing;

	private final Set<String> tags = new LinkedHashSet<>();

	private boolean served;

	private boolean unknown;

	private boolean stale;

	private boolean sealed;

	private boolean servedAfterSeal;

	private ServedTags(@Nullable ServedTags enclosing) {
		this.enclosing = enclosing;
	}

	/**
	 * Open a scope on this thread; close it on the same thread (try-with-resources).
	 * @return the scope
	 */
	public static ServedTags open() {
		ServedTags scope = new ServedTags(current.get());
		current.set(scope);
		return scope;
	}

	/** Whether a scope is open on this thread. */
	static boolean isOpen() {
		return current.get() != null;
	}

	/**
	 * Record what a cached call returned, if a scope is open on this thread.
	 * @param tags the value's tags, {@code null} when they are unknown
	 * @param stale whether the value was a stale entry's
	 */
	static void record(@Nullable Collection<String> tags, boolean stale) {
		ServedTags scope = current.get();
		if (scope == null) {
			return;
		}
		scope.served = true;
		scope.stale |= stale;
		if (scope.sealed) {
			scope.servedAfterSeal = true;
		}
		if (tags == null) {
			scope.unknown = true;
		}
		else {
			scope.tags.addAll(tags);
		}
	}

	/** Whether any cached call returned a value in this scope. */
	public boolean isServed() {
		return this.served;
	}

	/** Whether a value of unknown tags was returned: the tags do not cover the response. */
	public boolean isUnknown() {
		return this.unknown;
	}

	/**
	 * Whether a value was a stale entry's (served while another caller reloads it, or because its reload
	 * failed): an HTTP cache must not keep what was built from it past that reload.
	 */
	public boolean isStale() {
		return this.stale;
	}

	/** The tags of the values returned, in the order they were first seen. */
	public Set<String> getTags() {
		return Collections.unmodifiableSet(this.tags);
	}

	/**
	 * Mark the point after which recorded tags can no longer be used (the response's headers were
	 * written); {@link #isServedAfterSeal()} tells whether a call returned later.
	 */
	public void seal() {
		this.sealed = true;
	}

	/** Whether a cached call returned after {@link #seal()}. */
	public boolean isServedAfterSeal() {
		return this.servedAfterSeal;
	}

	@Override
	public void close() {
		if (current.get() == this) {
			if (this.enclosing != null) {
				current.set(this.enclosing);
			}
			else {
				current.remove();
			}
		}
	}

}
