package io.tagcache.http;

import java.net.URI;
import java.util.regex.Pattern;

import org.springframework.util.Assert;

/**
 * Builds a CDN API URL from a configurable base and an identifier taken from configuration, refusing
 * an identifier that would change the path.
 */
final class ApiUrls {

	private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9_-]+");

	private ApiUrls() {
	}

	/**
	 * Resolve {@code {base}/{collection}/{id}/{action}}.
	 * @param vendor the CDN, for messages
	 * @param base the API's base URL, with or without a trailing slash
	 * @param collection the path segment before the identifier
	 * @param idName what the identifier is, for messages
	 * @param id the identifier
	 * @param action the path segment after it
	 * @return the URL
	 */
	static URI resolve(String vendor, URI base, String collection, String idName, String id, String action) {
		Assert.isTrue(base.isAbsolute() && ("http".equals(base.getScheme()) || "https".equals(base.getScheme())),
				() -> vendor + " API base URL '" + base + "' must be an absolute http or https URL");
		Assert.isTrue(id != null && IDENTIFIER.matcher(id).matches(),
				() -> vendor + " " + idName + " '" + id + "' must be letters, digits, '-' or '_'");
		String prefix = base.toString();
		prefix = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
		return URI.create(prefix + "/" + collection + "/" + id + "/" + action);
	}

}
