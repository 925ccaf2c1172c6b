package io.tagcache.sample.redis;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import redis.embedded.RedisServer;

import org.springframework.beans.factory.DisposableBean;

/**
 * A {@code redis-server} process from the embedded-redis jar, listening on {@code 127.0.0.1} and a free
 * port and saving nothing to disk. A bean of the application context, so it stops with it.
 */
public final class EmbeddedRedisServer implements DisposableBean {

	/** The address the server listens on. */
	public static final String HOST = "127.0.0.1";

	private static final int START_ATTEMPTS = 3;

	private static final Log logger = LogFactory.getLog(EmbeddedRedisServer.class);

	private final RedisServer server;

	private final int port;

	private EmbeddedRedisServer(RedisServer server, int port) {
		this.server = server;
		this.port = port;
	}

	/**
	 * Start a server on a free port.
	 * @return the running server
	 * @throws IllegalStateException when no server could be started
	 */
	static EmbeddedRedisServer start() {
		IOException failure = null;
		// A port found free may be taken by another process before Redis binds it: try another one.
		for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
			try {
				int port = freePort();
				RedisServer server = RedisServer.newRedisServer()
					.bind(HOST)
					.port(port)
					.setting("save \"\"")
					.setting("appendonly no")
					.build();
				server.start();
				return new EmbeddedRedisServer(server, port);
			}
			catch (IOException ex) {
				failure = ex;
			}
		}
		throw new IllegalStateException("Could not start the embedded Redis server; configure a Redis server "
				+ "with spring.data.redis.url or spring.data.redis.host and spring.data.redis.port instead", failure);
	}

	private static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
			return socket.getLocalPort();
		}
	}

	public int port() {
		return this.port;
	}

	public boolean isRunning() {
		return this.server.isActive();
	}

	/** Start the server again after {@link #stop()}, on the same port, empty. */
	public void restart() {
		try {
			this.server.start();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not restart the embedded Redis server on port " + this.port, ex);
		}
	}

	/** Stop the server; does nothing when it is not running. */
	public void stop() {
		try {
			this.server.stop();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not stop the embedded Redis server on port " + this.port, ex);
		}
	}

	@Override
	public void destroy() {
		stop();
		logger.info("Stopped the embedded Redis server on " + HOST + ":" + this.port);
	}

}
