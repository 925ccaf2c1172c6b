package io.tagcache.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A local HTTP server on a free loopback port that records every request and answers as told: the
 * stand-in for Varnish, Fastly and Cloudflare (no network beyond loopback in tests).
 */
final class RecordingHttpServer implements AutoCloseable {

	private final HttpServer server;

	private final List<Recorded> requests = new CopyOnWriteArrayList<>();

	private final AtomicReference<Function<Recorded, Answer>> answers = new AtomicReference<>(
			(request) -> new Answer(200, ""));

	RecordingHttpServer() {
		try {
			this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		this.server.createContext("/", this::handle);
		this.server.start();
	}

	/** A URI on this server. */
	URI uri(String path) {
		return URI.create("http://" + this.server.getAddress().getHostString() + ":"
				+ this.server.getAddress().getPort() + path);
	}

	/** Answer every request with this status and body from now on. */
	void answer(int status, String body) {
		this.answers.set((request) -> new Answer(status, body));
	}

	/** Answer each request as the function says. */
	void answer(Function<Recorded, Answer> answers) {
		this.answers.set(answers);
	}

	List<Recorded> requests() {
		return List.copyOf(this.requests);
	}

	@Override
	public void close() {
		this.server.stop(0);
	}

	/** A loopback URI where nothing listens: connection refused. */
	static URI refusingUri() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return URI.create("http://127.0.0.1:" + socket.getLocalPort() + "/");
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
	}

	private void handle(HttpExchange exchange) throws IOException {
		try (exchange) {
			String body;
			try (InputStream in = exchange.getRequestBody()) {
				body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
			}
			Map<String, String> headers = new TreeMap<>();
			exchange.getRequestHeaders()
				.forEach((name, values) -> headers.put(name.toLowerCase(Locale.ROOT), String.join(",", values)));
			Recorded request = new Recorded(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), headers,
					body);
			this.requests.add(request);
			Answer answer = this.answers.get().apply(request);
			byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
			exchange.sendResponseHeaders(answer.status(), (bytes.length == 0) ? -1 : bytes.length);
			if (bytes.length > 0) {
				try (OutputStream out = exchange.getResponseBody()) {
					out.write(bytes);
				}
			}
		}
	}

	/** A request as received; header names in lower case. */
	record Recorded(String method, String path, Map<String, String> headers, String body) {

		String header(String name) {
			return this.headers.get(name.toLowerCase(Locale.ROOT));
		}

	}

	record Answer(int status, String body) {
	}

}
