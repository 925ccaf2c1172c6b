package io.tagcache.redis;

import java.util.List;

import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.entry;

/**
 * The manager's diagnostic counts reach caches of the key prefix that another instance wrote,
 * without opening them here.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class CacheDiagnosticsIntegrationTests {

	@Parameter
	RedisTopology redis;

	@Test
	void countsReachCachesThisInstanceNeverOpenedWithoutOpeningThem() {
		String prefix = TestCaches.uniquePrefix();
		RedisTaggedCacheManager writer = TestCaches.manager(this.redis, builder -> builder.keyPrefix(prefix));
		RedisTaggedCacheManager observer = TestCaches.manager(this.redis, builder -> builder.keyPrefix(prefix));
		writer.getCache("users").put(1L, "alice", List.of("user-1", "loc-1"));
		writer.getCache("users").put("alice@a", "alice", List.of("user-1", "loc-1"));
		writer.getCache("users").put(2L, "bob", List.of("user-2", "loc-1"));
		writer.getCache("lists").put(1L, List.of("alice", "bob"), List.of("user-1", "user-2", "loc-1"));
		writer.getCache("other").put(1L, "carol", List.of("user-3"));

		assertThat(observer.countEntries("users")).isEqualTo(3);
		assertThat(observer.countTags("users")).isEqualTo(3);
		assertThat(observer.countEntries("lists")).isEqualTo(1);
		assertThat(observer.countEntries("never-written")).isZero();
		assertThat(observer.countEntriesWithTag("user-1")).containsExactly(entry("lists", 1L), entry("users", 2L));
		assertThat(observer.countEntriesWithTag("nobody")).isEmpty();
		assertThat(observer.getCacheNames()).as("nothing was opened by counting").isEmpty();
	}

	@Test
	void countsValidateTheirArguments() {
		RedisTaggedCacheManager manager = TestCaches.manager(this.redis);
		assertThatIllegalArgumentException().isThrownBy(() -> manager.countEntriesWithTag(" "))
			.withMessageContaining("blank");
		assertThatIllegalArgumentException().isThrownBy(() -> manager.countEntries("a{b}"))
			.withMessageContaining("'{'");
	}

}
