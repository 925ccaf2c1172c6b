package io.tagcache.autoconfigure;

import io.tagcache.http.TagPurgeQueue;
import io.tagcache.http.TagPurger;
import io.tagcache.http.TagPurges;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Purges of every invalidation this instance issues, through every {@link TagPurger} bean: the
 * Varnish one of {@code tagcache.http.varnish.purge-urls}, and the application's own (Fastly,
 * Cloudflare, another CDN). One queue per purger; see {@link TagPurges}.
 */
@AutoConfiguration(after = TagCacheHttpAutoConfiguration.class)
@ConditionalOnBean({ RedisTaggedCacheManager.class, TagPurger.class })
public final class TagCachePurgeAutoConfiguration {

	@Bean(destroyMethod = "close")
	@ConditionalOnMissingBean
	static TagPurges tagcachePurges(ObjectProvider<TagPurger> purgers) {
		return new TagPurges(purgers.orderedStream().map(TagPurgeQueue::new).toList());
	}

}
