package io.tagcache.redis;

import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import org.jspecify.annotations.Nullable;

/**
 * The near cache of one tagged cache: values read from or written to Redis by this JVM, with their
 * tags and expiry, in a Caffeine cache bounded by size. Loaded only when a near cache is enabled, so
 * that Caffeine stays optional.
 *
 * <p>It is exact for this JVM and bounded for the others: every change of the cache's entries made
 * through tagcache is followed by a drop here, the instance's own right after Redis acknowledged it
 * and the others' when the message their script published arrives (see {@code notify} in
 * {@code lib.lua}). Three rules keep a value read before a change from being kept after it:
 * <ul>
 * <li>A read takes a token ({@link #startRead()}) before it asks Redis, and its value is kept only
 * if no drop, clear or loss of the channel happened since ({@link #put}): every drop raises the
 * version first.</li>
 * <li>A value is indexed under its tags before it is stored, and removed again when the version
 * moved meanwhile, so that a drop by tag either finds it or makes it remove itself.</li>
 * <li>While the channel is down ({@link #disable()}), nothing is served or kept: messages published
 * meanwhile are lost, so the cache is cleared and stays empty until the channel is subscribed
 * again ({@link #enable()}).</li>
 * <li>A hit is served only while the channel is live: it confirmed lately that every message published
 * before a recent instant was applied (see {@link InvalidationChannel}). After a pause of the JVM (a
 * long garbage collection) messages may wait unapplied on the socket; until the channel confirms
 * again, calls read Redis.</li>
 * </ul>
 * An entry is never served past its expiry, by the same clock the cache reads Redis entries with.
 * A hit returns the instance stored: values must not be changed by their callers.
 */
final class NearCache {

	/** The token of a read whose value must not be kept: the near cache was not serving when it started. */
	static final long NOT_SERVING = -1;

	private final Cache<String, Entry> entries;

	/** The entries of each tag: a drop by tag removes them. */
	private final ConcurrentMap<String, Set<Entry>> byTag = new ConcurrentHashMap<>();

	private final AtomicLong version = new AtomicLong();

	private final LongSupplier clock;

	private final LongAdder hits = new LongAdder();

	private final LongAdder misses = new LongAdder();

	private final LongAdder clears = new LongAdder();

	private volatile boolean serving;

	/** Whether the channel confirmed lately that every message published before was applied. */
	private final BooleanSupplier live;

	/**
	 * @param maximumSize most entries kept
	 * @param clock the clock of the cache, in milliseconds, that expiry times are compared with
	 * @param live whether the channel is known to be delivering: a hit is served only then (after a
	 * pause of the JVM, or a connection that stopped answering, messages may wait unapplied)
	 */
	NearCache(long maximumSize, LongSupplier clock, BooleanSupplier live) {
		this.clock = clock;
		this.live = live;
		this.entries = Caffeine.newBuilder()
			.maximumSize(maximumSize)
			.expireAfter(new EntryExpiry(clock))
			// on the thread that removed or replaced the entry, so that its tags are unlinked at once
			.executor(Runnable::run)
			.<String, Entry>removalListener((key, entry, cause) -> {
				if (entry != null) {
					unlink(entry);
				}
			})
			.build();
	}

	/**
	 * The entry of a key, if one is kept, was read as the requested type, and is not within the
	 * margin before its expiry.
	 * @param type the type the caller reads ({@code null} for an untyped read)
	 * @param marginFactor the margin before expiry in which the entry is left to Redis, as a multiple
	 * of the time its load took: early refresh happens there, and is Redis's to decide
	 * @return the entry, or {@code null} (counted as a miss)
	 */
	@Nullable Entry get(String key, @Nullable Type type, double marginFactor) {
		Entry entry = this.entries.getIfPresent(key);
		if (entry == null || !this.serving || !this.live.getAsBoolean() || !Objects.equals(entry.type, type)
				|| (entry.expiresAt != 0 && this.clock.getAsLong() + entry.loadMillis * marginFactor >= entry.expiresAt)) {
			this.misses.increment();
			return null;
		}
		this.hits.increment();
		return entry;
	}

	/**
	 * Start a read from Redis whose value may be kept.
	 * @return the token to pass to {@link #put}, {@link #NOT_SERVING} when its value must not be kept
	 */
	long startRead() {
		// the version before the flag: a loss clears the flag before it raises the version
		long token = this.version.get();
		return this.serving ? token : NOT_SERVING;
	}

	/**
	 * Keep a value read from Redis, or written to it by a load of this JVM, unless anything was dropped
	 * since the read started.
	 * @param token what {@link #startRead()} returned before Redis was asked
	 * @param type the type the value was read as ({@code null} for untyped reads)
	 * @param expiresAt when the entry expires, in ms of the cache's clock; {@code 0} for never
	 * @param loadMillis how long its load took (for early refresh)
	 */
	void put(long token, String key, @Nullable Object value, @Nullable Type type, long expiresAt, long loadMillis,
			List<String> tags) {
		if (token == NOT_SERVING || token != this.version.get()
				|| (expiresAt != 0 && expiresAt <= this.clock.getAsLong())) {
			return;
		}
		Entry entry = new Entry(key, value, type, expiresAt, loadMillis, List.copyOf(tags));
		for (String tag : entry.tags) {
			this.byTag.compute(tag, (name, members) -> {
				Set<Entry> set = (members != null) ? members : new HashSet<>();
				set.add(entry);
				return set;
			});
		}
		this.entries.put(key, entry);
		if (token != this.version.get()) {
			// a drop came in meanwhile, and may have missed the entry
			this.entries.asMap().remove(key, entry);
			unlink(entry);
		}
	}

	/**
	 * Drop the entries of these tags. The entries are removed by every caller that finds them still
	 * linked, not by the first one alone: when this returns, none of them is served, whoever else is
	 * dropping them at the same time (the message of this instance's own invalidation may arrive while
	 * the instance drops the tags itself). The removal unlinks them from their tags.
	 */
	void dropTags(Collection<String> tags) {
		this.version.incrementAndGet();
		for (String tag : tags) {
			List<Entry> linked = linked(tag);
			for (Entry entry : linked) {
				this.entries.asMap().remove(entry.key, entry);
			}
		}
	}

	/** The entries linked to a tag, copied under the tag's lock. */
	private List<Entry> linked(String tag) {
		List<Entry> linked = new ArrayList<>();
		this.byTag.computeIfPresent(tag, (name, members) -> {
			linked.addAll(members);
			return members;
		});
		return linked;
	}

	/** Drop the entries of these keys. */
	void dropKeys(Collection<String> keys) {
		this.version.incrementAndGet();
		this.entries.invalidateAll(keys);
	}

	/** Drop every entry. */
	void clear() {
		this.version.incrementAndGet();
		this.entries.invalidateAll();
	}

	/** Stop serving and clear: the channel that reports other instances' changes was lost. */
	void disable() {
		this.serving = false;
		this.clears.increment();
		clear();
	}

	/** Serve again: the channel is subscribed (and the cache was cleared when it was lost). */
	void enable() {
		this.version.incrementAndGet();
		this.serving = true;
	}

	boolean isServing() {
		return this.serving;
	}

	/** Whether hits are served now: serving, and the channel confirmed lately that it delivers. */
	boolean isLive() {
		return this.serving && this.live.getAsBoolean();
	}

	long size() {
		this.entries.cleanUp();
		return this.entries.estimatedSize();
	}

	long hits() {
		return this.hits.sum();
	}

	long misses() {
		return this.misses.sum();
	}

	/** How many times the near cache was cleared because its channel was lost. */
	long channelLosses() {
		return this.clears.sum();
	}

	/** How many tags have entries (for tests: the index must not keep tags of removed entries). */
	int indexedTags() {
		return this.byTag.size();
	}

	private void unlink(Entry entry) {
		for (String tag : entry.tags) {
			this.byTag.computeIfPresent(tag, (name, members) -> {
				members.remove(entry);
				return members.isEmpty() ? null : members;
			});
		}
	}

	/**
	 * A kept value. Compared by identity: a drop removes this entry of the key, not a later one
	 * (which a later drop, or its own check, handles).
	 */
	static final class Entry {

		final String key;

		final @Nullable Object value;

		final @Nullable Type type;

		final long expiresAt;

		final long loadMillis;

		final List<String> tags;

		Entry(String key, @Nullable Object value, @Nullable Type type, long expiresAt, long loadMillis,
				List<String> tags) {
			this.key = key;
			this.value = value;
			this.type = type;
			this.expiresAt = expiresAt;
			this.loadMillis = loadMillis;
			this.tags = tags;
		}

		@Nullable Object value() {
			return this.value;
		}

		long expiresAt() {
			return this.expiresAt;
		}

		long loadMillis() {
			return this.loadMillis;
		}

		boolean isExpiredAt(long now) {
			return this.expiresAt != 0 && now >= this.expiresAt;
		}

	}

	/** Each entry lives until its expiry, as the cache's clock tells it; eternal entries until evicted. */
	private record EntryExpiry(LongSupplier clock) implements Expiry<String, Entry> {

		@Override
		public long expireAfterCreate(String key, Entry entry, long currentTime) {
			if (entry.expiresAt == 0) {
				return Long.MAX_VALUE;
			}
			return TimeUnit.MILLISECONDS.toNanos(Math.max(0, entry.expiresAt - this.clock.getAsLong()));
		}

		@Override
		public long expireAfterUpdate(String key, Entry entry, long currentTime, long currentDuration) {
			return expireAfterCreate(key, entry, currentTime);
		}

		@Override
		public long expireAfterRead(String key, Entry entry, long currentTime, long currentDuration) {
			return currentDuration;
		}

	}

}
