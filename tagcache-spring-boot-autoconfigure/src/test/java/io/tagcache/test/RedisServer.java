package io.tagcache.test;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.lettuce.core.RedisURI;
import org.awaitility.core.ConditionTimeoutException;

import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.util.FileSystemUtils;

import static org.awaitility.Awaitility.await;

/**
 * A throw-away {@code redis-server} process on a free loopback port.
 * <p>
 * Unlike a container, a local process can be crashed ({@link #kill()}) and brought back
 * on the same port ({@link #restart()}), which is what tests need to prove that the
 * cache survives a Redis outage and that clients reconnect by themselves.
 * <p>
 * Persistence is off, so a restarted server is empty, as after a real crash. Each server
 * works in its own temporary directory ({@code tagcache-redis-*} under
 * {@code java.io.tmpdir}) where the output of its latest start goes to {@code redis.log};
 * {@link #close()} stops the process and deletes that directory. Only the process
 * started here is ever stopped or contacted.
 */
public final class RedisServer implements AutoCloseable {

	static final String HOST = "127.0.0.1";

	static final String REDIS_MISSING = "Integration tests need Redis: install redis-server "
			+ "(e.g. `apt-get install redis-server`), run a Docker engine for Testcontainers, or run on Linux or "
			+ "macOS (x86-64 or ARM), whose redis-server the embedded-redis test dependency ships.";

	/** Cluster nodes also listen on port + 10000 (the cluster bus), which must stay valid. */
	private static final int HIGHEST_PORT = 65535 - 10000;

	private static final int START_ATTEMPTS = 5;

	private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(10);

	private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

	private static final int SOCKET_TIMEOUT_MILLIS = 1000;

	private final Path directory;

	private final List<String> extraArgs;

	private final int port;

	private Process process;

	private boolean closed;

	private RedisServer(Path directory, List<String> extraArgs, int port) {
		this.directory = directory;
		this.extraArgs = extraArgs;
		this.port = port;
	}

	/**
	 * Whether a {@code redis-server} executable is on the {@code PATH} (and not overridden by the
	 * {@code embedded} mode).
	 * @return {@code true} if an installed Redis is used
	 */
	public static boolean isInstalled() {
		return !RedisBinary.isForcedEmbedded() && RedisBinary.isOnPath(RedisBinary.EXECUTABLE);
	}

	/**
	 * Whether {@link #start(String...)} can work: Redis is installed, or shipped for this platform.
	 * @return {@code true} if a server can be started
	 */
	public static boolean isAvailable() {
		return RedisBinary.isAvailable();
	}

	/**
	 * Start a server on a free port and wait until it answers.
	 * @param extraArgs further {@code redis-server} arguments, e.g.
	 * {@code "--maxmemory", "10mb"}
	 * @return the running server, to be {@linkplain #close() closed} by the caller
	 */
	public static RedisServer start(String... extraArgs) {
		Path directory = createDirectory();
		try {
			// Another process may take the port between finding it free and Redis
			// binding it (or the cluster bus port may be taken): try another port.
			for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
				RedisServer server = new RedisServer(directory, List.of(extraArgs), freePort());
				if (server.launch()) {
					return server;
				}
			}
			throw new IllegalStateException(
					"redis-server found its port taken " + START_ATTEMPTS + " times in a row: giving up");
		}
		catch (RuntimeException ex) {
			delete(directory);
			throw ex;
		}
	}

	public String host() {
		return HOST;
	}

	public int port() {
		return this.port;
	}

	/**
	 * A Lettuce URI of this server, with the harness' short command timeout.
	 * @return the URI
	 */
	public RedisURI uri() {
		return RedisConnections.uri(HOST, this.port);
	}

	/**
	 * The server's working directory, holding {@code redis.log}.
	 * @return the directory, deleted on {@link #close()}
	 */
	public Path directory() {
		return this.directory;
	}

	public synchronized boolean isRunning() {
		return this.process != null && this.process.isAlive();
	}

	/**
	 * Create a started connection factory for this (standalone) server. The caller owns
	 * it and must {@link LettuceConnectionFactory#destroy() destroy} it.
	 * @return the connection factory
	 */
	public LettuceConnectionFactory newConnectionFactory() {
		return RedisConnections.newConnectionFactory(RedisConnections.standalone(uri()));
	}

	/**
	 * Shut the server down gracefully (SIGTERM) and wait until it has exited. Does
	 * nothing if it is not running.
	 */
	public synchronized void stop() {
		terminate(false);
	}

	/**
	 * Kill the server (SIGKILL) to simulate a crash, and wait until it has exited.
	 */
	public synchronized void kill() {
		terminate(true);
	}

	/**
	 * Start the server again on the same port, stopping it first if it still runs, and
	 * wait until it answers. The new process starts empty.
	 * @throws IllegalStateException if the server was closed, or the port was taken by
	 * another process in the meantime
	 */
	public synchronized void restart() {
		if (this.closed) {
			throw new IllegalStateException(this + " is closed");
		}
		stop();
		if (!launch()) {
			throw failure("could not bind its port again: another process took it", null);
		}
	}

	/**
	 * Stop the server and delete its working directory.
	 */
	@Override
	public synchronized void close() {
		stop();
		this.closed = true;
		delete(this.directory);
	}

	@Override
	public String toString() {
		return "redis-server " + HOST + ":" + this.port;
	}

	/**
	 * Send one command and read its reply, without a client library: enough for
	 * readiness checks ({@code INFO}, {@code CLUSTER INFO}) that must not depend on the
	 * client under test. Supports simple string, error, integer and bulk string replies.
	 */
	String call(String... command) throws IOException {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(HOST, this.port), SOCKET_TIMEOUT_MILLIS);
			socket.setSoTimeout(SOCKET_TIMEOUT_MILLIS);
			StringBuilder request = new StringBuilder("*").append(command.length).append("\r\n");
			for (String argument : command) {
				request.append('$').append(argument.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
				request.append(argument).append("\r\n");
			}
			socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
			InputStream in = new BufferedInputStream(socket.getInputStream());
			String line = readLine(in);
			return switch (line.charAt(0)) {
				case '+', ':' -> line.substring(1);
				case '$' -> readBulk(in, Integer.parseInt(line.substring(1)));
				case '-' -> throw new IOException(line.substring(1));
				default -> throw new IOException("Unexpected reply: " + line);
			};
		}
	}

	/**
	 * Whether the given process answers on our port. Comparing the process id rather
	 * than expecting any {@code PONG} makes sure a Redis that someone else started on the
	 * same port is never mistaken for ours.
	 */
	private boolean answers(Process process) {
		try {
			return call("INFO", "server").contains("\r\nprocess_id:" + process.pid() + "\r\n");
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Start the process and wait until it answers.
	 * @return {@code false} if it exited because its port was in use
	 */
	private boolean launch() {
		List<String> command = new ArrayList<>(List.of(RedisBinary.executable(), "--port", String.valueOf(this.port), "--bind",
				HOST, "--save", "", "--appendonly", "no", "--dir", this.directory.toString()));
		command.addAll(this.extraArgs);
		ProcessBuilder builder = new ProcessBuilder(command).directory(this.directory.toFile())
			.redirectErrorStream(true)
			.redirectOutput(Redirect.to(log().toFile()));
		Process started;
		try {
			started = builder.start();
		}
		catch (IOException ex) {
			throw new IllegalStateException(isAvailable() ? "Could not run " + command : REDIS_MISSING, ex);
		}
		this.process = started;
		try {
			await().atMost(STARTUP_TIMEOUT)
				.pollDelay(Duration.ZERO)
				.pollInterval(Duration.ofMillis(10))
				.until(() -> !started.isAlive() || answers(started));
		}
		catch (ConditionTimeoutException ex) {
			terminate(true);
			throw failure("did not answer within " + STARTUP_TIMEOUT.toSeconds() + "s", ex);
		}
		if (started.isAlive()) {
			return true;
		}
		this.process = null;
		if (logTail().contains("Address already in use")) {
			return false;
		}
		throw failure("exited with code " + started.exitValue(), null);
	}

	private void terminate(boolean forcibly) {
		Process running = this.process;
		if (running == null) {
			return;
		}
		this.process = null;
		try {
			if (forcibly) {
				running.destroyForcibly();
			}
			else {
				running.destroy();
			}
			if (!running.waitFor(SHUTDOWN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
				running.destroyForcibly().waitFor();
			}
		}
		catch (InterruptedException ex) {
			running.destroyForcibly();
			Thread.currentThread().interrupt();
		}
	}

	private IllegalStateException failure(String reason, Throwable cause) {
		return new IllegalStateException(this + " " + reason + ". Last lines of " + log() + ":\n" + logTail(), cause);
	}

	private Path log() {
		return this.directory.resolve("redis.log");
	}

	private String logTail() {
		try {
			List<String> lines = Files.readAllLines(log());
			return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
		}
		catch (IOException ex) {
			return "(unreadable: " + ex + ")";
		}
	}

	private static String readLine(InputStream in) throws IOException {
		ByteArrayOutputStream line = new ByteArrayOutputStream();
		int previous = -1;
		for (int current = in.read(); current != -1; current = in.read()) {
			if (previous == '\r' && current == '\n') {
				byte[] bytes = line.toByteArray();
				return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
			}
			line.write(current);
			previous = current;
		}
		throw new IOException("Connection closed before a complete reply");
	}

	private static String readBulk(InputStream in, int length) throws IOException {
		if (length < 0) {
			return null;
		}
		byte[] bytes = in.readNBytes(length + 2);
		if (bytes.length < length + 2) {
			throw new IOException("Connection closed before a complete reply");
		}
		return new String(bytes, 0, length, StandardCharsets.UTF_8);
	}

	private static int freePort() {
		for (int attempt = 0; attempt < 100; attempt++) {
			try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
				if (socket.getLocalPort() <= HIGHEST_PORT) {
					return socket.getLocalPort();
				}
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Could not find a free port", ex);
			}
		}
		throw new IllegalStateException("The operating system offered no free port at or below " + HIGHEST_PORT);
	}

	private static Path createDirectory() {
		try {
			return Files.createTempDirectory("tagcache-redis-");
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not create a directory for redis-server", ex);
		}
	}

	private static void delete(Path directory) {
		try {
			FileSystemUtils.deleteRecursively(directory);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not delete " + directory, ex);
		}
	}

}
