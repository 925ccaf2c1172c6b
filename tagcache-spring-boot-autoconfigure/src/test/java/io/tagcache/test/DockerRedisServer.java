package io.tagcache.test;

import io.lettuce.core.RedisURI;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A standalone Redis in a Testcontainers container, for machines without
 * {@code redis-server} but with a Docker engine.
 * <p>
 * This is the only class of the harness that refers to Testcontainers, so that running
 * against a local {@code redis-server} never loads Testcontainers (whose Docker probe is
 * slow and logs errors when there is no engine). It cannot simulate crashes: tests that
 * kill and restart Redis use a local {@link RedisServer}.
 */
final class DockerRedisServer implements AutoCloseable {

	private static final DockerImageName IMAGE = DockerImageName.parse("redis:7.0");

	private static final int REDIS_PORT = 6379;

	private final GenericContainer<?> container;

	private DockerRedisServer(GenericContainer<?> container) {
		this.container = container;
	}

	static boolean isDockerAvailable() {
		return DockerClientFactory.instance().isDockerAvailable();
	}

	static DockerRedisServer start() {
		GenericContainer<?> container = new GenericContainer<>(IMAGE)
			.withCommand("redis-server", "--save", "", "--appendonly", "no")
			.withExposedPorts(REDIS_PORT);
		container.start();
		return new DockerRedisServer(container);
	}

	RedisURI uri() {
		return RedisConnections.uri(this.container.getHost(), this.container.getMappedPort(REDIS_PORT));
	}

	@Override
	public void close() {
		this.container.stop();
	}

}
