package io.tagcache.interceptor;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

import io.tagcache.TaggedCacheManager;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.annotation.TagEntity;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TypeAllowList;
import io.tagcache.test.RedisTopology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import org.springframework.context.annotation.AnnotationConfigApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Results that are not entities themselves (a page, a team, a DTO with getters) carry the tags of the
 * entities inside them, so invalidating one of those entities drops them: through annotated beans
 * against real Redis, standalone and cluster. Before issue 11 such results were stored without the
 * tags of their content and stayed cached, stale, after the invalidation.
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
class WrappedResultsIntegrationTests {

	@Parameter
	RedisTopology redis;

	private AnnotationConfigApplicationContext context;

	private Directory directory;

	@BeforeEach
	void startContext() {
		String prefix = "w" + UUID.randomUUID();
		this.context = new AnnotationConfigApplicationContext();
		this.context.registerBean(TaggedCacheManager.class,
				() -> RedisTaggedCacheManager.builder(this.redis.connectionFactory())
					.keyPrefix(prefix)
					.allowedTypes(TypeAllowList.jdkValueTypes().and(Member.class.getPackageName()))
					.build());
		this.context.register(TaggedCachingConfiguration.class, Directory.class);
		this.context.refresh();
		this.directory = this.context.getBean(Directory.class);
	}

	@AfterEach
	void closeContext() {
		if (this.context != null) {
			this.context.close();
		}
	}

	@Test
	void aPageOfUsersIsDroppedWithAnyOfItsUsers() {
		assertThat(this.directory.page(0).items()).extracting(Member::name).containsExactly("Ada", "Bob");
		assertThat(this.directory.page(1).items()).extracting(Member::name).containsExactly("Cy");
		this.directory.page(0);
		this.directory.page(1);
		assertThat(this.directory.calls("page")).isEqualTo(2);

		this.directory.rename(2, "Bobby");

		assertThat(this.directory.page(0).items()).extracting(Member::name).containsExactly("Ada", "Bobby");
		assertThat(this.directory.calls("page")).isEqualTo(3);
		assertThat(this.directory.page(1).items()).extracting(Member::name).containsExactly("Cy");
		assertThat(this.directory.calls("page")).isEqualTo(3);
	}

	@Test
	void aTeamHoldingUsersInAMapIsDroppedWithAnyOfThem() {
		assertThat(this.directory.team("core").members()).containsOnlyKeys("lead", "dev");
		assertThat(this.directory.team("ops").members()).containsOnlyKeys("lead");
		this.directory.team("core");
		this.directory.team("ops");
		assertThat(this.directory.calls("team")).isEqualTo(2);

		this.directory.rename(1, "Ada L.");

		assertThat(this.directory.team("core").members().get("lead").name()).isEqualTo("Ada L.");
		assertThat(this.directory.calls("team")).isEqualTo(3);
		this.directory.team("ops");
		assertThat(this.directory.calls("team")).isEqualTo(3);
	}

	@Test
	void aBeanWithGettersIsDroppedWithTheUserItHolds() {
		assertThat(this.directory.profile(3).getMember()).map(Member::name).hasValue("Cy");
		this.directory.profile(3);
		assertThat(this.directory.calls("profile")).isEqualTo(1);

		this.directory.rename(3, "Cyrus");

		assertThat(this.directory.profile(3).getMember()).map(Member::name).hasValue("Cyrus");
		assertThat(this.directory.calls("profile")).isEqualTo(2);
	}

	@Test
	void aWrapperWhoseGetterThrowsIsReturnedUncached() {
		TagCacheInterceptor interceptor = this.context.getBean(TagCacheInterceptor.class);
		assertThat(this.directory.unloaded(1)).isInstanceOf(Unloaded.class);
		assertThat(this.directory.unloaded(1)).isInstanceOf(Unloaded.class);
		assertThat(this.directory.calls("unloaded")).isEqualTo(2);
		assertThat(interceptor.getUncachedResults()).isEqualTo(2);
	}

	@TagEntity("user")
	record Member(long id, String name) {
	}

	record Page<T>(List<T> items, long total) {
	}

	record Team(String name, Map<String, Member> members) {
	}

	/** A DTO written through its getters; not an entity. */
	static class Profile {

		private Member member;

		private int rank;

		public Optional<Member> getMember() {
			return Optional.ofNullable(this.member);
		}

		public void setMember(Optional<Member> member) {
			this.member = member.orElse(null);
		}

		public int getRank() {
			return this.rank;
		}

		public void setRank(int rank) {
			this.rank = rank;
		}

	}

	/** A DTO whose lazy association cannot be loaded any more: neither its tags nor its JSON can be written. */
	static class Unloaded {

		public Member getMember() {
			throw new IllegalStateException("could not initialize proxy - no Session");
		}

	}

	static class Directory {

		private final ConcurrentMap<Long, Member> members = new ConcurrentHashMap<>(
				Map.of(1L, new Member(1, "Ada"), 2L, new Member(2, "Bob"), 3L, new Member(3, "Cy")));

		private final ConcurrentMap<String, AtomicInteger> calls = new ConcurrentHashMap<>();

		@CacheableTagged("pages")
		public Page<Member> page(int number) {
			count("page");
			List<Member> items = (number == 0) ? List.of(this.members.get(1L), this.members.get(2L))
					: List.of(this.members.get(3L));
			return new Page<>(items, this.members.size());
		}

		@CacheableTagged("teams")
		public Team team(String name) {
			count("team");
			return name.equals("core") ? new Team(name, Map.of("lead", this.members.get(1L), "dev", this.members.get(2L)))
					: new Team(name, Map.of("lead", this.members.get(3L)));
		}

		@CacheableTagged("profiles")
		public Profile profile(long id) {
			count("profile");
			Profile profile = new Profile();
			profile.setMember(Optional.of(this.members.get(id)));
			profile.setRank((int) id);
			return profile;
		}

		@CacheableTagged("profiles")
		public Unloaded unloaded(long id) {
			count("unloaded");
			return new Unloaded();
		}

		@InvalidateTags("'user-' + #id")
		public void rename(long id, String name) {
			this.members.put(id, new Member(id, name));
		}

		int calls(String method) {
			AtomicInteger count = this.calls.get(method);
			return (count != null) ? count.get() : 0;
		}

		private void count(String method) {
			this.calls.computeIfAbsent(method, (name) -> new AtomicInteger()).incrementAndGet();
		}

	}

}
