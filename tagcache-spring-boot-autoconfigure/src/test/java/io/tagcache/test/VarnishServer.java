package io.tagcache.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.springframework.util.FileSystemUtils;

import static org.awaitility.Awaitility.await;

/**
 * A {@code varnishd} of the test's own, on a free loopback port, with a VCL the test writes (Debian
 * packages {@code varnish} and {@code varnish-modules}, which holds {@code vmod-xkey}). It runs in the
 * foreground without privilege separation ({@code -j none}), its working directory in a temporary
 * directory, and is stopped by {@link #close()}.
 */
public final class VarnishServer implements AutoCloseable {

	/** Why Varnish tests are skipped where it is missing. */
	public static final String VARNISH_MISSING = "The Varnish integration tests need varnishd with vmod-xkey: "
			+ "install the Debian packages varnish and varnish-modules (.ci/run does)";

	private static final List<Path> EXECUTABLES = List.of(Path.of("/usr/sbin/varnishd"), Path.of("/usr/bin/varnishd"),
			Path.of("/usr/local/sbin/varnishd"));

	private final Path directory;

	private final int port;

	private final Process process;

	private VarnishServer(Path directory, int port, Process process) {
		this.directory = directory;
		this.port = port;
		this.process = process;
	}

	/**
	 * Whether {@code varnishd} is installed, with {@code vmod-xkey}.
	 * @return {@code true} if a Varnish can be started
	 */
	public static boolean isInstalled() {
		return executable() != null && hasXkey();
	}

	/** vmod-xkey where Debian puts it: {@code /usr/lib/<architecture>/varnish/vmods}, or {@code /usr/lib/varnish/vmods}. */
	private static boolean hasXkey() {
		String vmod = "varnish/vmods/libvmod_xkey.so";
		if (Files.exists(Path.of("/usr/lib").resolve(vmod))) {
			return true;
		}
		try (Stream<Path> architectures = Files.list(Path.of("/usr/lib"))) {
			return architectures.anyMatch(directory -> Files.exists(directory.resolve(vmod)));
		}
		catch (IOException ex) {
			return false;
		}
	}

	private static Path executable() {
		return EXECUTABLES.stream().filter(Files::isExecutable).findFirst().orElse(null);
	}

	/**
	 * Start Varnish on the given port with the given VCL and wait until it answers.
	 * @param port a free port (see {@link #freePort()})
	 * @param vcl the VCL source
	 * @return the running server, to be {@linkplain #close() closed}
	 */
	public static VarnishServer start(int port, String vcl) {
		Path executable = executable();
		if (executable == null) {
			throw new IllegalStateException(VARNISH_MISSING);
		}
		Path directory;
		try {
			directory = Files.createTempDirectory("tagcache-varnish-");
			Path vclFile = directory.resolve("test.vcl");
			Files.writeString(vclFile, vcl, StandardCharsets.UTF_8);
			Process process = new ProcessBuilder(executable.toString(), "-F", "-j", "none", "-n",
					directory.resolve("work").toString(), "-a", "127.0.0.1:" + port, "-T", "none", "-f",
					vclFile.toString(), "-s", "malloc,32m")
				.redirectErrorStream(true)
				.redirectOutput(directory.resolve("varnishd.log").toFile())
				.start();
			VarnishServer server = new VarnishServer(directory, port, process);
			try {
				await().alias("varnishd answers on port " + port + " (log: " + directory.resolve("varnishd.log") + ")")
					.atMost(Duration.ofSeconds(30))
					.pollInterval(Duration.ofMillis(50))
					.until(() -> {
						if (!process.isAlive()) {
							throw new IllegalStateException("varnishd exited: " + server.log());
						}
						return server.answers();
					});
			}
			catch (RuntimeException ex) {
				server.close();
				throw ex;
			}
			return server;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not start varnishd", ex);
		}
	}

	/** A free loopback port, for a Varnish whose URL the application must know before it starts. */
	public static int freePort() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not find a free port", ex);
		}
	}

	public int port() {
		return this.port;
	}

	/** What {@code varnishd} printed. */
	public String log() {
		try {
			return Files.readString(this.directory.resolve("varnishd.log"), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			return "(no log: " + ex.getMessage() + ")";
		}
	}

	private boolean answers() {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), this.port), 200);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	@Override
	public void close() {
		// the child (the cache process) is stopped with its manager; collected first, while they are linked
		List<ProcessHandle> children = this.process.descendants().toList();
		this.process.destroy();
		try {
			if (!this.process.waitFor(10, TimeUnit.SECONDS)) {
				this.process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
		}
		children.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
		try {
			FileSystemUtils.deleteRecursively(this.directory);
		}
		catch (IOException ex) {
			// a temporary directory
		}
	}

}
