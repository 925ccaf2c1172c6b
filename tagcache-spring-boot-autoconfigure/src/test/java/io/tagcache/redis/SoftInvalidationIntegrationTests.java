package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import io.lettuce.core.ScriptOutputType;
import io.tagcache.Loaded;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Soft invalidation on Redis: entries stay readable as stale while one caller per key, across
 * instances, reloads them; plain lookups miss them; a hard invalidation after a soft one removes them
 * at once, also while a large tag is still being marked; the fence refuses values loaded before it;
 * a tag too large to mark inline is marked in bounded chunks and stays reachable.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class SoftInvalidationIntegrationTests {

	@Parameter
	RedisTopology redis;

	private final String prefix = TestCaches.uniquePrefix();

	private final AtomicInteger loads = new AtomicInteger();

	private RedisTaggedCacheManager manager;

	private RedisTaggedCacheManager other;

	@BeforeEach
	void instances() {
		this.manager = TestCaches.manager(this.redis, builder -> builder.keyPrefix(this.prefix).inlineInvalidationLimit(10));
		this.other = TestCaches.manager(this.redis, builder -> builder.keyPrefix(this.prefix));
	}

	@AfterEach
	void stop() {
		this.manager.destroy();
		this.other.destroy();
	}

	@Test
	void aSoftInvalidatedEntryIsServedStaleWhileOneCallerAcrossInstancesReloadsIt() throws Exception {
		RedisTaggedCache users = this.manager.getCache("users");
		load(users, 1L, "v1");
		load(users, 2L, "other user");

		assertThat(this.manager.softInvalidate("user-1")).isEqualTo(1);
		assertThat(users.get(1L)).as("a plain lookup misses a stale entry").isNull();
		assertThat(users.get(2L)).as("an entry without the tag is untouched").isNotNull();

		CountDownLatch reloading = new CountDownLatch(1);
		CountDownLatch proceed = new CountDownLatch(1);
		CompletableFuture<String> refresher = CompletableFuture.supplyAsync(() -> users.get(1L, String.class, true, () -> {
			reloading.countDown();
			proceed.await();
			return Loaded.of(counted("v2"), List.of("user-1"));
		}));
		assertThat(reloading.await(10, TimeUnit.SECONDS)).isTrue();
		RedisTaggedCache elsewhere = this.other.getCache("users");
		assertThat(elsewhere.get(1L, String.class, true, () -> Loaded.of(counted("reloaded twice"), List.of("user-1"))))
			.as("another instance, while the reload runs").isEqualTo("v1");
		assertThat(elsewhere.getStatistics().getStaleServed("revalidate")).isEqualTo(1);

		proceed.countDown();
		assertThat(refresher.get(10, TimeUnit.SECONDS)).isEqualTo("v2");
		assertThat(users.getStatistics().getRefreshes("stale")).isEqualTo(1);
		assertThat(elsewhere.get(1L, String.class)).isEqualTo("v2");
		assertThat(this.loads).as("the two first loads and one reload").hasValue(3);
	}

	@Test
	void aHardInvalidationAfterASoftOneIsAMissAtOnce() {
		RedisTaggedCache users = this.manager.getCache("users");
		load(users, 1L, "v1");
		this.manager.softInvalidate("user-1");
		assertThat(this.manager.invalidate("user-1")).as("the marked entry is removed").isEqualTo(1);

		// with the stale entry gone, a caller finds nothing to serve while someone else holds the lease
		assertThat(users.get(1L, String.class, false, () -> Loaded.of(counted("v2"), List.of("user-1"))))
			.isEqualTo("v2");
		assertThat(users.getStatistics().getStaleServed("revalidate")).isZero();
	}

	@Test
	void aValueLoadedBeforeASoftInvalidationIsNotStoredAfterIt() {
		RedisTaggedCache users = this.manager.getCache("users");
		long fence = users.readFence(1L);
		this.manager.softInvalidate("user-1");
		assertThat(users.putFenced(1L, "read before", List.of("user-1"), null, fence)).isFalse();
		assertThat(users.putFenced(1L, "read after", List.of("user-1"), null, users.readFence(1L))).isTrue();
	}

	@Test
	void aTagTooLargeToMarkInlineIsMarkedInChunksAndStaysReachable() {
		RedisTaggedCache users = this.manager.getCache("users");
		IntStream.range(0, 100).forEach(id -> load(users, id, "user " + id));

		assertThat(this.manager.softInvalidate("loc-1")).as("marked, beyond the inline limit of 10").isEqualTo(100);
		assertThat(IntStream.range(0, 100).filter(id -> users.get((long) id) == null).count())
			.as("every entry is stale").isEqualTo(100);
		assertThat(users.countEntriesWithTag("loc-1")).as("records back in the live index").isEqualTo(100);
		assertThat(this.manager.softInvalidate("loc-1")).as("marked already: the first mark counts").isZero();
		assertThat(this.manager.invalidate("loc-1")).isEqualTo(100);
	}

	@Test
	void aHardInvalidationWhileALargeTagIsStillBeingMarkedRemovesItsEntries() {
		RedisTaggedCache users = this.manager.getCache("users");
		IntStream.range(0, 30).forEach(id -> load(users, id, "user " + id));
		CacheKeyspace keyspace = users.keyspaces().get(0);
		// the soft invalidation script alone: the tag is detached for marking, and no one marks it
		List<Object> reply = softInvalidateWithoutMarking(keyspace, "loc-1");
		assertThat(reply).hasSize(4);

		assertThat(this.manager.invalidate("loc-1")).as("entries reachable only from the detached index").isEqualTo(30);
		assertThat(users.countEntries()).isZero();
	}

	@Test
	void anAbandonedMarkingIsFinished() {
		RedisTaggedCache users = this.manager.getCache("users");
		IntStream.range(0, 30).forEach(id -> load(users, id, "user " + id));
		CacheKeyspace keyspace = users.keyspaces().get(0);
		softInvalidateWithoutMarking(keyspace, "loc-1");
		assertThat(users.get(0L)).as("not marked yet").isNotNull();

		assertThat(this.manager.writer().finishAbandonedDrains(users.keyspaces(), Duration.ZERO)).isEqualTo(30);
		assertThat(users.get(0L)).isNull();
		assertThat(users.countEntriesWithTag("loc-1")).isEqualTo(30);
	}

	private List<Object> softInvalidateWithoutMarking(CacheKeyspace keyspace, String tag) {
		String script = new String(TagCacheScript.SOFT_INVALIDATE.source(), StandardCharsets.UTF_8);
		String[] keys = { text(keyspace.generationKey()), text(keyspace.fenceKey()), text(keyspace.softKey()),
				text(keyspace.indexKey(tag)) };
		return this.redis.admin().sync(commands -> commands.eval(script, ScriptOutputType.MULTI, keys,
				keyspace.base(), "600000000", "0", "0", "60000", tag));
	}

	private static String text(byte[] key) {
		return new String(key, StandardCharsets.UTF_8);
	}

	private void load(RedisTaggedCache cache, long id, String value) {
		cache.get(id, String.class, false, () -> Loaded.of(counted(value), List.of("user-" + id, "loc-1")));
	}

	private String counted(String value) {
		this.loads.incrementAndGet();
		return value;
	}

}
