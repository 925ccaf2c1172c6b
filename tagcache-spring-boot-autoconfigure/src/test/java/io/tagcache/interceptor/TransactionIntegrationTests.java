package io.tagcache.interceptor;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import javax.sql.DataSource;

import io.tagcache.TagInvalidator;
import io.tagcache.TaggedCacheManager;
import io.tagcache.TagsInvalidatedEvent;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheConfiguration;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.test.RedisTopology;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.event.EventListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * Invalidations inside Spring transactions, with a real {@link DataSourceTransactionManager} on H2
 * (read committed): a reader racing a transaction paused just before its commit (after its
 * invalidation, when the advice runs inside the transaction) neither stores the old row while the
 * transaction runs nor finds it after the call returned, whichever advisor encloses the other; a
 * rollback leaves nothing stale and caching resumes; {@code TransactionTemplate} with
 * {@link TagInvalidator}; a second application context on the same prefix; and a value loaded inside
 * the invalidating transaction (its own uncommitted row) is never stored. Each runs with and without
 * a near cache, which must keep the same guarantees (it keeps only what Redis stored, and drops what an
 * invalidation reached).
 */
@ParameterizedClass
@MethodSource("settings")
class TransactionIntegrationTests {

	@Parameter(0)
	RedisTopology redis;

	@Parameter(1)
	boolean nearCache;

	static Stream<Arguments> settings() {
		return Stream.of(RedisTopology.values())
			.flatMap(topology -> Stream.of(Arguments.of(topology, false), Arguments.of(topology, true)));
	}

	private String prefix;

	private String database;

	private AnnotationConfigApplicationContext context;

	private Users users;

	private final CountDownLatch atCommit = new CountDownLatch(1);

	private final CountDownLatch commit = new CountDownLatch(1);

	@BeforeEach
	void start() {
		this.prefix = "t" + UUID.randomUUID();
		this.database = "jdbc:h2:mem:" + this.prefix + ";DB_CLOSE_DELAY=-1";
		this.context = context(true);
		this.users = this.context.getBean(Users.class);
		this.users.jdbc().execute("create table users (id bigint primary key, name varchar(50))");
		this.users.jdbc().update("insert into users values (1, 'old')");
	}

	@AfterEach
	void stop() {
		this.commit.countDown();
		this.context.close();
	}

	@Test
	void aReaderRacingATransactionWhoseAdviceRunsInsideItNeitherStoresNorReadsTheOldRow() throws Exception {
		assertThat(this.users.name(1)).isEqualTo("old");
		CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> this.users.rename(1, "new", pauseBeforeCommit()));
		assertThat(this.atCommit.await(10, TimeUnit.SECONDS)).isTrue();

		assertThat(this.users.name(1)).as("the committed row, while the transaction runs").isEqualTo("old");
		assertThat(cached(this.context)).as("held: not stored while the transaction runs").isNull();

		this.commit.countDown();
		writer.get(10, TimeUnit.SECONDS);
		assertThat(this.users.name(1)).isEqualTo("new");
		assertThat(this.users.name(1)).isEqualTo("new");
		assertThat(cached(this.context)).isEqualTo("new");
	}

	@Test
	void aReaderRacingATransactionThatTheAdviceEnclosesFindsTheNewRowOnceTheCallReturned() throws Exception {
		this.context.close();
		this.context = context(false);
		this.users = this.context.getBean(Users.class);
		assertThat(this.users.name(1)).isEqualTo("old");
		CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> this.users.rename(1, "new", pauseBeforeCommit()));
		assertThat(this.atCommit.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(this.users.name(1)).isEqualTo("old");

		this.commit.countDown();
		writer.get(10, TimeUnit.SECONDS);
		assertThat(this.users.name(1)).isEqualTo("new");
	}

	@Test
	void anInvalidationBeforeTheInvocationOfATransactionTheAdviceEnclosesIsIssuedAgainAfterIt() throws Exception {
		this.context.close();
		this.context = context(false);
		this.users = this.context.getBean(Users.class);
		assertThat(this.users.name(1)).isEqualTo("old");
		CompletableFuture<Void> writer = CompletableFuture
			.runAsync(() -> this.users.renameInvalidatingFirst(1, "new", pauseBeforeCommit()));
		assertThat(this.atCommit.await(10, TimeUnit.SECONDS)).isTrue();
		assertThat(this.users.name(1)).as("stored again while the transaction runs").isEqualTo("old");

		this.commit.countDown();
		writer.get(10, TimeUnit.SECONDS);
		assertThat(this.users.name(1)).isEqualTo("new");
	}

	@Test
	void afterARollbackNothingStaleRemainsAndCachingResumes() {
		assertThat(this.users.name(1)).isEqualTo("old");
		assertThatIllegalStateException().isThrownBy(() -> this.users.renameInvalidatingFirst(1, "new", status -> {
			assertThat(this.users.name(1)).as("its own uncommitted row").isEqualTo("new");
			throw new IllegalStateException("rolled back");
		}));
		int loads = this.users.loads();
		assertThat(this.users.name(1)).isEqualTo("old");
		assertThat(this.users.name(1)).isEqualTo("old");
		assertThat(this.users.loads()).as("loaded once, then cached again").isEqualTo(loads + 1);
	}

	@Test
	void transactionTemplateWithTagInvalidatorHoldsTheTagUntilTheCommit() throws Exception {
		assertThat(this.users.name(1)).isEqualTo("old");
		CompletableFuture<Void> writer = renameToNewPausedAtCommit(invalidator -> invalidator.invalidate("user-1"));

		// another application context on the same prefix reads meanwhile
		try (AnnotationConfigApplicationContext other = context(true)) {
			Users otherUsers = other.getBean(Users.class);
			assertThat(otherUsers.name(1)).isEqualTo("old");
			assertThat(cached(other)).as("held in Redis for every instance").isNull();
			this.commit.countDown();
			writer.get(10, TimeUnit.SECONDS);
			assertThat(otherUsers.name(1)).isEqualTo("new");
		}
	}

	@Test
	void aSoftInvalidationInsideATransactionHoldsTheTagUntilTheCommit() throws Exception {
		assertThat(this.users.name(1)).isEqualTo("old");
		CompletableFuture<Void> writer = renameToNewPausedAtCommit(
				invalidator -> assertThat(invalidator.softInvalidate("user-1")).isEqualTo(1));

		try (AnnotationConfigApplicationContext other = context(true)) {
			Users otherUsers = other.getBean(Users.class);
			assertThat(otherUsers.name(1)).as("the committed row, reloaded but not stored: the tag is held")
				.isEqualTo("old");
			assertThat(cached(other)).as("stale, a miss for a plain lookup").isNull();
			this.commit.countDown();
			writer.get(10, TimeUnit.SECONDS);
			assertThat(otherUsers.name(1)).isEqualTo("new");
			assertThat(cached(other)).isEqualTo("new");
		}
	}

	@Test
	void theInvalidationEventOfATransactionIsPublishedWhenItCompletesNotBefore() throws Exception {
		assertThat(this.users.name(1)).isEqualTo("old");
		Events events = this.context.getBean(Events.class);
		CompletableFuture<Void> writer = renameToNewPausedAtCommit(invalidator -> invalidator.invalidate("user-1"));
		assertThat(events.received).as("held inside the transaction: not published yet").isEmpty();

		this.commit.countDown();
		writer.get(10, TimeUnit.SECONDS);
		assertThat(events.received).singleElement()
			.satisfies(event -> assertThat(event.tags()).containsExactly("user-1"))
			.satisfies(event -> assertThat(event.local()).isTrue())
			.satisfies(event -> assertThat(event.soft()).isFalse());
	}

	@Test
	void aValueLoadedInsideTheInvalidatingTransactionIsNeverStored() {
		assertThat(this.users.name(1)).isEqualTo("old");
		TransactionTemplate transactions = new TransactionTemplate(this.context.getBean(PlatformTransactionManager.class));
		TagInvalidator invalidator = this.context.getBean(TaggedCacheManager.class);
		transactions.executeWithoutResult(status -> {
			this.users.jdbc().update("update users set name = 'uncommitted' where id = 1");
			invalidator.invalidate("user-1");
			assertThat(this.users.name(1)).as("its own uncommitted row").isEqualTo("uncommitted");
			assertThat(cached(this.context)).isNull();
			status.setRollbackOnly();
		});
		assertThat(this.users.name(1)).isEqualTo("old");
	}

	/**
	 * Rename user 1 to "new" in a transaction (a {@code TransactionTemplate}) that invalidates through
	 * {@link TagInvalidator} and pauses before its commit; returns once it is paused there.
	 */
	private CompletableFuture<Void> renameToNewPausedAtCommit(Consumer<TagInvalidator> invalidation)
			throws InterruptedException {
		TransactionTemplate transactions = new TransactionTemplate(this.context.getBean(PlatformTransactionManager.class));
		TagInvalidator invalidator = this.context.getBean(TaggedCacheManager.class);
		CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> transactions.executeWithoutResult(status -> {
			this.users.jdbc().update("update users set name = 'new' where id = 1");
			invalidation.accept(invalidator);
			pauseBeforeCommit().accept(null);
		}));
		assertThat(this.atCommit.await(10, TimeUnit.SECONDS)).isTrue();
		return writer;
	}

	private Consumer<Object> pauseBeforeCommit() {
		return status -> TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {

			@Override
			public void beforeCommit(boolean readOnly) {
				TransactionIntegrationTests.this.atCommit.countDown();
				try {
					TransactionIntegrationTests.this.commit.await(10, TimeUnit.SECONDS);
				}
				catch (InterruptedException ex) {
					Thread.currentThread().interrupt();
				}
			}

		});
	}

	private static Object cached(AnnotationConfigApplicationContext context) {
		var hit = context.getBean(TaggedCacheManager.class).getCache("users").get(1L);
		return (hit != null) ? hit.get() : null;
	}

	/**
	 * A context with the tagcache advice inside the transaction (the transaction advisor first) or
	 * enclosing it.
	 */
	private AnnotationConfigApplicationContext context(boolean adviceInsideTransaction) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.registerBean(TaggedCacheManager.class, () -> RedisTaggedCacheManager
			.builder(this.redis.connectionFactory())
			.keyPrefix(this.prefix)
			.cacheDefaults(RedisTaggedCacheConfiguration.defaultConfig().withNearCache(this.nearCache))
			.withCacheNames("users")
			.build());
		context.registerBean(DataSource.class, () -> new DriverManagerDataSource(this.database));
		context.registerBean(BeanFactoryPostProcessor.class, () -> beanFactory -> ((BeanDefinitionRegistry) beanFactory)
			.getBeanDefinition(TaggedCachingConfiguration.ADVISOR_BEAN_NAME)
			.getPropertyValues()
			.add("order", adviceInsideTransaction ? Ordered.LOWEST_PRECEDENCE : Ordered.HIGHEST_PRECEDENCE));
		context.register(TaggedCachingConfiguration.class,
				adviceInsideTransaction ? TransactionsFirst.class : TransactionsLast.class, Users.class, Events.class);
		context.refresh();
		if (this.nearCache) {
			RedisTaggedCache users = (RedisTaggedCache) context.getBean(TaggedCacheManager.class).getCache("users");
			Awaitility.await().atMost(Duration.ofSeconds(10)).until(users::isNearCacheServing);
		}
		return context;
	}

	/** Collects the {@link TagsInvalidatedEvent}s the manager publishes. */
	static class Events {

		final List<TagsInvalidatedEvent> received = new CopyOnWriteArrayList<>();

		@EventListener
		void on(TagsInvalidatedEvent event) {
			this.received.add(event);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement(order = Ordered.HIGHEST_PRECEDENCE)
	static class TransactionsFirst {

		@Bean
		DataSourceTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@EnableTransactionManagement(order = Ordered.LOWEST_PRECEDENCE)
	static class TransactionsLast {

		@Bean
		DataSourceTransactionManager transactionManager(DataSource dataSource) {
			return new DataSourceTransactionManager(dataSource);
		}

	}

	static class Users {

		final JdbcTemplate jdbc;

		final AtomicInteger loads = new AtomicInteger();

		Users(DataSource dataSource) {
			this.jdbc = new JdbcTemplate(dataSource);
		}

		// accessors, not fields: callers hold a class-based proxy
		public JdbcTemplate jdbc() {
			return this.jdbc;
		}

		public int loads() {
			return this.loads.get();
		}

		@CacheableTagged(cacheNames = "users", key = "#id", tags = "'user-' + #id")
		public String name(long id) {
			this.loads.incrementAndGet();
			return this.jdbc.queryForObject("select name from users where id = ?", String.class, id);
		}

		@Transactional
		@InvalidateTags("'user-' + #id")
		public void rename(long id, String name, Consumer<Object> inTransaction) {
			this.jdbc.update("update users set name = ? where id = ?", name, id);
			inTransaction.accept(null);
		}

		@Transactional
		@InvalidateTags(tags = "'user-' + #id", beforeInvocation = true)
		public void renameInvalidatingFirst(long id, String name, Consumer<Object> inTransaction) {
			this.jdbc.update("update users set name = ? where id = ?", name, id);
			inTransaction.accept(null);
		}

	}

}
