package io.tagcache;

import java.time.Duration;
import java.util.Collection;
import java.util.List;

import org.jspecify.annotations.Nullable;

/**
 * A value a {@link TaggedLoader} computed, with what the cache stores it with: its tags and time to
 * live, or nothing when it is returned uncached.
 * @param <T> the value's type
 * @param value the value, returned to the caller whether it is stored or not
 * @param tags the entry's tags, {@code null} when the value is not stored
 * @param timeToLive the entry's time to live, {@code null} for the cache's default
 */
public record Loaded<T>(@Nullable T value, @Nullable Collection<String> tags, @Nullable Duration timeToLive) {

	/**
	 * A value to store with its tags, for the cache's default time to live.
	 * @param <T> the value's type
	 * @param value the value
	 * @param tags its tags
	 * @return the loaded value
	 */
	public static <T> Loaded<T> of(@Nullable T value, Collection<String> tags) {
		return new Loaded<>(value, List.copyOf(tags), null);
	}

	/**
	 * A value to store with its tags and time to live.
	 * @param <T> the value's type
	 * @param value the value
	 * @param tags its tags
	 * @param timeToLive its time to live, {@code null} for the cache's default
	 * @return the loaded value
	 */
	public static <T> Loaded<T> of(@Nullable T value, Collection<String> tags, @Nullable Duration timeToLive) {
		return new Loaded<>(value, List.copyOf(tags), timeToLive);
	}

	/**
	 * A value returned to the caller and not stored.
	 * @param <T> the value's type
	 * @param value the value
	 * @return the loaded value
	 */
	public static <T> Loaded<T> uncached(@Nullable T value) {
		return new Loaded<>(value, null, null);
	}

	/**
	 * Whether the value is to be stored.
	 * @return whether it carries tags to store it with
	 */
	public boolean isStored() {
		return this.tags != null;
	}

}
