package io.tagcache.test;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

import org.springframework.util.function.SingletonSupplier;

/**
 * The {@code redis-server} executable the harness runs: the one on the {@code PATH}, or else the
 * binary shipped in the {@code embedded-redis} test dependency (Redis 6.2, for Linux and macOS on
 * x86-64 and ARM), copied once per JVM to a temporary file. So {@code mvn verify} needs neither an
 * installed Redis nor Docker.
 * <p>
 * The system property {@value RedisTopology#MODE_PROPERTY} (or the environment variable
 * {@value RedisTopology#MODE_VARIABLE}) set to {@code embedded} forces the shipped binary, to run
 * the suite against it on a machine that has Redis installed.
 */
public final class RedisBinary {

	static final String EXECUTABLE = "redis-server";

	private static final SingletonSupplier<Path> shipped = SingletonSupplier.of(RedisBinary::extractShipped);

	private RedisBinary() {
	}

	/**
	 * The executable to run.
	 * @return {@code redis-server} (found on the {@code PATH}) or the path of the shipped binary
	 * @throws IllegalStateException if there is neither
	 */
	static String executable() {
		if (!isForcedEmbedded() && isOnPath(EXECUTABLE)) {
			return EXECUTABLE;
		}
		return shipped.obtain().toString();
	}

	/**
	 * Whether the harness can start a server: one is installed or shipped for this platform.
	 * @return whether {@link RedisServer#start(String...)} can work
	 */
	static boolean isAvailable() {
		return (!isForcedEmbedded() && isOnPath(EXECUTABLE)) || shippedResource() != null;
	}

	/**
	 * Whether the tests run the shipped binary rather than an installed one.
	 * @return {@code true} without {@code redis-server} on the {@code PATH}, or when forced
	 */
	public static boolean isShipped() {
		return isForcedEmbedded() || !isOnPath(EXECUTABLE);
	}

	static boolean isForcedEmbedded() {
		String mode = System.getProperty(RedisTopology.MODE_PROPERTY,
				Objects.requireNonNullElse(System.getenv(RedisTopology.MODE_VARIABLE), "auto"));
		return mode.trim().equalsIgnoreCase("embedded");
	}

	static boolean isOnPath(String executable) {
		String path = System.getenv("PATH");
		return path != null && Arrays.stream(path.split(File.pathSeparator))
			.filter((dir) -> !dir.isEmpty())
			.anyMatch((dir) -> Files.isExecutable(Path.of(dir, executable)));
	}

	/** The resource name of the binary for this platform in the embedded-redis jar, or {@code null}. */
	private static String shippedResource() {
		String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
		String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
		boolean arm = arch.equals("aarch64") || arch.equals("arm64");
		boolean x64 = arch.equals("amd64") || arch.equals("x86_64");
		String name = null;
		if (os.contains("linux")) {
			name = x64 ? "redis-server-6.2.6-v5-linux-amd64" : arm ? "redis-server-6.2.7-linux-arm64" : null;
		}
		else if (os.contains("mac")) {
			name = x64 ? "redis-server-6.2.6-v5-darwin-amd64" : arm ? "redis-server-6.2.6-v5-darwin-arm64" : null;
		}
		return (name != null && RedisBinary.class.getClassLoader().getResource(name) != null) ? name : null;
	}

	private static Path extractShipped() {
		String resource = shippedResource();
		if (resource == null) {
			throw new IllegalStateException(RedisServer.REDIS_MISSING);
		}
		try (InputStream in = RedisBinary.class.getClassLoader().getResourceAsStream(resource)) {
			Path binary = Files.createTempFile("tagcache-" + resource + "-", "");
			Files.copy(Objects.requireNonNull(in), binary, StandardCopyOption.REPLACE_EXISTING);
			if (!binary.toFile().setExecutable(true, true)) {
				throw new IllegalStateException("Could not make " + binary + " executable");
			}
			binary.toFile().deleteOnExit();
			return binary;
		}
		catch (IOException ex) {
			throw new UncheckedIOException("Could not copy " + resource + " out of the embedded-redis jar", ex);
		}
	}

}
