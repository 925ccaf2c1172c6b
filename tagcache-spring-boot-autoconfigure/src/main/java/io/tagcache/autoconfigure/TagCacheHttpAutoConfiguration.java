package io.tagcache.autoconfigure;

import java.util.List;

import io.tagcache.http.CacheTagHeader;
import io.tagcache.http.TagPurger;
import io.tagcache.http.VarnishTagPurger;
import io.tagcache.http.servlet.CacheTagHeaderFilter;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * tagcache at the HTTP edge: cache tag headers on Spring MVC responses ({@code tagcache.http.headers}),
 * and purges of every invalidation this instance issues, from the Varnish servers of
 * {@code tagcache.http.varnish.purge-urls} (the purges of every {@link TagPurger} bean are sent by
 * {@link TagCachePurgeAutoConfiguration}).
 */
@AutoConfiguration(after = TagCacheAutoConfiguration.class)
@ConditionalOnBean(RedisTaggedCacheManager.class)
@Import({ TagCacheHttpAutoConfiguration.Headers.class, TagCacheHttpAutoConfiguration.Varnish.class })
public final class TagCacheHttpAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnWebApplication(type = Type.SERVLET)
	@ConditionalOnClass(OncePerRequestFilter.class)
	@Conditional(HeadersConfigured.class)
	static class Headers {

		/** The filter that writes the tag headers: a servlet filter bean, which Boot registers for every request. */
		@Bean
		@ConditionalOnMissingBean
		static CacheTagHeaderFilter tagCacheHeaderFilter(TagCacheProperties properties) {
			List<CacheTagHeader> headers = TagCacheAutoConfiguration.property("tagcache.http.headers",
					properties.getHttp().getHeaders(),
					() -> properties.getHttp().getHeaders().stream().map(CacheTagHeader::of).toList());
			return new CacheTagHeaderFilter(headers);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@Conditional(VarnishConfigured.class)
	static class Varnish {

		@Bean
		@ConditionalOnMissingBean(VarnishTagPurger.class)
		static VarnishTagPurger tagcacheVarnishPurger(TagCacheProperties properties) {
			return TagCacheAutoConfiguration.property("tagcache.http.varnish.purge-urls",
					properties.getHttp().getVarnish().getPurgeUrls(),
					() -> new VarnishTagPurger(properties.getHttp().getVarnish().getPurgeUrls()));
		}

	}

	/** {@code tagcache.http.headers} lists at least one header (in any of its forms: a list, indexes, a string). */
	static final class HeadersConfigured extends ListConfigured {

		HeadersConfigured() {
			super("tagcache.http.headers");
		}

	}

	/** {@code tagcache.http.varnish.purge-urls} lists at least one URL. */
	static final class VarnishConfigured extends ListConfigured {

		VarnishConfigured() {
			super("tagcache.http.varnish.purge-urls");
		}

	}

	/** A list property with at least one element, however it is written. */
	abstract static class ListConfigured extends SpringBootCondition {

		private final String name;

		ListConfigured(String name) {
			this.name = name;
		}

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			List<String> values = Binder.get(context.getEnvironment())
				.bind(this.name, Bindable.listOf(String.class))
				.orElse(List.of());
			return values.isEmpty() ? ConditionOutcome.noMatch(this.name + " is empty")
					: ConditionOutcome.match(this.name + " is " + values);
		}

	}

}
