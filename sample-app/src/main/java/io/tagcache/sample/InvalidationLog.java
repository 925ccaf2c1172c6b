package io.tagcache.sample;

import io.tagcache.TagsInvalidatedEvent;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

/**
 * Logs every invalidation Redis acknowledged, as an application that must follow a change elsewhere
 * (a CDN purge, a search index, an audit trail) would listen to it.
 */
@Component
class InvalidationLog {

	private static final Log logger = LogFactory.getLog(InvalidationLog.class);

	@EventListener
	void invalidated(TagsInvalidatedEvent event) {
		logger.info((event.soft() ? "Soft-invalidated " : "Invalidated ") + String.join(", ", event.tags())
				+ (event.soft() ? " (entries marked stale: " : " (entries removed: ") + event.entriesRemoved() + ")");
	}

}
