package io.tagcache.benchmarks;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.LongConsumer;
import java.util.function.UnaryOperator;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.tagcache.interceptor.TaggedCachingConfiguration;
import io.tagcache.redis.RedisTaggedCache;
import io.tagcache.redis.RedisTaggedCacheManager;
import tools.jackson.databind.json.JsonMapper;

import org.springframework.cache.annotation.EnableCaching;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.cache.RedisCache;
import org.springframework.data.redis.cache.RedisCacheConfiguration;
import org.springframework.data.redis.cache.RedisCacheManager;
import org.springframework.data.redis.cache.RedisCacheWriter;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.serializer.JacksonJsonRedisSerializer;
import org.springframework.data.redis.serializer.RedisSerializationContext.SerializationPair;

/**
 * Everything a benchmark compares, on one Redis that the benchmark started:
 * <ul>
 * <li>tagcache: an {@link AnnotationConfigApplicationContext} importing
 * {@link TaggedCachingConfiguration} (what the auto-configuration imports) with a
 * {@link RedisTaggedCacheManager} bean on its own {@link LettuceConnectionFactory};</li>
 * <li>spring-data-redis: a context with {@code @EnableCaching} and two {@link RedisCacheManager}s
 * (default deferred writes, and {@code immediateWrites()}) on another factory, values written by
 * {@link JacksonJsonRedisSerializer} with the same Jackson 3 mapper, so both store the same JSON;</li>
 * <li>raw Lettuce: one shared connection ({@link ByteArrayCodec}), sync API, as the floor.</li>
 * </ul>
 * Both factories share their native connection across threads (the default), as the raw client does.
 */
public final class CacheStacks implements AutoCloseable {

	static final String CACHE = "users";

	static final String IMMEDIATE_CACHE = "usersImmediate";

	static final String IMMEDIATE_MANAGER = "immediateCacheManager";

	static final Duration TTL = Duration.ofHours(1);

	final JsonMapper mapper = JsonMapper.builder().build();

	final RedisProcess redis;

	final AnnotationConfigApplicationContext tagcacheContext;

	final RedisTaggedCacheManager tagcacheManager;

	final RedisTaggedCache tagcache;

	final TaggedUserService tagged;

	final AnnotationConfigApplicationContext springContext;

	final RedisCache springDeferred;

	final RedisCache springImmediate;

	final SpringUserService spring;

	final RedisClient rawClient;

	final StatefulRedisConnection<byte[], byte[]> raw;

	public CacheStacks(RedisProcess redis) {
		this.redis = redis;
		this.tagcacheContext = tagcacheContext(redis.port(), this.mapper);
		this.tagcacheManager = this.tagcacheContext.getBean(RedisTaggedCacheManager.class);
		this.tagcache = this.tagcacheManager.getCache(CACHE);
		this.tagged = this.tagcacheContext.getBean(TaggedUserService.class);
		this.springContext = springContext(redis.port(), this.mapper);
		this.springDeferred = (RedisCache) this.springContext.getBean("cacheManager", RedisCacheManager.class)
			.getCache(CACHE);
		this.springImmediate = (RedisCache) this.springContext.getBean(IMMEDIATE_MANAGER, RedisCacheManager.class)
			.getCache(IMMEDIATE_CACHE);
		this.spring = this.springContext.getBean(SpringUserService.class);
		this.rawClient = RedisClient.create(RedisURI.create("127.0.0.1", redis.port()));
		this.raw = this.rawClient.connect(ByteArrayCodec.INSTANCE);
	}

	static LettuceConnectionFactory connectionFactory(int port) {
		return new LettuceConnectionFactory(new RedisStandaloneConfiguration("127.0.0.1", port));
	}

	private static AnnotationConfigApplicationContext tagcacheContext(int port, JsonMapper mapper) {
		return tagcacheContext(port, mapper, UnaryOperator.identity());
	}

	/**
	 * A tagcache context like the one of the stacks (same key prefix, so it reads what {@link #fill}
	 * stored), its manager's builder customized, e.g. with a near cache.
	 */
	static AnnotationConfigApplicationContext tagcacheContext(int port, JsonMapper mapper,
			UnaryOperator<RedisTaggedCacheManager.Builder> customizer) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.register(TaggedCachingConfiguration.class);
		context.registerBean(LettuceConnectionFactory.class, () -> connectionFactory(port));
		context.registerBean("cacheManager", RedisTaggedCacheManager.class,
				() -> customizer.apply(RedisTaggedCacheManager.builder(context.getBean(LettuceConnectionFactory.class))
					.jsonMapper(mapper)
					.cacheDefaults(io.tagcache.redis.RedisTaggedCacheConfiguration.defaultConfig().withTimeToLive(TTL))
					.withCacheNames(CACHE))
					.build());
		context.registerBean(TaggedUserService.class);
		context.refresh();
		return context;
	}

	@Configuration(proxyBeanMethods = false)
	@EnableCaching
	static class SpringCaching {

	}

	private static AnnotationConfigApplicationContext springContext(int port, JsonMapper mapper) {
		AnnotationConfigApplicationContext context = new AnnotationConfigApplicationContext();
		context.register(SpringCaching.class);
		context.registerBean(LettuceConnectionFactory.class, () -> connectionFactory(port));
		RedisCacheConfiguration config = RedisCacheConfiguration.defaultCacheConfig()
			.entryTtl(TTL)
			.serializeValuesWith(SerializationPair.fromSerializer(new JacksonJsonRedisSerializer<>(mapper, User.class)));
		context.registerBean("cacheManager", RedisCacheManager.class,
				() -> RedisCacheManager.builder(RedisCacheWriter
					.nonLockingRedisCacheWriter(context.getBean(LettuceConnectionFactory.class)))
					.cacheDefaults(config)
					.initialCacheNames(java.util.Set.of(CACHE))
					.build(),
				definition -> definition.setPrimary(true));
		context.registerBean(IMMEDIATE_MANAGER, RedisCacheManager.class,
				() -> RedisCacheManager.builder(RedisCacheWriter
					.create(context.getBean(LettuceConnectionFactory.class), writer -> writer.immediateWrites()))
					.cacheDefaults(config)
					.initialCacheNames(java.util.Set.of(IMMEDIATE_CACHE))
					.build());
		context.registerBean(SpringUserService.class);
		context.refresh();
		return context;
	}

	/** The raw baseline's key for a user: it holds the same JSON bytes the caches hold. */
	static byte[] rawKey(long id) {
		return ("raw:" + id).getBytes(java.nio.charset.StandardCharsets.UTF_8);
	}

	/**
	 * The tags {@link TaggedUserService#user} gives a user: {@code user-<id>}, {@code loc-<id>} and
	 * {@code team-<id % 64>}.
	 */
	static List<String> tags(long id) {
		return List.of("user-" + id, "loc-" + (id % User.LOCATIONS), "team-" + (id % 64));
	}

	/**
	 * Fill every store with users {@code 1..count}, one write each: tagcache's put with the tags the
	 * annotated method would give, spring-data-redis's immediate cache, and a raw {@code SET} of the
	 * same JSON. A hit then reads exactly what a miss through the annotations would have stored.
	 */
	void fill(int count) {
		long started = System.nanoTime();
		parallel(count, 4, id -> {
			User user = User.of(id);
			this.tagcache.put(id, user, tags(id));
			this.springImmediate.put(id, user);
			this.raw.sync().set(rawKey(id), this.mapper.writeValueAsBytes(user));
		});
		System.out.printf("Filled %,d users into every store in %.1f s%n", count, (System.nanoTime() - started) / 1e9);
	}

	/** Run {@code action} for {@code 1..count} on a few threads, and wait. */
	static void parallel(long count, int threads, LongConsumer action) {
		ExecutorService pool = Executors.newFixedThreadPool(threads);
		try {
			List<Future<?>> done = new java.util.ArrayList<>();
			for (int t = 0; t < threads; t++) {
				int first = t;
				done.add(pool.submit(() -> {
					for (long id = first + 1; id <= count; id += threads) {
						action.accept(id);
					}
				}));
			}
			for (Future<?> future : done) {
				future.get();
			}
		}
		catch (Exception ex) {
			throw new IllegalStateException(ex);
		}
		finally {
			pool.shutdown();
		}
	}

	@Override
	public void close() {
		this.raw.close();
		this.rawClient.shutdown();
		this.springContext.close();
		this.tagcacheContext.close();
	}

}
