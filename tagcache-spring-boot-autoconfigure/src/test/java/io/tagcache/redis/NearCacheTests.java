package io.tagcache.redis;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The near cache's own rules, with a clock the test moves: what it serves, for how long, and which
 * reads it refuses to keep because something was dropped after they started. That messages reach it
 * through Redis is proven in {@link NearCacheIntegrationTests}.
 */
class NearCacheTests {

	private final AtomicLong now = new AtomicLong(1_000_000);

	private final AtomicBoolean live = new AtomicBoolean(true);

	private NearCache near;

	@BeforeEach
	void serving() {
		this.near = new NearCache(100, this.now::get, this.live::get);
		this.near.enable();
	}

	@Test
	void nothingIsServedWhileTheChannelHasNotConfirmedLatelyThatItDelivers() {
		this.near.put(this.near.startRead(), "k", "v", null, 0, 1, List.of("t"));
		this.live.set(false);
		assertThat(this.near.get("k", null, 0)).as("messages may wait unapplied").isNull();
		this.live.set(true);
		assertThat(this.near.get("k", null, 0)).as("kept meanwhile").isNotNull();
	}

	@Test
	void aKeptValueIsServedAsTheSameInstanceForTheTypeItWasReadAs() {
		Object value = new StringBuilder("shared");
		this.near.put(this.near.startRead(), "k", value, String.class, 0, 5, List.of("t"));

		assertThat(this.near.get("k", String.class, 0).value()).isSameAs(value);
		assertThat(this.near.get("k", Integer.class, 0)).as("read as another type: Redis decides").isNull();
		assertThat(this.near.get("k", null, 0)).as("an untyped read").isNull();
		assertThat(this.near.hits()).isEqualTo(1);
		assertThat(this.near.misses()).isEqualTo(2);
	}

	@Test
	void anEntryIsNeverServedAtOrPastItsExpiry() {
		this.near.put(this.near.startRead(), "k", "v", null, this.now.get() + 1000, 5, List.of());
		this.now.addAndGet(999);
		assertThat(this.near.get("k", null, 0)).isNotNull();
		this.now.addAndGet(1);
		assertThat(this.near.get("k", null, 0)).isNull();
	}

	@Test
	void anEntryAlreadyExpiredIsNotKept() {
		this.near.put(this.near.startRead(), "k", "v", null, this.now.get(), 5, List.of());
		assertThat(this.near.get("k", null, 0)).isNull();
	}

	@Test
	void theMarginOfEarlyRefreshIsLeftToRedis() {
		// a load of 10 ms, a margin of 36.7 loads (beta 1): within 367 ms of expiry the entry is Redis's
		this.near.put(this.near.startRead(), "k", "v", null, this.now.get() + 1000, 10, List.of());
		double factor = 53 * Math.log(2);
		this.now.addAndGet(600);
		assertThat(this.near.get("k", null, factor)).isNotNull();
		this.now.addAndGet(40);
		assertThat(this.near.get("k", null, factor)).isNull();
		assertThat(this.near.get("k", null, 0)).as("a plain lookup has no margin").isNotNull();
	}

	@Test
	void droppingATagRemovesEveryEntryCarryingItAndForgetsTheTag() {
		this.near.put(this.near.startRead(), "a", "1", null, 0, 1, List.of("user-1", "loc-1"));
		this.near.put(this.near.startRead(), "b", "2", null, 0, 1, List.of("user-2", "loc-1"));
		this.near.put(this.near.startRead(), "c", "3", null, 0, 1, List.of("user-3"));

		this.near.dropTags(List.of("loc-1"));

		assertThat(this.near.get("a", null, 0)).isNull();
		assertThat(this.near.get("b", null, 0)).isNull();
		assertThat(this.near.get("c", null, 0)).isNotNull();
		assertThat(this.near.indexedTags()).as("only user-3 is still indexed").isEqualTo(1);
	}

	@Test
	void aReadThatStartedBeforeADropIsNotKept() {
		long beforeDrop = this.near.startRead();
		this.near.dropTags(List.of("unrelated"));
		this.near.put(beforeDrop, "k", "read before the drop", null, 0, 1, List.of("t"));
		assertThat(this.near.get("k", null, 0)).isNull();
		assertThat(this.near.indexedTags()).isZero();

		long afterDrop = this.near.startRead();
		this.near.put(afterDrop, "k", "read after", null, 0, 1, List.of("t"));
		assertThat(this.near.get("k", null, 0).value()).isEqualTo("read after");
	}

	@Test
	void whileTheChannelIsDownNothingIsServedOrKept() {
		this.near.put(this.near.startRead(), "k", "v", null, 0, 1, List.of("t"));
		long startedBeforeTheLoss = this.near.startRead();

		this.near.disable();

		assertThat(this.near.get("k", null, 0)).isNull();
		assertThat(this.near.startRead()).isEqualTo(NearCache.NOT_SERVING);
		this.near.enable();
		assertThat(this.near.get("k", null, 0)).as("cleared when the channel was lost").isNull();
		this.near.put(startedBeforeTheLoss, "k", "read before the loss", null, 0, 1, List.of("t"));
		assertThat(this.near.get("k", null, 0)).isNull();
		assertThat(this.near.channelLosses()).isEqualTo(1);
	}

	@Test
	void replacingAnEntryUnlinksTheTagsItNoLongerCarries() {
		this.near.put(this.near.startRead(), "k", "old", null, 0, 1, List.of("old-tag"));
		this.near.put(this.near.startRead(), "k", "new", null, 0, 1, List.of("new-tag"));

		this.near.dropTags(List.of("old-tag"));

		assertThat(this.near.get("k", null, 0).value()).isEqualTo("new");
		assertThat(this.near.indexedTags()).isEqualTo(1);
	}

	@Test
	void theSizeIsBoundedAndEvictedEntriesLeaveTheTagIndex() {
		for (int i = 0; i < 1000; i++) {
			this.near.put(this.near.startRead(), "k" + i, i, null, 0, 1, List.of("tag-" + i));
		}
		assertThat(this.near.size()).isLessThanOrEqualTo(100);
		assertThat(this.near.indexedTags()).isLessThanOrEqualTo(100);
	}

	@Test
	void messagesOfTheScriptsAreAppliedAndAnUnreadableOneClearsEverything() {
		this.near.put(this.near.startRead(), "a:1", "1", null, 0, 1, List.of("t:1"));
		this.near.put(this.near.startRead(), "é", "2", null, 0, 1, List.of("other"));
		this.near.put(this.near.startRead(), "c", "3", null, 0, 1, List.of("other"));

		InvalidationChannel.apply(this.near, message("t3:t:1"));
		assertThat(this.near.get("a:1", null, 0)).isNull();
		InvalidationChannel.apply(this.near, message("k2:é"));
		assertThat(this.near.get("é", null, 0)).as("lengths count bytes").isNull();
		assertThat(this.near.get("c", null, 0)).isNotNull();
		InvalidationChannel.apply(this.near, message("k9:c"));
		assertThat(this.near.get("c", null, 0)).as("a truncated message clears the cache").isNull();
	}

	private static byte[] message(String text) {
		return text.getBytes(StandardCharsets.UTF_8);
	}

}
