package io.tagcache.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import io.tagcache.http.CacheTagHeader;
import io.tagcache.http.TagPurgeQueue;
import io.tagcache.http.TagPurger;
import io.tagcache.http.TagPurges;
import io.tagcache.http.VarnishTagPurger;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

/**
 * Issue 15: how long after an invalidation returned (Redis acknowledged it) Varnish stops serving the
 * responses of its tags, through tagcache's own purges ({@code tagcache.http.varnish.purge-urls}), and
 * what those purges cost the invalidation. Starts a {@code redis-server}, a servlet application on a random
 * port ({@code @CacheableTagged} GET {@code /users/{id}}, tagged {@code user-<id>}, with
 * {@code tagcache.http.headers=xkey}) and a {@code varnishd} with vmod-xkey in front of it (the sample's
 * VCL, {@code sample-app/varnish/sample.vcl}, backend = the application's port). A second Spring context
 * in this JVM, on the same Redis and key prefix but with no purge URL, is the "purging off" instance.
 *
 * <p>Three kinds of rounds, interleaved (each round runs one of each kind, in a shuffled order), each on a
 * user of its own: two GETs through Varnish (a MISS, then a HIT, checked), then
 * <ul>
 * <li>{@code wait}: the purging application invalidates {@code user-<id>} (a direct call of its
 * {@code @InvalidateTags} bean, {@code t0} before, {@code t1} on return); the test thread then parks until
 * the purge of that tag completed. The purger bean is wrapped ({@link TimedPurger}): it records when the
 * queue's thread handed the tags to {@link VarnishTagPurger} and when the {@code PURGE} response was
 * received (the future completes on the HTTP client's thread; Varnish ran {@code xkey.purge()} before
 * answering, so this is an upper bound of when it stopped serving, by about half a loopback round
 * trip). Nothing else runs meanwhile: the delay of the purge path alone. A GET afterwards must be a MISS.</li>
 * <li>{@code poll}: the same invalidation, then GETs through Varnish back to back from the return on,
 * until one is a MISS: what a client sees. The first GET tells whether a GET sent right after the
 * invalidation returned is still a HIT; the delay is to the sending of the first GET that missed (Varnish
 * stopped serving between the sending of the last HIT and shortly after it; the end of that MISS adds the
 * backend fetch). The polling competes with the purge for the 2 CPUs.</li>
 * <li>{@code baseline}: the non-purging context invalidates the same way, then the test sends the
 * {@code PURGE} itself, synchronously ({@link HttpClient}, HTTP/1.1, kept alive): the delay of a purge
 * round trip alone, against which the others are ratios. Its invalidation is the "purging off" cost.</li>
 * </ul>
 * Reported per kind after {@value #WARM_UP} discarded rounds of each: p50/p90/p99/max in ms from the
 * invalidation's return (and from its call), the invalidation's own latency, the fraction of immediate
 * GETs still a HIT, and the queue's counts.
 *
 * <pre>
 * java -Xms512m -Xmx512m -cp benchmarks/target/benchmarks.jar io.tagcache.benchmarks.PurgeDelayReport
 * </pre>
 * {@code -Drounds=} rounds per kind (1,000).
 */
public final class PurgeDelayReport {

	private static final int WARM_UP = 200;

	private static final String PREFIX = "purge-delay";

	private static final long TIMEOUT_SECONDS = 10;

	static final Map<Long, String> names = new ConcurrentHashMap<>();

	private final StringBuilder report = new StringBuilder();

	private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

	private int varnishPort;

	public static void main(String[] args) throws Exception {
		new PurgeDelayReport().run();
		System.exit(0);
	}

	private void print(String format, Object... args) {
		String line = String.format(Locale.ROOT, format, args);
		System.out.println(line);
		this.report.append(line).append(System.lineSeparator());
	}

	private void run() throws Exception {
		int rounds = Integer.getInteger("rounds", 1000);
		double loadAtStart = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
		try (RedisProcess redis = RedisProcess.start()) {
			this.varnishPort = freePort();
			ConfigurableApplicationContext purging = new SpringApplicationBuilder(Application.class)
				.properties(Map.of("server.port", "0", "spring.main.banner-mode", "off", "spring.data.redis.host",
						"127.0.0.1", "spring.data.redis.port", redis.port(), "tagcache.key-prefix", PREFIX,
						"tagcache.http.headers", "xkey", "tagcache.http.varnish.purge-urls",
						"http://127.0.0.1:" + this.varnishPort + "/"))
				.run();
			ConfigurableApplicationContext notPurging = new SpringApplicationBuilder(Application.class)
				.web(WebApplicationType.NONE)
				.properties(Map.of("spring.main.banner-mode", "off", "spring.data.redis.host", "127.0.0.1",
						"spring.data.redis.port", redis.port(), "tagcache.key-prefix", PREFIX))
				.run();
			int applicationPort = ((WebServerApplicationContext) purging).getWebServer().getPort();
			try (VarnishProcess varnish = VarnishProcess.start(this.varnishPort, VCL.replace("BACKEND_PORT",
					Integer.toString(applicationPort)))) {
				if (!notPurging.getBeansOfType(TagPurges.class).isEmpty()) {
					throw new IllegalStateException("The non-purging context purges");
				}
				TagPurgeQueue queue = purging.getBean(TagPurges.class).getQueues().get(0);
				if (!(purging.getBean("tagcacheVarnishPurger") instanceof TimedPurger)) {
					throw new IllegalStateException("The Varnish purger is not wrapped");
				}
				measure(rounds, purging.getBean(Users.class), notPurging.getBean(Users.class), queue, loadAtStart);
			}
			finally {
				notPurging.close();
				purging.close();
			}
		}
		Files.writeString(RedisStats.resultsDirectory().resolve("purge-delay.md"), this.report);
	}

	private void measure(int rounds, Users purgingUsers, Users plainUsers, TagPurgeQueue queue, double loadAtStart)
			throws Exception {
		Samples wait = new Samples(rounds);
		Samples poll = new Samples(rounds);
		Samples pollLastHit = new Samples(rounds);
		Samples pollMissEnd = new Samples(rounds);
		Random order = new Random(15);
		List<Integer> kinds = new ArrayList<>(List.of(0, 1, 2));
		Samples baseline = new Samples(rounds);
		long[] sendFromReturn = new long[rounds];
		int stillHit = 0;
		int pollGets = 0;
		int purgeDoneBeforeFirstGet = 0;
		int anomalies = 0;
		List<String> anomalyNotes = new ArrayList<>();
		GcPauses gc = new GcPauses();
		long started = System.nanoTime();
		long id = 0;
		for (int r = -WARM_UP; r < rounds; r++) {
			Collections.shuffle(kinds, order);
			for (int kind : kinds) {
				id++;
				boolean measured = r >= 0;
				String path = "/users/" + id;
				names.put(id, "user " + id);
				String first = get(path).headers().firstValue("X-Cache").orElse("?");
				String second = get(path).headers().firstValue("X-Cache").orElse("?");
				if (!first.equals("MISS") || !second.equals("HIT")) {
					anomalies++;
					anomalyNotes.add("#" + id + " GETs before: " + first + "," + second);
				}
				String tag = CacheTagHeader.encode("user-" + id);
				if (kind == 0) {
					CompletableFuture<long[]> purge = TimedPurger.expect(tag);
					long t0 = System.nanoTime();
					purgingUsers.rename(id, "renamed " + id);
					long t1 = System.nanoTime();
					long[] timing = purge.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
					if (measured) {
						wait.add(r, t0, t1, timing[1]);
						sendFromReturn[r] = timing[0] - t1;
					}
					String after = get(path).headers().firstValue("X-Cache").orElse("?");
					if (!after.equals("MISS")) {
						anomalies++;
						anomalyNotes.add("#" + id + " after the purge: " + after);
					}
				}
				else if (kind == 1) {
					CompletableFuture<long[]> purge = TimedPurger.expect(tag);
					long t0 = System.nanoTime();
					purgingUsers.rename(id, "renamed " + id);
					long t1 = System.nanoTime();
					int gets = 0;
					long start = t1;
					long lastHit = t1;
					long end;
					boolean firstHit = false;
					while (true) {
						start = System.nanoTime();
						String cache = get(path).headers().firstValue("X-Cache").orElse("?");
						end = System.nanoTime();
						gets++;
						if (gets == 1) {
							firstHit = cache.startsWith("HIT");
							if (measured && purge.isDone()) {
								purgeDoneBeforeFirstGet++;
							}
						}
						if (cache.equals("MISS")) {
							break;
						}
						lastHit = start;
						if (end - t1 > TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS)) {
							throw new IllegalStateException("Varnish still serves " + path + " after " + TIMEOUT_SECONDS + " s");
						}
					}
					purge.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
					if (measured) {
						poll.add(r, t0, t1, start);
						pollLastHit.add(r, t0, t1, lastHit);
						pollMissEnd.add(r, t0, t1, end);
						pollGets += gets;
						stillHit += firstHit ? 1 : 0;
					}
				}
				else {
					long t0 = System.nanoTime();
					plainUsers.rename(id, "renamed " + id);
					long t1 = System.nanoTime();
					HttpResponse<String> purged = this.http.send(HttpRequest
						.newBuilder(URI.create("http://127.0.0.1:" + this.varnishPort + "/"))
						.method("PURGE", HttpRequest.BodyPublishers.noBody())
						.header(VarnishTagPurger.PURGE_HEADER, tag)
						.build(), HttpResponse.BodyHandlers.ofString());
					long t2 = System.nanoTime();
					if (purged.statusCode() != 200) {
						throw new IllegalStateException("PURGE answered " + purged.statusCode());
					}
					if (measured) {
						baseline.add(r, t0, t1, t2);
					}
					String after = get(path).headers().firstValue("X-Cache").orElse("?");
					if (!after.equals("MISS")) {
						anomalies++;
						anomalyNotes.add("#" + id + " after the baseline purge: " + after);
					}
				}
			}
		}
		double seconds = (System.nanoTime() - started) / 1e9;
		long gcMillis = gc.millisWithin(started, System.nanoTime());
		print("## HTTP purges (issue 15): %,d rounds of each kind after %d discarded, interleaved; %d CPUs, load %.2f "
				+ "at start, %.2f at end; %.0f s, GC %d ms in all%n", rounds, WARM_UP,
				Runtime.getRuntime().availableProcessors(), loadAtStart,
				ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), seconds, gcMillis);
		print("Delay from the invalidation's return until Varnish no longer serves the object (ms):%n");
		print("| Kind | p50 | p90 | p99 | max | p50 from the call | p50 / baseline p50 | p99 / baseline p99 |");
		print("|---|---|---|---|---|---|---|---|");
		double[] base = baseline.fromReturn();
		row("baseline: test's own synchronous PURGE (purging off)", baseline, base);
		row("tagcache purge, until the PURGE response (wait)", wait, base);
		row("tagcache purge, GETs until a MISS (poll): sending of the first MISS", poll, base);
		row("(poll) sending of the last HIT (lower bound; 0 = the first GET missed)", pollLastHit, base);
		row("(poll) end of the first MISS (includes the backend fetch)", pollMissEnd, base);
		double[] send = sorted(sendFromReturn);
		print("%nThe queue's thread handed the tags to the purger %.3f ms after the return at p50 (p99 %.3f, min %.3f: "
				+ "negative = before the invalidation returned).", q(send, 0.5), q(send, 0.99), send[0]);
		print("A GET sent right after the invalidation returned was still a HIT in %d of %d poll rounds (%.1f%%); "
				+ "the purge had completed before that GET returned in %d; %.2f GETs per poll round.",
				stillHit, rounds, 100.0 * stillHit / rounds, purgeDoneBeforeFirstGet, (double) pollGets / rounds);
		print("%nThe invalidation call's own latency (ms), one tag, one entry:%n");
		print("| Purging | p50 | p90 | p99 | max |");
		print("|---|---|---|---|---|");
		double[] on = merge(wait.call(), poll.call());
		double[] off = baseline.call();
		double[] onWait = wait.call();
		double[] onPoll = poll.call();
		print("| on (wait and poll rounds, %,d) | %.3f | %.3f | %.3f | %.3f |", on.length, q(on, 0.5), q(on, 0.9),
				q(on, 0.99), on[on.length - 1]);
		print("| on, wait rounds only | %.3f | %.3f | %.3f | %.3f |", q(onWait, 0.5), q(onWait, 0.9), q(onWait, 0.99),
				onWait[onWait.length - 1]);
		print("| on, poll rounds only | %.3f | %.3f | %.3f | %.3f |", q(onPoll, 0.5), q(onPoll, 0.9), q(onPoll, 0.99),
				onPoll[onPoll.length - 1]);
		print("| off (baseline rounds, %,d) | %.3f | %.3f | %.3f | %.3f |", off.length, q(off, 0.5), q(off, 0.9),
				q(off, 0.99), off[off.length - 1]);
		print("%nQueue counts (warm-up included): sent %d, failed %d, dropped %d, pending %d; purge requests %d "
				+ "carrying %d tags; anomalies %d %s", queue.getCount(TagPurgeQueue.SENT),
				queue.getCount(TagPurgeQueue.FAILED), queue.getCount(TagPurgeQueue.DROPPED), queue.getPending(),
				TimedPurger.requests, TimedPurger.tagsSent, anomalies,
				anomalyNotes.subList(0, Math.min(10, anomalyNotes.size())));
	}

	private void row(String label, Samples samples, double[] base) {
		double[] d = samples.fromReturn();
		double[] c = samples.fromCall();
		print("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.2fx | %.2fx |", label, q(d, 0.5), q(d, 0.9), q(d, 0.99),
				d[d.length - 1], q(c, 0.5), q(d, 0.5) / q(base, 0.5), q(d, 0.99) / q(base, 0.99));
	}

	private static double[] merge(double[] a, double[] b) {
		double[] all = new double[a.length + b.length];
		System.arraycopy(a, 0, all, 0, a.length);
		System.arraycopy(b, 0, all, a.length, b.length);
		Arrays.sort(all);
		return all;
	}

	private static double[] sorted(long[] nanos) {
		double[] ms = new double[nanos.length];
		for (int i = 0; i < nanos.length; i++) {
			ms[i] = nanos[i] / 1e6;
		}
		Arrays.sort(ms);
		return ms;
	}

	private static double q(double[] sorted, double quantile) {
		return sorted[Math.min(sorted.length - 1, (int) Math.ceil(sorted.length * quantile) - 1)];
	}

	private HttpResponse<String> get(String path) throws IOException, InterruptedException {
		HttpResponse<String> response = this.http.send(
				HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + this.varnishPort + path)).GET().build(),
				HttpResponse.BodyHandlers.ofString());
		if (response.statusCode() != 200) {
			throw new IllegalStateException("GET " + path + " answered " + response.statusCode());
		}
		return response;
	}

	private static int freePort() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	/** Per round: when the invalidation was called, when it returned, when Varnish stopped serving. */
	static final class Samples {

		private final long[] call;

		private final long[] fromCall;

		private final long[] fromReturn;

		Samples(int rounds) {
			this.call = new long[rounds];
			this.fromCall = new long[rounds];
			this.fromReturn = new long[rounds];
		}

		void add(int round, long t0, long t1, long gone) {
			this.call[round] = t1 - t0;
			this.fromCall[round] = gone - t0;
			this.fromReturn[round] = gone - t1;
		}

		double[] call() {
			return sorted(this.call);
		}

		double[] fromCall() {
			return sorted(this.fromCall);
		}

		double[] fromReturn() {
			return sorted(this.fromReturn);
		}

	}

	/**
	 * The auto-configured {@link VarnishTagPurger}, wrapped: completes the probe of each tag with when the
	 * queue's thread called the purger and when the purge's response arrived.
	 */
	static final class TimedPurger implements TagPurger {

		private static final Map<String, CompletableFuture<long[]>> probes = new ConcurrentHashMap<>();

		static volatile long requests;

		static volatile long tagsSent;

		private final TagPurger delegate;

		TimedPurger(TagPurger delegate) {
			this.delegate = delegate;
		}

		static CompletableFuture<long[]> expect(String tag) {
			CompletableFuture<long[]> probe = new CompletableFuture<>();
			probes.put(tag, probe);
			return probe;
		}

		@Override
		public String name() {
			return this.delegate.name();
		}

		@Override
		public CompletableFuture<Void> purge(List<String> tags, boolean soft) {
			long start = System.nanoTime();
			requests++;
			tagsSent += tags.size();
			return this.delegate.purge(tags, soft).whenComplete((done, failure) -> {
				long end = System.nanoTime();
				for (String tag : tags) {
					CompletableFuture<long[]> probe = probes.remove(tag);
					if (probe != null) {
						if (failure != null) {
							probe.completeExceptionally(failure);
						}
						else {
							probe.complete(new long[] { start, end });
						}
					}
				}
			});
		}

	}

	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(UserController.class)
	static class Application {

		@Bean
		Users users() {
			return new Users();
		}

		@Bean
		static BeanPostProcessor timedPurger() {
			return new BeanPostProcessor() {
				@Override
				public Object postProcessAfterInitialization(Object bean, String beanName) {
					return (bean instanceof VarnishTagPurger purger) ? new TimedPurger(purger) : bean;
				}
			};
		}

	}

	static class Users {

		@CacheableTagged(cacheNames = "users", tags = "'user-' + #id")
		public String name(long id) {
			return names.getOrDefault(id, "?");
		}

		@InvalidateTags("'user-' + #id")
		public void rename(long id, String name) {
			names.put(id, name);
		}

	}

	@RestController
	static class UserController {

		private final Users users;

		UserController(Users users) {
			this.users = users;
		}

		@GetMapping("/users/{id}")
		String name(@PathVariable long id) {
			return this.users.name(id);
		}

	}

	/** The sample's VCL ({@code sample-app/varnish/sample.vcl}), its backend the application. */
	static final String VCL = """
			vcl 4.1;

			import xkey;

			backend app {
				.host = "127.0.0.1";
				.port = "BACKEND_PORT";
			}

			acl purgers {
				"127.0.0.1";
				"::1";
			}

			sub vcl_recv {
				if (req.method == "PURGE") {
					if (client.ip !~ purgers) {
						return (synth(403, "Not allowed"));
					}
					if (req.http.xkey-purge) {
						set req.http.n-gone = xkey.purge(req.http.xkey-purge);
					} elsif (req.http.xkey-softpurge) {
						set req.http.n-gone = xkey.softpurge(req.http.xkey-softpurge);
					} else {
						return (synth(400, "xkey-purge or xkey-softpurge needed"));
					}
					return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
				}
				if (req.url ~ "^/actuator") {
					return (pass);
				}
			}

			sub vcl_backend_response {
				if (beresp.http.xkey && !beresp.http.Cache-Control) {
					set beresp.ttl = 1h;
					set beresp.grace = 1h;
				}
			}

			sub vcl_hit {
				if (obj.ttl <= 0s) {
					set req.http.X-Stale = "1";
				}
			}

			sub vcl_deliver {
				if (req.http.X-Stale) {
					set resp.http.X-Cache = "HIT-STALE";
				} elsif (obj.hits > 0) {
					set resp.http.X-Cache = "HIT";
				} else {
					set resp.http.X-Cache = "MISS";
				}
			}
			""";

	/**
	 * A {@code varnishd} of the report's own, in the foreground ({@code -F}), without privilege separation
	 * ({@code -j none}), its working directory a temporary one; stopped (with its child) by {@link #close()}.
	 */
	static final class VarnishProcess implements AutoCloseable {

		private final Process process;

		private final Path directory;

		private final Thread shutdownHook;

		private VarnishProcess(Process process, Path directory) {
			this.process = process;
			this.directory = directory;
			this.shutdownHook = new Thread(this::stop, "varnishd-stopper");
			Runtime.getRuntime().addShutdownHook(this.shutdownHook);
		}

		static VarnishProcess start(int port, String vcl) throws IOException {
			Path directory = Files.createTempDirectory("tagcache-bench-varnish-");
			Path vclFile = directory.resolve("bench.vcl");
			Files.writeString(vclFile, vcl, StandardCharsets.UTF_8);
			Process process = new ProcessBuilder("/usr/sbin/varnishd", "-F", "-j", "none", "-n",
					directory.resolve("work").toString(), "-a", "127.0.0.1:" + port, "-T", "none", "-f",
					vclFile.toString(), "-s", "malloc,32m")
				.redirectErrorStream(true)
				.redirectOutput(directory.resolve("varnishd.log").toFile())
				.start();
			VarnishProcess varnish = new VarnishProcess(process, directory);
			long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
			while (System.nanoTime() < deadline) {
				if (!process.isAlive()) {
					String log = Files.readString(directory.resolve("varnishd.log"));
					varnish.close();
					throw new IllegalStateException("varnishd exited: " + log);
				}
				try (Socket socket = new Socket()) {
					socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
					return varnish;
				}
				catch (IOException ex) {
					RedisProcess.sleep(50);
				}
			}
			varnish.close();
			throw new IllegalStateException("varnishd did not answer on port " + port);
		}

		private void stop() {
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
		}

		@Override
		public void close() {
			try {
				Runtime.getRuntime().removeShutdownHook(this.shutdownHook);
			}
			catch (IllegalStateException ex) {
				// the JVM is shutting down: the hook stops it
			}
			stop();
			try (Stream<Path> files = Files.walk(this.directory)) {
				files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
			}
			catch (IOException ex) {
				// best effort
			}
		}

	}

}
