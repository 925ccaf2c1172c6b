package io.tagcache.redis;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import org.jspecify.annotations.Nullable;

import org.springframework.data.redis.RedisConnectionFailureException;

/**
 * A {@link RedisTaggedCacheWriter} in memory, for tests of the cache's own logic without Redis: it
 * keeps the writer's contract (entries and tags together, generations that only grow, fenced puts
 * refused after an invalidation of their key, tags or slot, a lost fence state re-created above
 * everything before) with a clock the test moves, and fails on demand as an unreachable Redis
 * does. Each call moves the clock on by a microsecond, as time passes between two calls to Redis.
 * Fence records are never forgotten (Redis forgets them after the retention, folding them into the
 * slot's fence), and nothing is drained in chunks. What Redis does is proven against Redis
 * in the integration tests; this proves what the cache does with it.
 */
final class InMemoryTaggedCacheWriter implements RedisTaggedCacheWriter {

	/** The clock, in microseconds: generations are derived from it as on Redis, expiries too. */
	private final AtomicLong nowMicros = new AtomicLong(1_000_000_000_000L);

	private final Map<String, Slot> slots = new HashMap<>();

	private final Map<String, Map<String, Integer>> registries = new HashMap<>();

	private final AtomicInteger failures = new AtomicInteger();

	private volatile boolean down;

	private final AtomicInteger operations = new AtomicInteger();

	/** Move the clock on. */
	void advance(Duration duration) {
		this.nowMicros.addAndGet(duration.toNanos() / 1000);
	}

	/** Fail every call until {@link #up()}, as an unreachable Redis does. */
	void down() {
		this.down = true;
	}

	void up() {
		this.down = false;
	}

	/** Fail the next {@code count} calls. */
	void failNext(int count) {
		this.failures.set(count);
	}

	/** Every call made, failed or not. */
	int operations() {
		return this.operations.get();
	}

	/** Lose the fence state of every slot, as a restart of Redis without persistence does (entries stay). */
	synchronized void loseFenceState() {
		this.slots.values().forEach(slot -> {
			slot.generation = 0;
			slot.fence.clear();
		});
	}

	/** The stored entry of a key, expired or not; {@code null} when there is none. */
	synchronized @Nullable StoredEntry stored(CacheKeyspace keyspace, String key) {
		Entry entry = slot(keyspace).entries.get(key);
		return (entry != null) ? StoredEntry.decode(entry.bytes) : null;
	}

	@Override
	public @Nullable StoredEntry read(CacheKeyspace keyspace, String key) {
		return call(() -> {
			Entry entry = live(slot(keyspace), key);
			return (entry != null) ? StoredEntry.decode(entry.bytes) : null;
		});
	}

	@Override
	public CompletableFuture<@Nullable StoredEntry> readAsync(CacheKeyspace keyspace, String key) {
		return async(() -> read(keyspace, key));
	}

	@Override
	public long readGeneration(CacheKeyspace keyspace) {
		return call(() -> slot(keyspace).generation);
	}

	@Override
	public CompletableFuture<Long> readGenerationAsync(CacheKeyspace keyspace) {
		return async(() -> readGeneration(keyspace));
	}

	@Override
	public long initFence(CacheKeyspace keyspace) {
		return call(() -> ensureFence(slot(keyspace)));
	}

	@Override
	public CompletableFuture<Long> initFenceAsync(CacheKeyspace keyspace) {
		return async(() -> initFence(keyspace));
	}

	@Override
	public long currentTimeMillis() {
		return this.nowMicros.get() / 1000;
	}

	@Override
	public PutResult put(CacheKeyspace keyspace, String key, NewEntry newEntry, PutMode mode) {
		Collection<String> tags = newEntry.tags();
		return call(() -> {
			Slot slot = slot(keyspace);
			boolean created = !slot.hasFenceState();
			if (mode.fence() != null) {
				if (created) {
					ensureFence(slot);
					return new PutResult(false, null, true);
				}
				long fence = mode.fence();
				boolean refused = slot.fence.get("*") > fence || slot.fence.getOrDefault("k:" + key, 0L) > fence
						|| tags.stream().anyMatch(tag -> slot.fence.getOrDefault("t:" + tag, 0L) > fence);
				if (refused) {
					return new PutResult(false, null, false);
				}
			}
			else {
				ensureFence(slot);
			}
			Entry existing = live(slot, key);
			if (mode.onlyIfAbsent() && existing != null && isFresh(existing)) {
				return new PutResult(false, StoredEntry.decode(existing.bytes), created);
			}
			Duration storedFor = newEntry.storedFor();
			long expiresAt = storedFor.isZero() ? Long.MAX_VALUE
					: this.nowMicros.get() + Math.max(1000, storedFor.toNanos() / 1000);
			slot.entries.put(key, new Entry(newEntry.encode(currentTimeMillis()), expiresAt));
			return new PutResult(true, null, created);
		});
	}

	@Override
	public CompletableFuture<PutResult> putAsync(CacheKeyspace keyspace, String key, NewEntry entry, PutMode mode) {
		return async(() -> put(keyspace, key, entry, mode));
	}

	/** Runs once, before the next lease is asked for: a test seam for what happens in between. */
	private volatile Runnable beforeNextLease = () -> {
	};

	void beforeNextLease(Runnable action) {
		this.beforeNextLease = action;
	}

	@Override
	public CompletableFuture<LeaseResult> leaseAsync(CacheKeyspace keyspace, String key, String token,
			Duration leaseTime, boolean orFreshEntry) {
		Runnable before = this.beforeNextLease;
		this.beforeNextLease = () -> {
		};
		before.run();
		return async(() -> call(() -> {
			Slot slot = slot(keyspace);
			Entry entry = live(slot, key);
			if (orFreshEntry && entry != null && isFresh(entry)) {
				return new LeaseResult(false, StoredEntry.decode(entry.bytes), Duration.ZERO);
			}
			Lease held = slot.leases.get(key);
			if (held != null && held.expiresAt > this.nowMicros.get() && fenceOf(token) <= fenceOf(held.token)) {
				return new LeaseResult(false, null, Duration.ofNanos((held.expiresAt - this.nowMicros.get()) * 1000));
			}
			slot.leases.put(key, new Lease(token, this.nowMicros.get() + leaseTime.toNanos() / 1000));
			return new LeaseResult(true, null, Duration.ZERO);
		}));
	}

	@Override
	public CompletableFuture<Void> releaseLeaseAsync(CacheKeyspace keyspace, String key, String token) {
		return async(() -> call(() -> {
			Slot slot = slot(keyspace);
			Lease held = slot.leases.get(key);
			if (held != null && held.token.equals(token)) {
				slot.leases.remove(key);
			}
			return null;
		}));
	}

	private static long fenceOf(String holder) {
		return Long.parseLong(holder.substring(0, holder.indexOf(':')));
	}

	/** Whether someone holds the lease of a key. */
	synchronized boolean isLeased(CacheKeyspace keyspace, String key) {
		Lease held = slot(keyspace).leases.get(key);
		return held != null && held.expiresAt > this.nowMicros.get();
	}

	/** Mark an entry soft-invalidated now, as the soft invalidation scripts do in Redis. */
	synchronized void markSoftInvalidated(CacheKeyspace keyspace, String key) {
		Entry entry = slot(keyspace).entries.get(key);
		byte[] bytes = entry.bytes.clone();
		String now = String.format("%013d", currentTimeMillis());
		System.arraycopy(now.getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, bytes,
				StoredEntry.SOFT_INVALIDATED_OFFSET, 13);
		slot(keyspace).entries.put(key, new Entry(bytes, entry.expiresAt));
	}

	private boolean isFresh(Entry entry) {
		StoredEntry stored = StoredEntry.decode(entry.bytes);
		return !stored.isSoftInvalidated() && !stored.isExpiredAt(currentTimeMillis());
	}

	@Override
	public boolean evict(CacheKeyspace keyspace, String key) {
		return call(() -> {
			Slot slot = slot(keyspace);
			slot.fence.put("k:" + key, nextGeneration(slot));
			boolean existed = live(slot, key) != null;
			slot.entries.remove(key);
			return existed;
		});
	}

	@Override
	public void evictAll(List<CacheKeyspace> keyspaces, List<String> keys) {
		for (int i = 0; i < keys.size(); i++) {
			evict(keyspaces.get(i), keys.get(i));
		}
	}

	@Override
	public long[] invalidate(List<CacheKeyspace> keyspaces, Collection<String> tags, Duration hold) {
		return call(() -> {
			long[] removed = new long[keyspaces.size()];
			for (int i = 0; i < keyspaces.size(); i++) {
				Slot slot = slot(keyspaces.get(i));
				long generation = nextGeneration(slot);
				for (String tag : tags) {
					slot.fence.merge("t:" + tag, generation + hold.toNanos() / 1000, Math::max);
				}
				for (Iterator<Entry> entries = slot.entries.values().iterator(); entries.hasNext();) {
					Entry entry = entries.next();
					if (StoredEntry.decode(entry.bytes).tags().stream().anyMatch(tags::contains)) {
						entries.remove();
						removed[i] += (entry.expiresAt > this.nowMicros.get()) ? 1 : 0;
					}
				}
			}
			return removed;
		});
	}

	@Override
	public long[] softInvalidate(List<CacheKeyspace> keyspaces, Collection<String> tags, List<Duration> keptFor,
			Duration hold) {
		return call(() -> {
			long[] marked = new long[keyspaces.size()];
			for (int i = 0; i < keyspaces.size(); i++) {
				Slot slot = slot(keyspaces.get(i));
				long generation = nextGeneration(slot);
				for (String tag : tags) {
					slot.fence.merge("t:" + tag, generation + hold.toNanos() / 1000, Math::max);
				}
				for (Map.Entry<String, Entry> entry : List.copyOf(slot.entries.entrySet())) {
					StoredEntry stored = StoredEntry.decode(entry.getValue().bytes);
					if (entry.getValue().expiresAt > this.nowMicros.get() && !stored.isSoftInvalidated()
							&& stored.tags().stream().anyMatch(tags::contains)) {
						markSoftInvalidated(keyspaces.get(i), entry.getKey());
						long keptUntil = this.nowMicros.get() + keptFor.get(i).toNanos() / 1000;
						Entry current = slot.entries.get(entry.getKey());
						slot.entries.put(entry.getKey(),
								new Entry(current.bytes, Math.min(current.expiresAt, keptUntil)));
						marked[i]++;
					}
				}
			}
			return marked;
		});
	}

	@Override
	public long clear(CacheKeyspace keyspace) {
		return call(() -> {
			Slot slot = slot(keyspace);
			slot.fence.put("*", nextGeneration(slot));
			long removed = slot.entries.values().stream().filter(entry -> entry.expiresAt > this.nowMicros.get()).count();
			slot.entries.clear();
			return removed;
		});
	}

	@Override
	public long evictByPattern(CacheKeyspace keyspace, String keyPattern) {
		return call(() -> {
			Slot slot = slot(keyspace);
			slot.fence.put("*", nextGeneration(slot));
			java.util.regex.Pattern glob = glob(keyPattern);
			long removed = slot.entries.entrySet()
				.stream()
				.filter(entry -> entry.getValue().expiresAt > this.nowMicros.get())
				.filter(entry -> glob.matcher(entry.getKey()).matches())
				.count();
			slot.entries.keySet().removeIf(key -> glob.matcher(key).matches());
			return removed;
		});
	}

	/** A Redis glob as a regular expression: {@code *}, {@code ?}, {@code [...]}, {@code [^...]}, {@code \x}. */
	static java.util.regex.Pattern glob(String glob) {
		StringBuilder regex = new StringBuilder();
		for (int i = 0; i < glob.length(); i++) {
			char c = glob.charAt(i);
			switch (c) {
				case '*' -> regex.append(".*");
				case '?' -> regex.append('.');
				case '[' -> {
					int end = glob.indexOf(']', i + 1);
					if (end < 0) {
						regex.append("\\[");
					}
					else {
						String members = glob.substring(i + 1, end);
						// ranges (a-z) and negation (^) mean the same in both
						regex.append('[').append(members.replace("\\", "\\\\").replace("[", "\\[")).append(']');
						i = end;
					}
				}
				case '\\' -> {
					if (i + 1 < glob.length()) {
						regex.append(java.util.regex.Pattern.quote(String.valueOf(glob.charAt(++i))));
					}
				}
				default -> regex.append(java.util.regex.Pattern.quote(String.valueOf(c)));
			}
		}
		return java.util.regex.Pattern.compile(regex.toString(), java.util.regex.Pattern.DOTALL);
	}

	@Override
	public long countEntries(CacheKeyspace keyspace) {
		return call(() -> slot(keyspace).entries.keySet().stream().filter(key -> live(slot(keyspace), key) != null).count());
	}

	@Override
	public long countTags(CacheKeyspace keyspace) {
		return call(() -> slot(keyspace).entries.values()
			.stream()
			.filter(entry -> entry.expiresAt > this.nowMicros.get())
			.flatMap(entry -> StoredEntry.decode(entry.bytes).tags().stream())
			.distinct()
			.count());
	}

	@Override
	public long countTagged(CacheKeyspace keyspace, String tag) {
		return call(() -> slot(keyspace).entries.values()
			.stream()
			.filter(entry -> entry.expiresAt > this.nowMicros.get())
			.filter(entry -> StoredEntry.decode(entry.bytes).tags().contains(tag))
			.count());
	}

	@Override
	public int register(String keyPrefix, String cacheName, int shards) {
		return call(() -> {
			Map<String, Integer> registry = this.registries.computeIfAbsent(keyPrefix, prefix -> new TreeMap<>());
			Integer previous = registry.get(cacheName);
			registry.merge(cacheName, shards, Math::max);
			return (previous != null) ? previous : 0;
		});
	}

	@Override
	public CompletableFuture<Integer> registerAsync(String keyPrefix, String cacheName, int shards) {
		return async(() -> register(keyPrefix, cacheName, shards));
	}

	@Override
	public Map<String, Integer> registeredCaches(String keyPrefix) {
		return call(() -> new LinkedHashMap<>(this.registries.getOrDefault(keyPrefix, Map.of())));
	}

	@Override
	public long finishAbandonedDrains(List<CacheKeyspace> keyspaces, Duration age) {
		return call(() -> 0L);
	}

	private synchronized <T> T call(Supplier<T> action) {
		this.operations.incrementAndGet();
		// server time passes between two calls, as on Redis: a generation created after a loss is above
		// every generation handed out before it
		this.nowMicros.incrementAndGet();
		if (this.down || this.failures.getAndUpdate(count -> Math.max(0, count - 1)) > 0) {
			throw new RedisConnectionFailureException("Redis is down (in memory)");
		}
		return action.get();
	}

	private static <T> CompletableFuture<T> async(Supplier<T> action) {
		try {
			return CompletableFuture.completedFuture(action.get());
		}
		catch (RuntimeException ex) {
			return CompletableFuture.failedFuture(ex);
		}
	}

	private Slot slot(CacheKeyspace keyspace) {
		return this.slots.computeIfAbsent(keyspace.base(), base -> new Slot());
	}

	private @Nullable Entry live(Slot slot, String key) {
		Entry entry = slot.entries.get(key);
		return (entry != null && entry.expiresAt > this.nowMicros.get()) ? entry : null;
	}

	private long ensureFence(Slot slot) {
		if (slot.hasFenceState()) {
			return slot.generation;
		}
		long floor = slot.fence.values().stream().mapToLong(Long::longValue).max().orElse(slot.generation);
		slot.generation = Math.max(this.nowMicros.get(), Math.max(floor, slot.generation) + 1);
		slot.fence.merge("*", slot.generation, Math::max);
		return slot.generation;
	}

	private long nextGeneration(Slot slot) {
		long current = ensureFence(slot);
		slot.generation = Math.max(this.nowMicros.get(), current + 1);
		return slot.generation;
	}

	private static final class Slot {

		long generation;

		final Map<String, Long> fence = new HashMap<>();

		final Map<String, Entry> entries = new LinkedHashMap<>();

		final Map<String, Lease> leases = new HashMap<>();

		boolean hasFenceState() {
			return this.generation != 0 && this.fence.containsKey("*");
		}

	}

	/** An entry, and when Redis would remove it (its expiry plus the time it is kept after it), in microseconds. */
	private record Entry(byte[] bytes, long expiresAt) {
	}

	private record Lease(String token, long expiresAt) {
	}

}
