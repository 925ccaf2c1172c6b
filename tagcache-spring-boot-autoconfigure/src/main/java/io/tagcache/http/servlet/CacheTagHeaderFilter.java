package io.tagcache.http.servlet;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import io.tagcache.http.CacheTagHeader;
import io.tagcache.http.UncacheableResponses;
import io.tagcache.interceptor.ServedTags;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpServletResponseWrapper;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.util.Assert;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Writes the tags of the entries a request's handling read or stored through {@code @CacheableTagged}
 * into the configured {@link CacheTagHeader cache tag headers}, so that an HTTP cache in front of the
 * application can purge the response by the tags that invalidate those entries.
 *
 * <p>The headers are written when the response is about to be committed (its body or an error is
 * about to be written), with the tags of the cached calls made until then. A response that touched
 * no cached method gets none. When the tags cannot be written whole (they exceed a vendor's limits,
 * or a cached value's tags are unknown), or a value was a stale entry's (an HTTP cache would keep it
 * past its reload), no tag header is written and the response is marked
 * uncacheable for HTTP caches ({@code Cache-Control: no-store}, and each vendor's own control header):
 * a response cached without one of its tags would survive the purge of that tag. Such responses are
 * counted by reason and logged once per reason and path.
 */
public class CacheTagHeaderFilter extends OncePerRequestFilter implements UncacheableResponses {

	private static final Log logger = LogFactory.getLog(CacheTagHeaderFilter.class);

	/** A cached value's tags were unknown. */
	public static final String UNKNOWN_TAGS = "unknown-tags";

	private final List<CacheTagHeader> headers;

	private final Map<String, LongAdder> uncacheable = new ConcurrentHashMap<>();

	/** The reasons and paths logged already; bounded, as paths without a handler pattern have no bound. */
	private final Set<String> reported = ConcurrentHashMap.newKeySet();

	private static final int MAX_REPORTED = 256;

	/** Spring MVC's {@code HandlerMapping.BEST_MATCHING_PATTERN_ATTRIBUTE} (spring-webmvc is not needed here). */
	private static final String BEST_MATCHING_PATTERN = "org.springframework.web.servlet.HandlerMapping.bestMatchingPattern";

	/**
	 * @param headers the headers to write, at least one
	 */
	public CacheTagHeaderFilter(List<CacheTagHeader> headers) {
		Assert.notEmpty(headers, "At least one cache tag header is needed");
		this.headers = List.copyOf(new LinkedHashSet<>(headers));
	}

	/** The headers this filter writes. */
	public List<CacheTagHeader> getHeaders() {
		return this.headers;
	}

	@Override
	public long getUncacheable(String reason) {
		LongAdder count = this.uncacheable.get(reason);
		return (count != null) ? count.sum() : 0;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		try (ServedTags served = ServedTags.open()) {
			TaggingResponse tagging = new TaggingResponse(response, served, request);
			chain.doFilter(request, tagging);
			tagging.writeHeaders();
			if (served.isServedAfterSeal()) {
				count(AFTER_COMMIT, path(request), "a @CacheableTagged method returned after the response "
						+ "was committed, so its tags are not in the response's headers: an HTTP cache keeps the response "
						+ "when they are purged. Call cached methods before writing the body, or do not let HTTP "
						+ "caches store such responses");
			}
		}
	}

	/** The tag headers of the tags served, or {@code null} (with the reason counted) when they cannot be written whole. */
	@Nullable Map<String, String> headerValues(ServedTags served, String path) {
		if (served.isStale()) {
			count(STALE, path, "a @CacheableTagged method returned a stale entry (soft-invalidated and being "
					+ "reloaded, or served because its reload failed): an HTTP cache would keep it after the reload");
			return null;
		}
		if (served.isUnknown()) {
			count(UNKNOWN_TAGS, path, "a @CacheableTagged method returned a value whose tags are unknown (it was not "
					+ "cached, or came from another cache of the method)");
			return null;
		}
		List<String> encoded = new ArrayList<>();
		for (String tag : served.getTags()) {
			encoded.add(CacheTagHeader.encode(tag));
		}
		Map<String, String> values = new LinkedHashMap<>();
		for (CacheTagHeader header : this.headers) {
			String value = header.value(encoded);
			if (value == null) {
				count(OVER_LIMIT, path, "its " + encoded.size() + " tags exceed the limits of " + header.headerName());
				return null;
			}
			values.put(header.headerName(), value);
		}
		return values;
	}

	/**
	 * What a log line names: the handler's pattern ({@code /users/{id}}) once Spring MVC matched one, so
	 * that a path is logged once whatever its variables, else the request's path.
	 */
	private static String path(HttpServletRequest request) {
		Object pattern = request.getAttribute(BEST_MATCHING_PATTERN);
		return (pattern != null) ? pattern.toString() : request.getRequestURI();
	}

	private void count(String reason, String path, String why) {
		this.uncacheable.computeIfAbsent(reason, key -> new LongAdder()).increment();
		if (this.reported.size() < MAX_REPORTED && this.reported.add(reason + " " + path)) {
			String what = AFTER_COMMIT.equals(reason) ? " lacks cache tags" : " marked uncacheable for HTTP caches";
			logger.warn("Response of " + path + what + " (logged once per path and reason): " + why);
		}
	}

	/** Marks a response that HTTP caches must not store: every cache, and each vendor's own control header. */
	private void markUncacheable(HttpServletResponse response) {
		response.setHeader("Cache-Control", "no-store");
		for (CacheTagHeader header : this.headers) {
			String control = switch (header) {
				case SURROGATE_KEY -> "Surrogate-Control";
				case CACHE_TAG -> "CDN-Cache-Control";
				case EDGE_CACHE_TAG -> "Edge-Control";
				case XKEY -> null;
			};
			if (control != null) {
				response.setHeader(control, "no-store");
			}
		}
	}

	/** Writes the tag headers right before the response is committed. */
	private final class TaggingResponse extends HttpServletResponseWrapper {

		private final ServedTags served;

		private final HttpServletRequest request;

		private boolean written;

		TaggingResponse(HttpServletResponse response, ServedTags served, HttpServletRequest request) {
			super(response);
			this.served = served;
			this.request = request;
		}

		void writeHeaders() {
			if (this.written) {
				return;
			}
			this.written = true;
			this.served.seal();
			HttpServletResponse response = (HttpServletResponse) getResponse();
			if (!this.served.isServed() || response.isCommitted()) {
				return;
			}
			Map<String, String> values = headerValues(this.served, path(this.request));
			if (values == null) {
				markUncacheable(response);
				return;
			}
			values.forEach(response::setHeader);
		}

		@Override
		public ServletOutputStream getOutputStream() throws IOException {
			writeHeaders();
			return super.getOutputStream();
		}

		@Override
		public PrintWriter getWriter() throws IOException {
			writeHeaders();
			return super.getWriter();
		}

		@Override
		public void flushBuffer() throws IOException {
			writeHeaders();
			super.flushBuffer();
		}

		@Override
		public void sendError(int sc) throws IOException {
			writeHeaders();
			super.sendError(sc);
		}

		@Override
		public void sendError(int sc, String msg) throws IOException {
			writeHeaders();
			super.sendError(sc, msg);
		}

		@Override
		public void sendRedirect(String location) throws IOException {
			writeHeaders();
			super.sendRedirect(location);
		}

	}

}
