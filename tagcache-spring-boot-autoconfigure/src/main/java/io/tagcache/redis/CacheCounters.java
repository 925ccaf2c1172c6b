package io.tagcache.redis;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

import org.jspecify.annotations.Nullable;

import io.tagcache.TaggedCacheStatistics;

/** Contention-free counters behind {@link TaggedCacheStatistics}. */
final class CacheCounters implements TaggedCacheStatistics {

	final LongAdder hits = new LongAdder();

	final LongAdder misses = new LongAdder();

	final LongAdder puts = new LongAdder();

	final LongAdder rejectedPuts = new LongAdder();

	final LongAdder evictions = new LongAdder();

	final LongAdder invalidations = new LongAdder();

	final LongAdder invalidatedEntries = new LongAdder();

	final LongAdder earlyRefreshes = new LongAdder();

	final LongAdder staleRefreshes = new LongAdder();

	final LongAdder staleServedRevalidate = new LongAdder();

	final LongAdder staleServedError = new LongAdder();

	final LongAdder syncWaits = new LongAdder();

	private final ConcurrentMap<String, LongAdder> errors = new ConcurrentHashMap<>();

	void error(String operation) {
		this.errors.computeIfAbsent(operation, key -> new LongAdder()).increment();
	}

	@Override
	public long getHits() {
		return this.hits.sum();
	}

	@Override
	public long getMisses() {
		return this.misses.sum();
	}

	@Override
	public long getPuts() {
		return this.puts.sum();
	}

	@Override
	public long getRejectedPuts() {
		return this.rejectedPuts.sum();
	}

	@Override
	public long getEvictions() {
		return this.evictions.sum();
	}

	@Override
	public long getInvalidations() {
		return this.invalidations.sum();
	}

	@Override
	public long getInvalidatedEntries() {
		return this.invalidatedEntries.sum();
	}

	@Override
	public long getErrors() {
		return this.errors.values().stream().mapToLong(LongAdder::sum).sum();
	}

	@Override
	public long getErrors(String operation) {
		LongAdder errors = this.errors.get(operation);
		return (errors != null) ? errors.sum() : 0;
	}

	@Override
	public long getRefreshes(String reason) {
		return switch (reason) {
			case "early" -> this.earlyRefreshes.sum();
			case "stale" -> this.staleRefreshes.sum();
			default -> 0;
		};
	}

	@Override
	public long getStaleServed(String reason) {
		return switch (reason) {
			case "revalidate" -> this.staleServedRevalidate.sum();
			case "error" -> this.staleServedError.sum();
			default -> 0;
		};
	}

	@Override
	public long getSyncWaits() {
		return this.syncWaits.sum();
	}

	/** The cache's near cache, set once when the cache is created with one. */
	private volatile @Nullable NearCache near;

	void nearCache(NearCache near) {
		this.near = near;
	}

	@Override
	public boolean hasNearCache() {
		return this.near != null;
	}

	@Override
	public long getNearCacheGets(String result) {
		NearCache near = this.near;
		if (near == null) {
			return 0;
		}
		return switch (result) {
			case "hit" -> near.hits();
			case "miss" -> near.misses();
			default -> 0;
		};
	}

	@Override
	public long getNearCacheSize() {
		NearCache near = this.near;
		return (near != null) ? near.size() : 0;
	}

	@Override
	public long getNearCacheClears() {
		NearCache near = this.near;
		return (near != null) ? near.channelLosses() : 0;
	}

}
