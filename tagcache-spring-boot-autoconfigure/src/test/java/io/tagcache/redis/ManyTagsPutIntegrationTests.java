package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import io.lettuce.core.ScriptOutputType;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Puts with more tags than one script writes ({@link DefaultRedisTaggedCacheWriter#TAGS_PER_SCRIPT}): each
 * chunk checks the fence of its tags and writes their index records, then one script checks in O(1)
 * that nothing removed a record or raised a fence since the first chunk (the slot's generation and the
 * put's marker) and writes the entry. Guarantee 3 (no entry its tags cannot reach), the fence (guarantee 2) and guarantee 4
 * (no leak) must hold as for a put in one script. The races are staged with the writer's seam that
 * runs between the chunks and the last script, on the caller's thread: what it sends reaches Redis
 * after the chunks and before the check, every time.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class ManyTagsPutIntegrationTests {

	private static final int TAGS = 1000;

	@Parameter
	RedisTopology redis;

	@ParameterizedTest
	@ValueSource(ints = { 1000, 10_000 })
	void everyTagOfAPutWithManyTagsReachesTheEntry(int count) {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(count);
		cache.put(1L, "list", tags);
		assertReachableThroughEveryTag(manager, "1", tags);
		for (String tag : List.of(tags.get(0), tags.get(count / 2), tags.get(count - 1))) {
			cache.put(1L, "list", tags);
			assertThat(manager.invalidate(tag)).isEqualTo(1);
			assertThat(cache.get(1L)).as("invalidating %s", tag).isNull();
		}
	}

	@Test
	void aPutWithManyTagsIsOneScriptPerChunkAndOneCheck() {
		RedisTaggedCache cache = TestCaches.manager(this.redis).getCache("lists");
		cache.put(0L, "warm-up: registers the cache", List.of());
		this.redis.admin().resetStats();
		cache.put(1L, "list", tags(TAGS));
		int chunks = (TAGS + DefaultRedisTaggedCacheWriter.TAGS_PER_SCRIPT - 1) / DefaultRedisTaggedCacheWriter.TAGS_PER_SCRIPT;
		assertThat(this.redis.admin().commandCalls()).containsEntry("evalsha", chunks + 1L)
			.doesNotContainKey("eval");
		this.redis.admin().resetStats();
		cache.put(2L, "a few tags", tags(DefaultRedisTaggedCacheWriter.TAGS_PER_SCRIPT));
		assertThat(this.redis.admin().commandCalls()).as("up to the threshold, one script")
			.containsEntry("evalsha", 1L);
	}

	@Test
	void aFencedPutIsRefusedWhenOneOfItsTagsIsInvalidatedBetweenTheChunksAndTheCheck() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		long fence = cache.readFence(1L);
		onceBeforeTheCheck(manager, () -> manager.invalidate(tags.get(700)));
		assertThat(cache.putFenced(1L, "stale list", tags, null, fence)).isFalse();
		assertThat(cache.get(1L)).isNull();
		assertThat(cache.getStatistics().getRejectedPuts()).isEqualTo(1);
	}

	/**
	 * Unfenced, the put is not refused by the invalidation: the check finds the generation raised,
	 * writes nothing, and the put is sent again, after the invalidation; the entry is
	 * then reachable through every tag, the invalidated one too.
	 */
	@Test
	void anUnfencedPutRacingAnInvalidationLeavesNoUnreachableEntry() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "old", List.of("other"));
		onceBeforeTheCheck(manager, () -> manager.invalidate(tags.get(300)));
		cache.put(1L, "new", tags);
		assertThat(cache.get(1L).get()).isEqualTo("new");
		assertReachableThroughEveryTag(manager, "1", tags);
		assertThat(records(manager, "other", "1")).as("unlinked from the tag it no longer carries").isNull();
		assertThat(manager.invalidate(tags.get(300))).isEqualTo(1);
		assertThat(cache.get(1L)).isNull();
	}

	/**
	 * Another write of the key between the chunks and the check unlinks the tags its entry held
	 * (which the new entry shares) and deletes the put's marker: the check refuses and the put is sent
	 * again.
	 */
	@Test
	void aConcurrentWriteOfTheKeyWithOtherTagsLeavesNoUnreachableEntry() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "old", List.of(tags.get(5), tags.get(900)));
		onceBeforeTheCheck(manager, () -> cache.put(1L, "concurrent", List.of("other")));
		cache.put(1L, "new", tags);
		assertThat(cache.get(1L).get()).isEqualTo("new");
		assertReachableThroughEveryTag(manager, "1", tags);
		assertThat(records(manager, "other", "1")).isNull();
	}

	/**
	 * An eviction of the key between the chunks and the check removes the entry in place and its
	 * records, among them records the chunks wrote: a fenced put is refused (the key is fenced), and
	 * nothing is left that its tags cannot reach.
	 */
	@Test
	void aFencedPutIsRefusedWhenItsKeyIsEvictedBetweenTheChunksAndTheCheck() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "old", List.of(tags.get(5)));
		long fence = cache.readFence(1L);
		onceBeforeTheCheck(manager, () -> cache.evict(1L));
		assertThat(cache.putFenced(1L, "stale", tags, null, fence)).isFalse();
		assertThat(cache.get(1L)).isNull();
	}

	/**
	 * Unfenced, an eviction of the key between the chunks and the check (it raises the generation)
	 * makes the put go again: the entry written after it is reachable through every tag.
	 */
	@Test
	void anUnfencedPutRacingAnEvictionOfItsKeyLeavesNoUnreachableEntry() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "old", List.of(tags.get(5), tags.get(900)));
		onceBeforeTheCheck(manager, () -> cache.evict(1L));
		cache.put(1L, "new", tags);
		assertThat(cache.get(1L).get()).isEqualTo("new");
		assertReachableThroughEveryTag(manager, "1", tags);
		assertNoPendingPut(manager);
	}

	/**
	 * Fenced, a write of the key with other tags between the chunks and the check (no invalidation, so
	 * the fence still admits the put) unlinks records the chunks wrote without raising the generation:
	 * it deletes the put's marker, the check refuses, and the put is sent again and written.
	 */
	@Test
	void aFencedPutRacingAConcurrentWriteOfTheKeyIsSentAgainAndReachable() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "old", List.of(tags.get(5), tags.get(900)));
		long fence = cache.readFence(1L);
		onceBeforeTheCheck(manager, () -> cache.put(1L, "concurrent", List.of("other")));
		assertThat(cache.putFenced(1L, "new", tags, null, fence)).isTrue();
		assertThat(cache.get(1L).get()).isEqualTo("new");
		assertReachableThroughEveryTag(manager, "1", tags);
		assertThat(records(manager, "other", "1")).isNull();
		assertNoPendingPut(manager);
	}

	/**
	 * Another put with many tags of the same key between the chunks and the check takes the key's
	 * marker and writes its entry (unlinking the tags it does not share): the first put's check finds
	 * the marker gone and sends the put again; the entry left is reachable through each of its tags,
	 * and not through the tags only the other put carried.
	 */
	@Test
	void twoPutsWithManyTagsOfTheSameKeyLeaveNoUnreachableEntry() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		List<String> others = IntStream.range(0, TAGS).mapToObj(i -> "loc-" + i).toList();
		onceBeforeTheCheck(manager, () -> cache.put(1L, "concurrent", others));
		cache.put(1L, "new", tags);
		assertThat(cache.get(1L).get()).isEqualTo("new");
		assertReachableThroughEveryTag(manager, "1", tags);
		assertThat(others).allSatisfy(tag -> assertThat(records(manager, tag, "1")).as(tag).isNull());
		assertNoPendingPut(manager);
	}

	/**
	 * An invalidation of a tag the put does not carry, in the same cache slot, raises the generation
	 * between the chunks and the check: the check cannot tell it from one of the put's tags, so the put
	 * is sent again (not refused: the fence of its own tags did not move), fenced or not.
	 */
	@ParameterizedTest
	@ValueSource(booleans = { true, false })
	void anUnrelatedInvalidationInTheSlotCostsARetryNotARefusal(boolean fenced) {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(2L, "unrelated", List.of("unrelated"));
		long fence = cache.readFence(1L);
		onceBeforeTheCheck(manager, () -> assertThat(manager.invalidate("unrelated")).isEqualTo(1));
		if (fenced) {
			assertThat(cache.putFenced(1L, "list", tags, null, fence)).isTrue();
		}
		else {
			cache.put(1L, "list", tags);
		}
		assertThat(cache.get(1L).get()).isEqualTo("list");
		assertReachableThroughEveryTag(manager, "1", tags);
		assertThat(cache.getStatistics().getRejectedPuts()).isZero();
		assertNoPendingPut(manager);
	}

	/**
	 * When the slot's generation moves before the check of every attempt, the put gives up after
	 * {@link DefaultRedisTaggedCacheWriter#CHUNKED_PUT_ATTEMPTS} attempts: nothing is written, the entry in
	 * place keeps its records, the put counts as refused, and no marker is left behind.
	 */
	@Test
	void aPutRacingAnInvalidationAtEveryAttemptIsRefusedSafely() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "old", List.of(tags.get(5)));
		String base = manager.getKeyPrefix() + ":{lists}:";
		AtomicInteger attempts = new AtomicInteger();
		// The retries run on Lettuce's event loop, which the seam must not wait on: the eviction of another
		// key, which raises the generation, goes through the test's own connection.
		((DefaultRedisTaggedCacheWriter) manager.writer()).beforePutCheck(() -> {
			attempts.incrementAndGet();
			awaitTheChunks(manager, "1");
			this.redis.admin()
				.sync(redis -> redis.eval(source(TagCacheScript.EVICT), ScriptOutputType.INTEGER,
						new String[] { base + "e:unrelated", base + "gen", base + "fence" }, base, "unrelated",
						"3600000000"));
		});
		cache.put(1L, "new", tags);
		assertThat(attempts).hasValue(DefaultRedisTaggedCacheWriter.CHUNKED_PUT_ATTEMPTS);
		assertThat(cache.get(1L).get()).isEqualTo("old");
		assertReachableThroughEveryTag(manager, "1", List.of(tags.get(5)));
		assertThat(cache.getStatistics().getRejectedPuts()).isEqualTo(1);
		assertNoPendingPut(manager);
	}

	/**
	 * clear() removes entries with their records in a second step that does not raise the generation
	 * (its first step did, before the put's chunks here): the removal deletes the put's marker, so the
	 * put is sent again and its entry is reachable through every tag.
	 */
	@Test
	void aRemovalOfTheEntryByClearsSecondStepMakesThePutGoAgain() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "old", List.of(tags.get(5), tags.get(900)));
		String base = manager.getKeyPrefix() + ":{lists}:";
		onceAfterTheChunks(manager, "1", () -> assertThat(this.redis.admin()
			.<Long>sync(redis -> redis.eval(source(TagCacheScript.REMOVE_ENTRIES), ScriptOutputType.INTEGER,
					new String[] { base + "gen" }, base, "1")))
			.isEqualTo(1));
		cache.put(1L, "new", tags);
		assertThat(cache.get(1L).get()).isEqualTo("new");
		assertReachableThroughEveryTag(manager, "1", tags);
		assertNoPendingPut(manager);
	}

	/**
	 * A drain of a detached tag index removes the entry in place and its records in the indexes of its
	 * other tags, without raising the generation (the invalidation that detached the index raised it
	 * before the put's chunks here): the drain deletes the put's marker, so the put is sent again.
	 */
	@Test
	void aDrainRemovingTheEntryMakesThePutGoAgain() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "old", List.of(tags.get(5), tags.get(900), "big"));
		String base = manager.getKeyPrefix() + ":{lists}:";
		String detached = base + "d:1:big";
		onceAfterTheChunks(manager, "1", () -> {
			this.redis.admin().sync(redis -> redis.rename(base + "t:big", detached));
			List<Object> drained = this.redis.admin()
				.sync(redis -> redis.eval(source(TagCacheScript.DRAIN), ScriptOutputType.MULTI,
						new String[] { detached, base + "detached" }, base, "big", "1000", "100000"));
			assertThat(drained).containsExactly(1L, 0L);
		});
		cache.put(1L, "new", tags);
		assertThat(cache.get(1L).get()).isEqualTo("new");
		assertReachableThroughEveryTag(manager, "1", tags);
		assertNoPendingPut(manager);
	}

	/**
	 * Guarantee 4: the records of a put with many tags expire with it, and so do the records a refused
	 * put wrote before its check.
	 */
	@Test
	void nothingOfTheTagsRemainsAfterTheEntriesExpired() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis, builder -> builder
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(Duration.ofMillis(300))));
		RedisTaggedCache cache = manager.getCache("lists");
		List<String> tags = tags(TAGS);
		cache.put(1L, "list", tags);
		long fence = cache.readFence(2L);
		onceBeforeTheCheck(manager, () -> manager.invalidate(tags.get(0)));
		assertThat(cache.putFenced(2L, "refused", tags, null, fence)).isFalse();
		assertThat(this.redis.admin().scan(manager.getKeyPrefix() + ":*")).anyMatch(key -> key.contains(":t:"));
		Awaitility.await()
			.atMost(Duration.ofSeconds(10))
			.untilAsserted(() -> assertThat(this.redis.admin().scan(manager.getKeyPrefix() + ":*"))
				.as("only bookkeeping keys remain")
				.allMatch(key -> key.endsWith(":{lists}:gen") || key.endsWith(":{lists}:fence")
						|| key.equals(manager.getKeyPrefix() + ":caches")));
	}

	private static String source(TagCacheScript script) {
		return new String(script.source(), StandardCharsets.UTF_8);
	}

	/**
	 * Runs the action once, after every chunk of the next put with many tags of the key ran (its
	 * marker counts every record) and before its last script is sent: an action sent on another
	 * connection than the writer's then reaches Redis between the two, every time.
	 */
	private void onceAfterTheChunks(RedisTaggedCacheManager manager, String key, Runnable action) {
		onceBeforeTheCheck(manager, () -> {
			awaitTheChunks(manager, key);
			action.run();
		});
	}

	private void awaitTheChunks(RedisTaggedCacheManager manager, String key) {
		String marker = manager.getKeyPrefix() + ":{lists}:p:" + key;
		Awaitility.await()
			.atMost(Duration.ofSeconds(10))
			.until(() -> String.valueOf(TAGS).equals(this.redis.admin().sync(redis -> redis.hget(marker, "written"))));
	}

	private void assertNoPendingPut(RedisTaggedCacheManager manager) {
		assertThat(this.redis.admin().scan(manager.getKeyPrefix() + ":*")).as("markers of puts with many tags")
			.noneMatch(key -> key.contains("}:p:"));
	}

	private static List<String> tags(int count) {
		return IntStream.range(0, count).mapToObj(i -> "user-" + i).toList();
	}

	private static void onceBeforeTheCheck(RedisTaggedCacheManager manager, Runnable action) {
		AtomicBoolean done = new AtomicBoolean();
		((DefaultRedisTaggedCacheWriter) manager.writer()).beforePutCheck(() -> {
			if (done.compareAndSet(false, true)) {
				action.run();
			}
		});
	}

	/**
	 * Every tag's index holds the key, scored no earlier than the entry expires: no invalidation or
	 * pruning can miss the live entry.
	 */
	private void assertReachableThroughEveryTag(RedisTaggedCacheManager manager, String key, List<String> tags) {
		String entry = manager.getKeyPrefix() + ":{lists}:e:" + key;
		long expiresAt = expiresAt(entry);
		assertThat(expiresAt).isPositive();
		List<String> missing = new ArrayList<>();
		for (String tag : tags) {
			Double score = records(manager, tag, key);
			if (score == null || score < expiresAt) {
				missing.add(tag + "=" + score);
			}
		}
		assertThat(missing).as("records missing or earlier than the entry's expiry %d", expiresAt).isEmpty();
	}

	/**
	 * When the entry expires: {@code PEXPIRETIME} on Redis 7; on 6.2, the server's clock and {@code PTTL}
	 * read in one script, less the millisecond either may have been rounded down by.
	 */
	private long expiresAt(String entry) {
		try {
			return this.redis.admin().sync(redis -> redis.pexpiretime(entry));
		}
		catch (io.lettuce.core.RedisCommandExecutionException ex) {
			List<Object> reply = this.redis.admin()
				.sync(redis -> redis.eval("local t = redis.call('TIME') return { t[1], t[2], redis.call('PTTL', KEYS[1]) }",
						io.lettuce.core.ScriptOutputType.MULTI, entry));
			long nowMillis = Long.parseLong((String) reply.get(0)) * 1000 + Long.parseLong((String) reply.get(1)) / 1000;
			return nowMillis + (Long) reply.get(2) - 1;
		}
	}

	private Double records(RedisTaggedCacheManager manager, String tag, String key) {
		return this.redis.admin().sync(redis -> redis.zscore(manager.getKeyPrefix() + ":{lists}:t:" + tag, key));
	}

}
