package io.tagcache.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.cache.Cache.ValueWrapper;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tags: what {@code put} records, what invalidation removes, and guarantees 1 (atomic
 * invalidation) and 3 (value and index written together), on a standalone Redis and a cluster.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class TagInvalidationIntegrationTests {

	@Parameter
	RedisTopology redis;

	private RedisTaggedCacheManager manager;

	private RedisTaggedCache users;

	private RedisTaggedCache lists;

	@BeforeEach
	void createCaches() {
		this.manager = TestCaches.manager(this.redis);
		this.users = this.manager.getCache("users");
		this.lists = this.manager.getCache("lists");
	}

	@Test
	void invalidatingATagRemovesEveryEntryCarryingItAndNoOther() {
		this.users.put(1L, "alice", List.of("user-1", "loc-1"));
		this.users.put("alice@a", "alice", List.of("user-1", "loc-1"));
		this.users.put(2L, "bob", List.of("user-2", "loc-2"));
		assertThat(this.users.invalidateTags(List.of("user-1"))).isEqualTo(2);
		assertThat(this.users.get(1L)).isNull();
		assertThat(this.users.get("alice@a")).isNull();
		assertThat(this.users.get(2L)).isNotNull();
		assertThat(this.users.invalidateTags(List.of("user-1"))).isZero();
		assertThat(this.users.getStatistics().getInvalidatedEntries()).isEqualTo(2);
	}

	@Test
	void anEntryCarryingSeveralInvalidatedTagsIsCountedOnce() {
		this.users.put(1L, "alice", List.of("user-1", "loc-1"));
		this.users.put(2L, "bob", List.of("user-2", "loc-1"));
		assertThat(this.users.invalidateTags(List.of("user-1", "loc-1", "user-2"))).isEqualTo(2);
	}

	@Test
	void putReplacesThePreviousTagsOfTheEntry() {
		this.users.put(1L, "alice in Rome", List.of("user-1", "loc-1"));
		this.users.put(1L, "alice in Oslo", List.of("user-1", "loc-2"));
		assertThat(this.users.invalidateTags(List.of("loc-1"))).isZero();
		assertThat(this.users.get(1L).get()).isEqualTo("alice in Oslo");
		assertThat(indexKeys()).doesNotContain(indexKey("users", "loc-1"));
		assertThat(this.users.invalidateTags(List.of("loc-2"))).isEqualTo(1);
	}

	@Test
	void evictAndClearRemoveTheIndexRecords() {
		this.users.put(1L, "alice", List.of("user-1", "loc-1"));
		this.users.put(2L, "bob", List.of("user-2", "loc-1"));
		this.users.evict(1L);
		assertThat(indexKeys()).containsExactlyInAnyOrder(indexKey("users", "user-2"), indexKey("users", "loc-1"));
		assertThat(this.redis.admin().<List<String>>sync(redis -> redis.zrange(indexKey("users", "loc-1"), 0, -1)))
			.containsExactly("2");
		this.users.clear();
		assertThat(indexKeys()).isEmpty();
	}

	@Test
	void anInvalidatedEntryNeverComesBackThroughAPlainPutOfItsKey() {
		this.users.put(1L, "alice", List.of("user-1"));
		this.users.invalidateTags(List.of("user-1"));
		assertThat(this.users.get(1L)).isNull();
		this.users.put(1L, "alice again", List.of());
		assertThat(this.users.invalidateTags(List.of("user-1"))).isZero();
		assertThat(this.users.get(1L).get()).isEqualTo("alice again");
	}

	@Test
	void invalidatorReachesEveryCacheSharingTheTag() {
		this.users.put(1L, "alice", List.of("user-1"));
		this.lists.put("rome", List.of("alice", "bob"), List.of("user-1", "user-2", "loc-1"));
		this.lists.put("oslo", List.of("carol"), List.of("user-3", "loc-2"));
		assertThat(this.manager.invalidate("user-1")).isEqualTo(2);
		assertThat(this.users.get(1L)).isNull();
		assertThat(this.lists.get("rome")).isNull();
		assertThat(this.lists.get("oslo")).isNotNull();
	}

	@Test
	void invalidatorReachesCachesThisInstanceNeverOpened() {
		RedisTaggedCacheManager otherInstance = RedisTaggedCacheManager.builder(this.redis.connectionFactory())
			.keyPrefix(this.manager.getKeyPrefix())
			.build();
		otherInstance.getCache("reports").put("r1", "report", List.of("user-1"));
		this.users.put(1L, "alice", List.of("user-1"));
		assertThat(this.manager.getCacheNames()).doesNotContain("reports");
		assertThat(this.manager.invalidate(Set.of("user-1"))).isEqualTo(2);
		assertThat(otherInstance.getCache("reports").get("r1")).isNull();
	}

	@Test
	void invalidateTagsOfOneCacheLeavesOtherCachesAlone() {
		this.users.put(1L, "alice", List.of("user-1"));
		this.lists.put("rome", List.of("alice"), List.of("user-1"));
		assertThat(this.users.invalidateTags(List.of("user-1"))).isEqualTo(1);
		assertThat(this.lists.get("rome")).isNotNull();
	}

	/**
	 * Guarantee 1: a reader never sees some entries of an invalidated tag and not others. The
	 * reader takes atomic snapshots ({@code EXISTS} over every entry key is one command in one
	 * slot) while the tag is invalidated; each snapshot must hold all entries or none. Tags larger
	 * than the inline limit are detached atomically and drained, see {@link HugeTagIntegrationTests}.
	 */
	@Test
	void invalidationIsAtomicForAReader() throws Exception {
		int size = 200; // the default inline limit: a larger tag is drained in chunks
		String[] entryKeys = new String[size];
		for (int i = 0; i < size; i++) {
			this.users.put((long) i, "user " + i, List.of("loc-1", "user-" + i));
			entryKeys[i] = this.manager.getKeyPrefix() + ":{users}:e:" + i;
		}
		AtomicBoolean done = new AtomicBoolean();
		CountDownLatch reading = new CountDownLatch(1);
		List<Long> snapshots = new ArrayList<>();
		CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
			while (!done.get()) {
				snapshots.add(this.redis.admin().sync(redis -> redis.exists(entryKeys)));
				reading.countDown();
			}
		});
		// On a busy machine the reader may start late: invalidate once it has taken a snapshot
		assertThat(reading.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(this.users.invalidateTags(List.of("loc-1"))).isEqualTo(size);
		done.set(true);
		reader.get(10, TimeUnit.SECONDS);
		assertThat(snapshots).isNotEmpty().allSatisfy(count -> assertThat(count).isIn(0L, (long) size));
		assertThat(this.redis.admin().<Long>sync(redis -> redis.exists(entryKeys))).isZero();
	}

	/**
	 * Guarantee 3: the value and its index records are written by one script, so a reader that
	 * sees the entry also finds it through each of its tags.
	 */
	@Test
	void valueAndIndexAreWrittenTogether() throws Exception {
		String entryKey = this.manager.getKeyPrefix() + ":{users}:e:1";
		String[] indexes = { indexKey("users", "user-1"), indexKey("users", "loc-1") };
		AtomicBoolean done = new AtomicBoolean();
		List<String> torn = new ArrayList<>();
		CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
			while (!done.get()) {
				// One transaction-free atomic read of the three keys: a script would also do, EXISTS is one command.
				long present = this.redis.admin().sync(redis -> redis.exists(entryKey, indexes[0], indexes[1]));
				if (present != 0 && present != 3) {
					torn.add("saw " + present + " of 3 keys");
				}
			}
		});
		for (int round = 0; round < 200; round++) {
			this.users.put(1L, "alice", List.of("user-1", "loc-1"));
			this.users.evict(1L);
		}
		done.set(true);
		reader.get(10, TimeUnit.SECONDS);
		assertThat(torn).isEmpty();
	}

	@Test
	void aTagLargerThanTheInlineLimitIsDrainedCompletely() {
		RedisTaggedCacheManager small = TestCaches.manager(this.redis, builder -> builder.inlineInvalidationLimit(100));
		RedisTaggedCache cache = small.getCache("users");
		LongStream.range(0, 1050).forEach(id -> cache.put(id, "user " + id, List.of("loc-1", "user-" + id)));
		cache.put("other", "other", List.of("loc-2"));
		assertThat(cache.invalidateTags(List.of("loc-2", "loc-1"))).isEqualTo(1051);
		assertThat(cache.get(0L)).isNull();
		assertThat(cache.get(1049L)).isNull();
		assertThat(this.redis.admin().scan(small.getKeyPrefix() + ":*"))
			.as("only bookkeeping keys remain")
			.allMatch(key -> key.endsWith(":gen") || key.endsWith(":fence") || key.endsWith(":caches"));
	}

	@Test
	void drainScriptsStopAtTheirTimeBudget() {
		RedisTaggedCacheManager budgeted = TestCaches.manager(this.redis,
				builder -> builder.inlineInvalidationLimit(10).drainBudget(Duration.ofNanos(1000)));
		RedisTaggedCache cache = budgeted.getCache("users");
		LongStream.range(0, 640).forEach(id -> cache.put(id, "user " + id, List.of("loc-1", "user-" + id)));
		// the first read of a new prefix's registry completes it (a script); not counted below
		budgeted.getAllCacheNames();
		this.redis.admin().resetStats();
		assertThat(cache.invalidateTags(List.of("loc-1"))).isEqualTo(640);
		assertThat(this.redis.admin().commandCalls())
			.as("the invalidation script, then one drain script per group of 32 entries: each ran past 1 us")
			.containsEntry("evalsha", 1L + 640 / 32);
		assertThat(this.redis.admin().scan(budgeted.getKeyPrefix() + ":*"))
			.as("only bookkeeping keys remain")
			.allMatch(key -> key.endsWith(":gen") || key.endsWith(":fence") || key.endsWith(":caches"));
	}

	@Test
	void aDrainKeepsAnEntryWrittenAgainAfterTheInvalidation() {
		AtomicReference<RedisTaggedCache> cache = new AtomicReference<>();
		AtomicBoolean written = new AtomicBoolean();
		RedisTaggedCacheManager small = TestCaches.manager(this.redis, builder -> builder.inlineInvalidationLimit(10)
			.operationListener((operation, nanos, failed) -> {
				// The invalidation script has detached the index; no drain has run yet.
				if (operation.equals("invalidate") && written.compareAndSet(false, true)) {
					cache.get().put(7L, "new 7", List.of("loc-1", "user-7"));
				}
			}));
		cache.set(small.getCache("users"));
		LongStream.range(0, 100).forEach(id -> cache.get().put(id, "old " + id, List.of("loc-1", "user-" + id)));
		assertThat(cache.get().invalidateTags(List.of("loc-1"))).isEqualTo(99);
		assertThat(cache.get().get(7L)).extracting(ValueWrapper::get).isEqualTo("new 7");
		assertThat(cache.get().get(8L)).isNull();
		assertThat(cache.get().invalidateTags(List.of("loc-1"))).isOne();
		assertThat(cache.get().get(7L)).isNull();
	}

	/**
	 * A process that stops in the middle of a drain leaves its detached index behind, and the
	 * entries in it readable: the next invalidation of the cache finishes that drain.
	 */
	@Test
	void theNextInvalidationFinishesADrainAbandonedOverAMinuteAgo() {
		LongStream.range(0, 10).forEach(id -> this.users.put(id, "user " + id, List.of("loc-9", "user-" + id)));
		CacheKeyspace keyspace = this.users.keyspaces().get(0);
		String detached = keyspace.base() + "d:1:loc-9";
		this.redis.admin().sync(redis -> redis.rename(indexKey("users", "loc-9"), detached));
		this.redis.admin().sync(redis -> redis.sadd(keyspace.base() + "detached", detached));
		assertThat(this.users.get(3L)).as("not drained yet").isNotNull();

		assertThat(this.users.invalidateTags(List.of("unrelated"))).as("counts its own removals only").isZero();

		assertThat(LongStream.range(0, 10).mapToObj(this.users::get)).containsOnlyNulls();
		assertThat(this.redis.admin().scan(this.manager.getKeyPrefix() + ":{users}:*"))
			.as("the detached index, its entries and their other records are gone")
			.allMatch(key -> key.endsWith(":gen") || key.endsWith(":fence"));
	}

	private List<String> indexKeys() {
		return this.redis.admin().scan(this.manager.getKeyPrefix() + ":{users}:t:*");
	}

	private String indexKey(String cache, String tag) {
		return this.manager.getKeyPrefix() + ":{" + cache + "}:t:" + tag;
	}

}
