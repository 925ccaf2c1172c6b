package io.tagcache.interceptor;

import java.time.Duration;

import io.tagcache.TaggedCacheManager;
import io.tagcache.interceptor.TaggedCachingIntegrationTests.User;
import io.tagcache.interceptor.TaggedCachingIntegrationTests.UserService;
import io.tagcache.redis.RedisTaggedCacheManager;
import io.tagcache.redis.TestCaches;
import io.tagcache.redis.TypeAllowList;
import io.tagcache.test.RedisServer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guarantee 6 through the annotations: with Redis gone, annotated methods still return their own
 * result (nothing is stored: the fence cannot be read), an invalidation is queued for replay rather
 * than lost or thrown at the caller, and caching resumes when Redis is back. Uses a Redis server of
 * its own, which it kills and restarts.
 */
class TaggedCachingRedisFailureIntegrationTests {

	private RedisServer server;

	private LettuceConnectionFactory connectionFactory;

	private AnnotationConfigApplicationContext context;

	@BeforeEach
	void start() {
		this.server = RedisServer.start();
		this.connectionFactory = TestCaches.failFastConnectionFactory(this.server);
		this.context = new AnnotationConfigApplicationContext();
		this.context.registerBean(TaggedCacheManager.class, () -> RedisTaggedCacheManager
			.builder(this.connectionFactory)
			.coolDown(Duration.ofMillis(200))
			.allowedTypes(TypeAllowList.jdkValueTypes().and(User.class.getPackageName()))
			.build());
		this.context.register(TaggedCachingConfiguration.class, UserService.class);
		this.context.refresh();
	}

	@AfterEach
	void stop() {
		this.context.close();
		this.connectionFactory.destroy();
		this.server.close();
	}

	@Test
	void annotatedMethodsKeepWorkingWithoutRedisAndCachingResumes() {
		UserService users = this.context.getBean(UserService.class);
		users.byId(1);
		users.byId(1);
		assertThat(users.calls("byId")).isEqualTo(1);
		this.server.kill();

		assertThat(users.byId(1).id()).isEqualTo(1);
		assertThat(users.byId(1).id()).isEqualTo(1);
		assertThat(users.calls("byId")).isEqualTo(3);
		users.save(users.row(1));
		RedisTaggedCacheManager manager = this.context.getBean(RedisTaggedCacheManager.class);
		assertThat(manager.getPendingInvalidations()).as("queued for replay, not dropped").isEqualTo(1);

		this.server.restart();
		Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
			int before = users.calls("byId");
			users.byId(2);
			users.byId(2);
			assertThat(users.calls("byId")).isLessThanOrEqualTo(before + 1);
		});
		assertThat(manager.getPendingInvalidations()).as("replayed").isZero();
		users.save(users.row(2));
		users.byId(2);
		assertThat(this.context.getBean(TagCacheInterceptor.class).getUncachedResults()).isZero();
	}

}
