package io.tagcache.interceptor;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import io.tagcache.TagInvalidator;
import io.tagcache.TaggedCache;
import io.tagcache.TaggedCacheManager;
import io.tagcache.UncachedCause;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.annotation.TagEntity;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TypeAllowList;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.cache.annotation.CacheEvict;
import org.springframework.cache.annotation.Cacheable;
import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The scenarios that motivate tagcache, each through annotated beans against real Redis, standalone and
 * cluster. Every test runs in its own application context with its own key prefix, and counts how often
 * each method body really runs: a cache hit is a call that did not increase the count.
 *
 * <p>The context imports {@link TaggedCachingConfiguration} and declares a cache manager, nothing else:
 * no {@code @Enable...} annotation is involved (except in the test that combines both on purpose).
 */
@ParameterizedClass
@EnumSource(RedisTopology.class)
@ExtendWith(OutputCaptureExtension.class)
class TaggedCachingIntegrationTests {

	@Parameter
	RedisTopology redis;

	private AnnotationConfigApplicationContext context;

	private String prefix;

	private UserService users;

	@BeforeEach
	void startContext() {
		this.prefix = "t" + UUID.randomUUID();
		this.context = createContext();
		this.users = this.context.getBean(UserService.class);
	}

	@AfterEach
	void closeContext() {
		if (this.context != null) {
			this.context.close();
		}
	}

	private AnnotationConfigApplicationContext createContext(Class<?>... extraComponents) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.registerBean(TaggedCacheManager.class,
				() -> RedisTaggedCacheManager.builder(this.redis.connectionFactory())
					.keyPrefix(this.prefix)
					.allowedTypes(TypeAllowList.jdkValueTypes().and(User.class.getPackageName()))
					.build());
		context.register(TaggedCachingConfiguration.class, UserService.class);
		if (extraComponents.length > 0) {
			context.register(extraComponents);
		}
		context.refresh();
		return context;
	}

	@Test
	void variantsOfOneUserAreDroppedTogether() {
		User one = this.users.byId(1);
		assertThat(this.users.byMail("foo@a")).isEqualTo(one);
		assertThat(this.users.byMail("FoO@a")).isEqualTo(one);
		User two = this.users.byId(2);
		this.users.byId(1);
		this.users.byMail("foo@a");
		this.users.byMail("FoO@a");
		assertThat(this.users.calls("byId")).isEqualTo(2);
		assertThat(this.users.calls("byMail")).isEqualTo(2);

		this.users.save(new User(1, "foo@a", "Foo Renamed", one.location()));

		assertThat(this.users.byId(1).name()).isEqualTo("Foo Renamed");
		assertThat(this.users.byMail("foo@a").name()).isEqualTo("Foo Renamed");
		assertThat(this.users.byMail("FoO@a").name()).isEqualTo("Foo Renamed");
		assertThat(this.users.byId(2)).isEqualTo(two);
		assertThat(this.users.calls("byId")).isEqualTo(3);
		assertThat(this.users.calls("byMail")).isEqualTo(4);
	}

	@Test
	void renamingAnEmbeddedLocationDropsEveryUserInItOnly() {
		this.users.byId(1);
		this.users.byId(2);
		this.users.byId(3);
		assertThat(this.users.calls("byId")).isEqualTo(3);

		this.users.renameLocation(1, "Roma");

		assertThat(this.users.byId(1).location().name()).isEqualTo("Roma");
		assertThat(this.users.byId(2).location().name()).isEqualTo("Roma");
		assertThat(this.users.calls("byId")).isEqualTo(5);
		assertThat(this.users.byId(3).location().name()).isEqualTo("Milano");
		assertThat(this.users.calls("byId")).isEqualTo(5);
	}

	@Test
	void movingAUserRefreshesBothListsAndNoOther() {
		assertThat(this.users.usersByLocation(1)).extracting(User::id).containsExactly(1L, 2L);
		assertThat(this.users.usersByLocation(2)).extracting(User::id).containsExactly(3L, 4L);
		assertThat(this.users.usersByLocation(3)).isEmpty();
		this.users.usersByLocation(1);
		this.users.usersByLocation(2);
		this.users.usersByLocation(3);
		assertThat(this.users.calls("usersByLocation")).isEqualTo(3);

		this.users.move(2, 2);

		assertThat(this.users.usersByLocation(1)).extracting(User::id).containsExactly(1L);
		assertThat(this.users.usersByLocation(2)).extracting(User::id).containsExactly(2L, 3L, 4L);
		assertThat(this.users.calls("usersByLocation")).isEqualTo(5);
		assertThat(this.users.usersByLocation(3)).isEmpty();
		assertThat(this.users.calls("usersByLocation")).isEqualTo(5);
	}

	@Test
	void invalidatingOneTenantLeavesTheOther() {
		this.users.report("A", "sales");
		this.users.report("A", "costs");
		this.users.report("B", "sales");
		this.users.tenantChanged("A");

		this.users.report("A", "sales");
		this.users.report("A", "costs");
		this.users.report("B", "sales");
		assertThat(this.users.calls("report")).isEqualTo(5);
	}

	@Test
	void aTagReachesEveryCache() {
		this.users.byId(1);
		this.users.profile(1);
		this.users.usersByLocation(1);
		this.users.byId(3);

		this.context.getBean(TagInvalidator.class).invalidate("user-1");

		this.users.byId(1);
		this.users.profile(1);
		this.users.usersByLocation(1);
		this.users.byId(3);
		assertThat(this.users.calls("byId")).isEqualTo(3);
		assertThat(this.users.calls("profile")).isEqualTo(2);
		assertThat(this.users.calls("usersByLocation")).isEqualTo(2);
	}

	@Test
	void conditionAndUnlessCacheAndTagNothing() {
		this.users.conditional(-1);
		this.users.conditional(-1);
		this.users.conditional(4);
		this.users.conditional(4);
		assertThat(this.users.calls("conditional")).isEqualTo(4);
		assertThat(this.redis.admin().scan(this.prefix + ":*")).noneMatch((key) -> key.contains(":e:")
				|| key.contains(":t:"));

		this.users.conditional(1);
		this.users.conditional(1);
		assertThat(this.users.calls("conditional")).isEqualTo(5);
	}

	@Test
	void invalidationAfterInvocationIsSkippedWhenTheMethodThrows() {
		this.users.byId(1);
		assertThatIllegalStateException().isThrownBy(() -> this.users.failAfterChange(1)).withMessage("boom");
		this.users.byId(1);
		assertThat(this.users.calls("byId")).isEqualTo(1);
	}

	@Test
	void invalidationBeforeInvocationHappensEvenWhenTheMethodThrows() {
		this.users.byId(1);
		assertThatIllegalStateException().isThrownBy(() -> this.users.failBeforeChange(1)).withMessage("boom");
		this.users.byId(1);
		assertThat(this.users.calls("byId")).isEqualTo(2);
	}

	@Test
	void invalidationConditionSeesTheResult() {
		this.users.byId(1);
		this.users.byId(2);
		assertThat(this.users.touch(1, false)).isFalse();
		assertThat(this.users.touch(2, true)).isTrue();
		this.users.byId(1);
		this.users.byId(2);
		assertThat(this.users.calls("byId")).isEqualTo(3);
	}

	@Test
	void syncLoadsOnceForSixteenConcurrentCallers() throws Exception {
		int threads = 16;
		CountDownLatch entered = new CountDownLatch(threads);
		this.users.slowCallersEnter(entered);
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		try {
			List<Future<User>> results = new ArrayList<>();
			for (int i = 0; i < threads; i++) {
				results.add(pool.submit(() -> {
					entered.countDown();
					return this.users.slow(1);
				}));
			}
			for (Future<User> result : results) {
				assertThat(result.get(30, TimeUnit.SECONDS).id()).isEqualTo(1);
			}
		}
		finally {
			pool.shutdownNow();
		}
		assertThat(this.users.calls("slow")).isEqualTo(1);
	}

	@Test
	void syncNeverHandsACallerAfterAnInvalidationTheLoadThatStartedBeforeIt() {
		User old = this.users.row(1);
		CompletableFuture<User> pending = new CompletableFuture<>();
		this.users.nextFuture(pending);
		CompletableFuture<User> first = this.users.asyncSync(1);
		// the method is called once the lookup and the fence read completed, on the thread that completed them
		awaitCalls("asyncSync", 1);

		this.context.getBean(TaggedCacheManager.class).invalidate("user-1");
		User renamed = new User(1, old.mail(), "Renamed", old.location());
		this.users.nextFuture(CompletableFuture.completedFuture(renamed));
		CompletableFuture<User> second = this.users.asyncSync(1);

		assertThat(second.join()).isEqualTo(renamed);
		assertThat(this.users.calls("asyncSync")).as("the second caller loads on its own").isEqualTo(2);
		pending.complete(old);
		assertThat(first.join()).as("the first caller called before the invalidation").isEqualTo(old);
		assertThat(this.users.asyncSync(1).join()).isEqualTo(renamed);
	}

	private void awaitCalls(String method, int calls) {
		Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> this.users.calls(method) >= calls);
		assertThat(this.users.calls(method)).isEqualTo(calls);
	}

	@Test
	void softInvalidationServesTheStaleEntryToAPlainLookupAsAMissAndReloadsOnTheNextCall() {
		this.users.byId(1);
		TaggedCache cache = this.context.getBean(TaggedCacheManager.class).getCache("users");
		this.users.touchSoftly(1);
		assertThat(cache.get(1L)).as("stale: a plain lookup misses").isNull();

		assertThat(this.users.byId(1).id()).isEqualTo(1);
		assertThat(this.users.calls("byId")).as("the caller that won the refresh called the method").isEqualTo(2);
		assertThat(cache.getStatistics().getRefreshes("stale")).isEqualTo(1);
		assertThat(this.users.byId(1).id()).isEqualTo(1);
		assertThat(this.users.calls("byId")).as("fresh again").isEqualTo(2);
	}

	@Test
	void syncSharesOnePendingFutureBetweenCallers() {
		CompletableFuture<User> pending = new CompletableFuture<>();
		this.users.nextFuture(pending);
		CompletableFuture<User> first = this.users.asyncSync(1);
		CompletableFuture<User> second = this.users.asyncSync(1);
		awaitCalls("asyncSync", 1);
		assertThat(second).isNotDone();

		pending.complete(this.users.row(1));

		assertThat(first.join().id()).isEqualTo(1);
		assertThat(second.join().id()).isEqualTo(1);
		assertThat(this.users.asyncSync(1).join().id()).isEqualTo(1);
		assertThat(this.users.calls("asyncSync")).isEqualTo(1);
	}

	@Test
	void tagResolverBeansTagTypesThatAreNotAnnotated() {
		this.context.close();
		this.context = createContext(InvoiceTags.class);
		this.users = this.context.getBean(UserService.class);
		this.users.invoice("7");
		this.users.invoice("8");
		this.context.getBean(TagInvalidator.class).invalidate("invoice-7");
		this.users.invoice("7");
		this.users.invoice("8");
		assertThat(this.users.calls("invoice")).isEqualTo(3);
	}

	@Test
	void optionalResultsAreCachedByContent() {
		assertThat(this.users.find(1)).map(User::id).contains(1L);
		assertThat(this.users.find(1)).map(User::id).contains(1L);
		assertThat(this.users.find(99)).isEmpty();
		assertThat(this.users.find(99)).isEmpty();
		assertThat(this.users.calls("find")).isEqualTo(2);

		this.users.save(this.users.byId(1));

		assertThat(this.users.find(1)).map(User::id).contains(1L);
		assertThat(this.users.calls("find")).isEqualTo(3);
	}

	@Test
	void completableFutureResultsAreCachedAndTaggedWhenComplete() {
		assertThat(this.users.async(1).join().id()).isEqualTo(1);
		assertThat(this.users.async(1).join().id()).isEqualTo(1);
		assertThat(this.users.calls("async")).isEqualTo(1);
		assertThat(this.redis.admin().<Long>sync((redis) -> redis.pttl(this.prefix + ":{users}:e:cf:1")))
			.as("ttl = \"10m\" of the method, not the cache's hour").isBetween(1L, 600_000L);

		this.users.renameLocation(1, "Roma");

		assertThat(this.users.async(1).join().location().name()).isEqualTo("Roma");
		assertThat(this.users.calls("async")).isEqualTo(2);
	}

	@Test
	void monoAndFluxResultsAreCachedAndTaggedWhenComplete() {
		assertThat(this.users.mono(1).block().id()).isEqualTo(1);
		assertThat(this.users.mono(1).block().id()).isEqualTo(1);
		assertThat(this.users.flux(1).map(User::id).collectList().block()).containsExactly(1L, 2L);
		assertThat(this.users.flux(1).map(User::id).collectList().block()).containsExactly(1L, 2L);
		assertThat(this.users.mono(99).blockOptional()).isEmpty();
		assertThat(this.users.mono(99).blockOptional()).isEmpty();
		assertThat(this.users.calls("mono")).isEqualTo(2);
		assertThat(this.users.calls("flux")).isEqualTo(1);

		this.users.rename(2, "Bea").block();

		this.users.mono(1).block();
		assertThat(this.users.flux(1).map(User::name).collectList().block()).containsExactly("Foo", "Bea");
		assertThat(this.users.calls("mono")).isEqualTo(2);
		assertThat(this.users.calls("flux")).isEqualTo(2);
	}

	@Test
	void aValueLoadedBeforeAnInvalidationOfItsTagsIsNotStored() {
		User stale = this.users.loadWhileUpdated(1);
		assertThat(stale.name()).isEqualTo("Foo");
		assertThat(this.users.loadWhileUpdated(1).name()).isEqualTo("Foo Updated");
		assertThat(this.users.loadWhileUpdated(1).name()).isEqualTo("Foo Updated");
		assertThat(this.users.calls("loadWhileUpdated")).isEqualTo(2);
	}

	@Test
	void aFailingTagExpressionReturnsTheResultUncached() {
		TagCacheInterceptor interceptor = this.context.getBean(TagCacheInterceptor.class);
		assertThat(this.users.badTag(1).id()).isEqualTo(1);
		assertThat(this.users.badTag(1).id()).isEqualTo(1);
		assertThat(this.users.calls("badTag")).isEqualTo(2);
		assertThat(interceptor.getUncachedResults()).isEqualTo(2);
		assertThat(this.redis.admin().scan(this.prefix + ":*")).noneMatch((key) -> key.contains(":e:"));
	}

	@Test
	void aNullConcatenatedIntoATagIsATagFailureNotTheTextNull() {
		TagCacheInterceptor interceptor = this.context.getBean(TagCacheInterceptor.class);
		this.users.ownedBy(1, null);
		this.users.ownedBy(1, null);
		assertThat(this.users.calls("ownedBy")).as("never stored as owner-null").isEqualTo(2);
		assertThat(interceptor.getUncachedResults(UncachedCause.TAG_EXPRESSION)).isEqualTo(2);

		this.users.ownedBy(2, "null");
		this.users.ownedBy(2, "null");
		assertThat(this.users.calls("ownedBy")).as("the text \"null\" is a tag like any other").isEqualTo(3);
		assertThat(interceptor.getUncachedResults(UncachedCause.TAG_EXPRESSION)).isEqualTo(2);
	}

	@Test
	void anEntryStoredWithNoTagIsReportedOncePerMethod(CapturedOutput output) {
		this.users.greeting("Ann");
		this.users.greeting("Bob");
		assertThat(this.users.greeting("Ann")).isEqualTo("Hello Ann");
		assertThat(this.users.calls("greeting")).as("still cached").isEqualTo(2);
		String warning = "An entry of " + UserService.class.getName() + ".greeting(String) was stored with no tag";
		assertThat(output.getOut().split(java.util.regex.Pattern.quote(warning), -1)).hasSize(2);
		assertThat(output).contains("tags = \"'user-' + #id\"");
	}

	@Test
	void aFailingInvalidationExpressionFailsTheCall() {
		assertThatIllegalStateException().isThrownBy(() -> this.users.badInvalidation(1))
			.withMessageContaining("tag expression '#root.args[3].id' on " + UserService.class.getName()
					+ ".badInvalidation(long)");
	}

	@Test
	void springCacheableAndCacheEvictWorkOnTheSameCaches() {
		this.context.close();
		this.context = createContext(EnableSpringCaching.class, SpringUserService.class);
		this.users = this.context.getBean(UserService.class);
		SpringUserService spring = this.context.getBean(SpringUserService.class);

		User one = this.users.byId(1);
		assertThat(spring.byId(1)).isEqualTo(one);
		assertThat(spring.calls()).isZero();

		this.users.save(one);
		assertThat(spring.byId(1)).isEqualTo(one);
		assertThat(spring.calls()).isEqualTo(1);
		assertThat(this.users.byId(1)).isEqualTo(one);
		assertThat(this.users.calls("byId")).isEqualTo(1);

		spring.evict(1);
		assertThat(this.users.byId(1)).isEqualTo(one);
		assertThat(this.users.calls("byId")).isEqualTo(2);
	}

	@TagEntity("loc")
	record Location(long id, String name) {
	}

	@TagEntity("user")
	record User(long id, String mail, String name, Location location) {
	}

	/** A type tagcache knows nothing about, tagged by a resolver. */
	record Invoice(String number) {
	}

	@Configuration(proxyBeanMethods = false)
	static class InvoiceTags {

		@Bean
		TagResolver invoiceTags() {
			return (value) -> (value instanceof Invoice invoice) ? List.of("invoice-" + invoice.number()) : List.of();
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableCaching
	static class EnableSpringCaching {

	}

	static class SpringUserService {

		private final AtomicInteger calls = new AtomicInteger();

		private final UserService users;

		SpringUserService(UserService users) {
			this.users = users;
		}

		int calls() {
			return this.calls.get();
		}

		@Cacheable(cacheNames = "users", key = "#id")
		public User byId(long id) {
			this.calls.incrementAndGet();
			return this.users.row(id);
		}

		@CacheEvict(cacheNames = "users", key = "#id")
		public void evict(long id) {
		}

	}

	/** A user service over an in-memory database, counting how often each method body runs. */
	static class UserService {

		private final Map<Long, Location> locations = new ConcurrentHashMap<>();

		private final Map<Long, User> database = new ConcurrentHashMap<>();

		private final Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();

		private final TagInvalidator invalidator;

		// Set through methods: the test holds the proxy, whose own fields are not the target's.
		private volatile CountDownLatch slowEntered = new CountDownLatch(0);

		private volatile CompletableFuture<User> pending;

		public void slowCallersEnter(CountDownLatch entered) {
			this.slowEntered = entered;
		}

		public void nextFuture(CompletableFuture<User> future) {
			this.pending = future;
		}

		UserService(TagInvalidator invalidator) {
			this.invalidator = invalidator;
			this.locations.put(1L, new Location(1, "Rome"));
			this.locations.put(2L, new Location(2, "Milano"));
			this.locations.put(3L, new Location(3, "Empty"));
			this.database.put(1L, new User(1, "foo@a", "Foo", this.locations.get(1L)));
			this.database.put(2L, new User(2, "bar@a", "Bar", this.locations.get(1L)));
			this.database.put(3L, new User(3, "baz@a", "Baz", this.locations.get(2L)));
			this.database.put(4L, new User(4, "tmp@a", "Temporary", this.locations.get(2L)));
		}

		/** Reads the database without any cache. */
		public User row(long id) {
			return this.database.get(id);
		}

		int calls(String method) {
			return this.calls.computeIfAbsent(method, (name) -> new AtomicInteger()).get();
		}

		private void count(String method) {
			this.calls.computeIfAbsent(method, (name) -> new AtomicInteger()).incrementAndGet();
		}

		@CacheableTagged(cacheNames = "users", key = "#id")
		public User byId(long id) {
			count("byId");
			return this.database.get(id);
		}

		@CacheableTagged(value = "users", key = "'mail:' + #mail")
		public User byMail(String mail) {
			count("byMail");
			return this.database.values().stream().filter((user) -> user.mail().equalsIgnoreCase(mail)).findFirst()
				.orElseThrow();
		}

		@CacheableTagged(cacheNames = "userLists", tags = "'loc-' + #locationId")
		public List<User> usersByLocation(long locationId) {
			count("usersByLocation");
			return this.database.values().stream().filter((user) -> user.location().id() == locationId)
				.sorted((a, b) -> Long.compare(a.id(), b.id())).toList();
		}

		@CacheableTagged(cacheNames = "profiles", key = "#id", tags = "'user-' + #id")
		public String profile(long id) {
			count("profile");
			return "Profile of " + this.database.get(id).name();
		}

		@CacheableTagged(cacheNames = "reports", key = "#tenant + ':' + #name", tags = "'tenant-' + #tenant")
		public String report(String tenant, String name) {
			count("report");
			return tenant + " " + name;
		}

		@InvalidateTags("'tenant-' + #tenant")
		public void tenantChanged(String tenant) {
		}

		@InvalidateTags("'user-' + #user.id")
		public void save(User user) {
			this.database.put(user.id(), user);
		}

		@InvalidateTags("'loc-' + #id")
		public void renameLocation(long id, String name) {
			Location renamed = new Location(id, name);
			this.locations.put(id, renamed);
			this.database.replaceAll((key, user) -> (user.location().id() == id)
					? new User(user.id(), user.mail(), user.name(), renamed) : user);
		}

		@InvalidateTags({ "'user-' + #userId", "'loc-' + #to" })
		public void move(long userId, long to) {
			User user = this.database.get(userId);
			this.database.put(userId, new User(userId, user.mail(), user.name(), this.locations.get(to)));
		}

		@CacheableTagged(cacheNames = "users", key = "'cond:' + #id", condition = "#id > 0",
				unless = "#result.mail().startsWith('tmp')")
		public User conditional(long id) {
			count("conditional");
			return this.database.getOrDefault(id, this.database.get(1L));
		}

		@InvalidateTags("'user-' + #id")
		public void failAfterChange(long id) {
			throw new IllegalStateException("boom");
		}

		@InvalidateTags(value = "'user-' + #id", soft = true)
		public void touchSoftly(long id) {
			count("touchSoftly");
		}

		@InvalidateTags(tags = "'user-' + #id", beforeInvocation = true)
		public void failBeforeChange(long id) {
			throw new IllegalStateException("boom");
		}

		@InvalidateTags(value = "'user-' + #id", condition = "#result")
		public boolean touch(long id, boolean changed) {
			return changed;
		}

		@CacheableTagged(cacheNames = "users", key = "'slow:' + #id", sync = true)
		public User slow(long id) throws InterruptedException {
			count("slow");
			assertThat(this.slowEntered.await(30, TimeUnit.SECONDS)).isTrue();
			return this.database.get(id);
		}

		@CacheableTagged(cacheNames = "users", key = "'opt:' + #id")
		public Optional<User> find(long id) {
			count("find");
			return Optional.ofNullable(this.database.get(id));
		}

		@CacheableTagged(cacheNames = "users", key = "'cf:' + #id", ttl = "10m")
		public CompletableFuture<User> async(long id) {
			count("async");
			return CompletableFuture.supplyAsync(() -> this.database.get(id));
		}

		@CacheableTagged(cacheNames = "users", key = "'cfsync:' + #id", sync = true)
		public CompletableFuture<User> asyncSync(long id) {
			count("asyncSync");
			return this.pending;
		}

		@CacheableTagged("invoices")
		public Invoice invoice(String number) {
			count("invoice");
			return new Invoice(number);
		}

		@CacheableTagged(cacheNames = "users", key = "'mono:' + #id", ttl = "PT10M")
		public Mono<User> mono(long id) {
			count("mono");
			return Mono.fromCallable(() -> this.database.get(id));
		}

		@CacheableTagged(cacheNames = "userLists", key = "'flux:' + #locationId")
		public Flux<User> flux(long locationId) {
			count("flux");
			return Flux.fromIterable(usersByLocationUncached(locationId));
		}

		@InvalidateTags("'user-' + #result.id")
		public Mono<User> rename(long id, String name) {
			return Mono.fromCallable(() -> {
				User user = this.database.get(id);
				User renamed = new User(id, user.mail(), name, user.location());
				this.database.put(id, renamed);
				return renamed;
			});
		}

		/** Reads the user, then the user is updated (and its tag invalidated) before the value is stored. */
		@CacheableTagged(cacheNames = "users", key = "'race:' + #id")
		public User loadWhileUpdated(long id) {
			count("loadWhileUpdated");
			User read = this.database.get(id);
			if (calls("loadWhileUpdated") == 1) {
				this.database.put(id, new User(id, read.mail(), read.name() + " Updated", read.location()));
				this.invalidator.invalidate("user-" + id);
			}
			return read;
		}

		@CacheableTagged(cacheNames = "users", key = "'bad:' + #id", tags = "#result.nope")
		public User badTag(long id) {
			count("badTag");
			return this.database.get(id);
		}

		@InvalidateTags("#root.args[3].id")
		public void badInvalidation(long id) {
		}

		@CacheableTagged(cacheNames = "users", key = "'owned:' + #id", tags = "'owner-' + #owner")
		public User ownedBy(long id, String owner) {
			count("ownedBy");
			return this.database.get(id);
		}

		@CacheableTagged(cacheNames = "greetings")
		public String greeting(String name) {
			count("greeting");
			return "Hello " + name;
		}

		private List<User> usersByLocationUncached(long locationId) {
			return this.database.values().stream().filter((user) -> user.location().id() == locationId)
				.sorted((a, b) -> Long.compare(a.id(), b.id())).toList();
		}

	}

}
