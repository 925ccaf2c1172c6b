package io.tagcache.sample;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import io.tagcache.sample.Directory.ContentChange;
import io.tagcache.sample.Directory.Invalidation;
import tools.jackson.databind.JsonNode;

import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import static io.tagcache.sample.DirectoryController.badRequest;

/**
 * The webhook a headless content-management system calls after it changed entities in the database:
 * {@code POST /webhooks/content} with {@code [{"type": "location", "id": 1}]}. The service cannot know
 * which cache keys hold those entities; it invalidates their tags ({@code ?soft=true}: marks them stale,
 * served while one request per entry reloads it).
 *
 * <p>The body is read as a JSON tree and checked field by field, so that a CMS misconfiguration gets a
 * 400 that says what is wrong; unknown fields are ignored, as CMSs send more than this.
 */
@RestController
class ContentWebhookController {

	private static final Set<String> TYPES = Set.of(User.TAG_PREFIX, Location.TAG_PREFIX);

	private static final String EXAMPLE = "[{\"type\": \"location\", \"id\": 1}]";

	private final Directory directory;

	ContentWebhookController(Directory directory) {
		this.directory = directory;
	}

	@PostMapping("/webhooks/content")
	Invalidation contentChanged(@RequestBody JsonNode body, @RequestParam(defaultValue = "false") boolean soft) {
		if (!body.isArray() || body.isEmpty()) {
			throw badRequest("The body must be a non-empty JSON array of changes, such as " + EXAMPLE);
		}
		List<ContentChange> changes = new ArrayList<>();
		for (int i = 0; i < body.size(); i++) {
			JsonNode type = body.get(i).path("type");
			JsonNode id = body.get(i).path("id");
			if (!type.isString() || !TYPES.contains(type.stringValue())) {
				throw badRequest("Change " + i + ": \"type\" must be \"user\" or \"location\", not " + describe(type));
			}
			if (!id.isIntegralNumber() || !id.canConvertToLong() || id.longValue() < 1) {
				throw badRequest("Change " + i + ": \"id\" must be a positive integer, not " + describe(id));
			}
			changes.add(new ContentChange(type.stringValue(), id.longValue()));
		}
		return this.directory.contentChanged(changes, soft);
	}

	private static String describe(JsonNode value) {
		return value.isMissingNode() ? "missing" : value.toString();
	}

}
