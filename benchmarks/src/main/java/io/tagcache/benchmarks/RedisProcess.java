package io.tagcache.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ProcessBuilder.Redirect;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A {@code redis-server} that a benchmark starts for itself on a free loopback port, with
 * persistence off ({@code --save "" --appendonly no}), and stops when it is done. Benchmarks never
 * talk to a Redis they did not start.
 *
 * <p>Slow commands are logged from {@value #SLOWLOG_MICROS} us on ({@code slowlog-log-slower-than}),
 * so that the invalidation benchmark can report the longest script below the 2 ms goal too;
 * {@link Redis#slowlog} filters what it reads.
 */
public final class RedisProcess implements AutoCloseable {

	/** The slow log threshold: every command that holds Redis longer is recorded, with its duration. */
	public static final int SLOWLOG_MICROS = 500;

	private final Process process;

	private final Path directory;

	private final int port;

	/** Stops the server when the JVM exits without {@link #close()} (a failed set-up, a killed run). */
	private final Thread shutdownHook;

	private RedisProcess(Process process, Path directory, int port) {
		this.process = process;
		this.directory = directory;
		this.port = port;
		this.shutdownHook = new Thread(process::destroyForcibly, "redis-server-" + port + "-stopper");
		Runtime.getRuntime().addShutdownHook(this.shutdownHook);
	}

	/**
	 * Start a server and wait until it answers {@code PING}.
	 * @param extraArgs further {@code redis-server} arguments
	 * @return the running server
	 */
	public static RedisProcess start(String... extraArgs) {
		for (int attempt = 0; attempt < 5; attempt++) {
			int port = freePort();
			Path directory;
			try {
				directory = Files.createTempDirectory("tagcache-bench-redis-");
			}
			catch (IOException ex) {
				throw new UncheckedIOException(ex);
			}
			List<String> command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind",
					"127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir",
					directory.toString(), "--slowlog-log-slower-than", Integer.toString(SLOWLOG_MICROS),
					"--slowlog-max-len", "100000"));
			command.addAll(List.of(extraArgs));
			try {
				Process process = new ProcessBuilder(command).redirectErrorStream(true)
					.redirectOutput(Redirect.to(directory.resolve("redis.log").toFile()))
					.start();
				RedisProcess redis = new RedisProcess(process, directory, port);
				if (redis.awaitListening()) {
					return redis;
				}
				redis.close();
			}
			catch (IOException ex) {
				throw new UncheckedIOException("Cannot start redis-server (is it installed?)", ex);
			}
		}
		throw new IllegalStateException("redis-server did not start on a free port in 5 attempts");
	}

	public int port() {
		return this.port;
	}

	private boolean awaitListening() {
		long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
		while (System.nanoTime() < deadline) {
			if (!this.process.isAlive()) {
				return false;
			}
			try (Socket socket = new Socket()) {
				socket.connect(new InetSocketAddress("127.0.0.1", this.port), 200);
				socket.getOutputStream().write("PING\r\n".getBytes());
				byte[] reply = new byte[7];
				if (socket.getInputStream().read(reply) > 0 && new String(reply).startsWith("+PONG")) {
					return true;
				}
			}
			catch (IOException ex) {
				// not listening yet
			}
			sleep(20);
		}
		return false;
	}

	/** Stop the process this object started (and only it), and delete its directory. */
	@Override
	public void close() {
		try {
			Runtime.getRuntime().removeShutdownHook(this.shutdownHook);
		}
		catch (IllegalStateException ex) {
			// the JVM is shutting down: the hook stops the server
		}
		this.process.destroy();
		try {
			if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
				this.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		try (Stream<Path> files = Files.walk(this.directory)) {
			files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
		}
		catch (IOException ex) {
			// best effort
		}
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException(ex);
		}
	}

}
