package io.tagcache.redis;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import io.tagcache.redis.RedisTaggedCacheWriter.NewEntry;
import io.tagcache.redis.RedisTaggedCacheWriter.PutMode;
import io.tagcache.test.RedisTopology;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 1 for a huge tag: invalidating a tag of 100,000 entries is split into drain scripts
 * that each stop after the drain budget or 2,000 entries, so no script holds Redis for long, and
 * leaves nothing behind.
 *
 * <p>The assertions are structural: how many scripts ran (at least one per 2,000 entries, so no
 * script removed more) and what is left. Script durations depend on the load of
 * the machine and belong to the benchmarks ({@code BENCHMARKS.md}); the test only logs the slow log.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class HugeTagIntegrationTests {

	private static final Log logger = LogFactory.getLog(HugeTagIntegrationTests.class);

	private static final int ENTRIES = 100_000;

	@Parameter
	RedisTopology redis;

	@AfterEach
	void restoreSlowlog() {
		this.redis.admin().configSet("slowlog-log-slower-than", "10000");
	}

	@Test
	void invalidatingAHugeTagIsChunkedAndLeavesNothingBehind() throws Exception {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("users");
		cache.put("small", "small", List.of("huge-neighbour"));
		fill(manager, cache);

		this.redis.admin().configSet("slowlog-log-slower-than", "50000");
		this.redis.admin().resetStats();
		long started = System.nanoTime();
		long removed = manager.invalidate("loc-1");
		long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

		assertThat(removed).isEqualTo(ENTRIES);
		long scripts = this.redis.admin().commandCalls().getOrDefault("evalsha", 0L);
		assertThat(scripts).as("one invalidation script plus bounded drain chunks").isGreaterThan(ENTRIES / 2000);
		List<Long> slow = this.redis.admin().slowlogMicros();
		assertThat(this.redis.admin().scan(manager.getKeyPrefix() + ":{users}:*"))
			.as("only the other entry, its index and the bookkeeping keys remain")
			.allMatch(key -> key.endsWith(":gen") || key.endsWith(":fence") || key.contains(":small")
					|| key.endsWith(":t:huge-neighbour"));
		assertThat(cache.get("small")).isNotNull();
		logger.info(this.redis + ": invalidated " + removed + " entries of one tag in " + elapsedMillis + " ms with "
				+ scripts + " scripts; commands over 50 ms in the slow log: " + slow);
	}

	@Test
	void softInvalidatingAHugeTagIsChunkedMarksEveryEntryAndKeepsItReachable() throws Exception {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		RedisTaggedCache cache = manager.getCache("users");
		fill(manager, cache);

		this.redis.admin().configSet("slowlog-log-slower-than", "50000");
		this.redis.admin().resetStats();
		long started = System.nanoTime();
		long marked = manager.softInvalidate("loc-1");
		long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

		assertThat(marked).isEqualTo(ENTRIES);
		long scripts = this.redis.admin().commandCalls().getOrDefault("evalsha", 0L);
		assertThat(scripts).as("one soft invalidation script plus bounded marking chunks")
			.isGreaterThan(ENTRIES / 2000);
		List<Long> slow = this.redis.admin().slowlogMicros();
		assertThat(cache.get("0")).as("stale: a plain lookup misses").isNull();
		assertThat(cache.get(Integer.toString(ENTRIES - 1))).isNull();
		assertThat(cache.countEntriesWithTag("loc-1")).as("every record back in the live index").isEqualTo(ENTRIES);
		logger.info(this.redis + ": soft-invalidated " + marked + " entries of one tag in " + elapsedMillis
				+ " ms with " + scripts + " scripts; commands over 50 ms in the slow log: " + slow);
		assertThat(manager.invalidate("loc-1")).as("a hard invalidation after it removes them all").isEqualTo(ENTRIES);
	}

	/** Writes the entries through pipelined put scripts; each carries the huge tag and one of its own. */
	private void fill(RedisTaggedCacheManager manager, RedisTaggedCache cache) throws Exception {
		RedisTaggedCacheWriter writer = manager.writer();
		byte[] value = "{\"id\":1,\"name\":\"someone\"}".getBytes();
		for (int batch = 0; batch < ENTRIES; batch += 10_000) {
			List<CompletableFuture<RedisTaggedCacheWriter.PutResult>> puts = new ArrayList<>();
			for (int id = batch; id < batch + 10_000; id++) {
				puts.add(writer.putAsync(cache.keyspaces().get(0), Integer.toString(id), NewEntry.of(value,
						"java.util.Map", List.of("loc-1", "user-" + id), Duration.ofMinutes(10)), PutMode.ALWAYS));
			}
			CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
		}
	}

}
