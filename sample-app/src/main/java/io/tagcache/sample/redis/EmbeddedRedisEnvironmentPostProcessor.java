package io.tagcache.sample.redis;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import org.apache.commons.logging.Log;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.logging.DeferredLogFactory;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.util.Assert;
import org.springframework.util.StringUtils;

/**
 * Starts an {@link EmbeddedRedisServer} when the application configures no Redis, so that the sample
 * runs with nothing but Java and Maven. Any of {@link #CONNECTION_PROPERTIES} set means a real Redis
 * is configured, and that one is used.
 *
 * <p>An environment post-processor (registered in {@code META-INF/spring.factories}) because the
 * server must listen, and its port be in {@code spring.data.redis.port}, before Spring Boot creates the
 * Redis connection factory. It runs after the configuration files were read ({@link Ordered#LOWEST_PRECEDENCE}),
 * so a Redis set in {@code application.yml} counts. The server becomes a bean of the application context
 * ({@value #BEAN_NAME}), so it stops when the context closes or fails to start; embedded-redis' own
 * shutdown hook covers a JVM that exits without closing the context.
 */
public class EmbeddedRedisEnvironmentPostProcessor implements EnvironmentPostProcessor, Ordered {

	/** The properties that configure a Redis connection in Spring Boot. */
	static final List<String> CONNECTION_PROPERTIES = List.of("spring.data.redis.url", "spring.data.redis.host",
			"spring.data.redis.port", "spring.data.redis.cluster.nodes", "spring.data.redis.sentinel.nodes");

	/** The name of the {@link EmbeddedRedisServer} bean. */
	public static final String BEAN_NAME = "embeddedRedisServer";

	static final String PROPERTY_SOURCE_NAME = "embeddedRedis";

	private final Log logger;

	public EmbeddedRedisEnvironmentPostProcessor(DeferredLogFactory logFactory) {
		this.logger = logFactory.getLog(EmbeddedRedisEnvironmentPostProcessor.class);
	}

	@Override
	public int getOrder() {
		return Ordered.LOWEST_PRECEDENCE;
	}

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		List<String> configured = CONNECTION_PROPERTIES.stream()
			.filter((name) -> StringUtils.hasText(environment.getProperty(name)))
			.toList();
		if (!configured.isEmpty()) {
			this.logger.info("Using the configured Redis: " + configured.stream()
				.map((name) -> name + "=" + withoutPassword(environment.getProperty(name)))
				.collect(Collectors.joining(", ")));
			return;
		}
		EmbeddedRedisServer server = EmbeddedRedisServer.start();
		environment.getPropertySources()
			.addLast(new MapPropertySource(PROPERTY_SOURCE_NAME, Map.of("spring.data.redis.host",
					EmbeddedRedisServer.HOST, "spring.data.redis.port", server.port())));
		application.addInitializers((context) -> {
			Assert.state(context instanceof GenericApplicationContext,
					() -> "Cannot tie the embedded Redis server to a " + context.getClass().getName());
			((GenericApplicationContext) context).registerBean(BEAN_NAME, EmbeddedRedisServer.class, () -> server,
					(definition) -> definition.setLazyInit(false));
		});
		this.logger.info("No Redis configured (spring.data.redis.url, .host, .port, .cluster.nodes or "
				+ ".sentinel.nodes): started an embedded Redis server on " + EmbeddedRedisServer.HOST + ":"
				+ server.port() + "; it stops with the application");
	}

	/** Hides the password of a URL such as {@code redis://user:secret@host:6379}. */
	static String withoutPassword(String value) {
		return value.replaceAll("//([^:/@]*):[^/]*@", "//$1:*****@");
	}

}
