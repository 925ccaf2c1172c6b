package io.tagcache.autoconfigure;

import java.util.List;

import io.tagcache.http.CacheTagHeader;
import io.tagcache.http.CacheTagHeaderFilter;
import io.tagcache.redis.RedisTaggedCacheManager;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Bean;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * tagcache at the HTTP edge: cache tag headers on Spring MVC responses ({@code tagcache.http.headers}).
 */
@AutoConfiguration(after = TagCacheAutoConfiguration.class)
@ConditionalOnBean(RedisTaggedCacheManager.class)
public final class TagCacheHttpAutoConfiguration {

	/**
	 * The filter that writes the tag headers; a servlet filter bean, which Spring Boot registers for
	 * every request.
	 */
	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnWebApplication(type = Type.SERVLET)
	@ConditionalOnClass(OncePerRequestFilter.class)
	@Conditional(HeadersConfigured.class)
	static CacheTagHeaderFilter tagCacheHeaderFilter(TagCacheProperties properties) {
		List<CacheTagHeader> headers = TagCacheAutoConfiguration.property("tagcache.http.headers",
				properties.getHttp().getHeaders(),
				() -> properties.getHttp().getHeaders().stream().map(CacheTagHeader::of).toList());
		return new CacheTagHeaderFilter(headers);
	}

	/** {@code tagcache.http.headers} lists at least one header (in any of its forms: a list, indexes, a string). */
	static final class HeadersConfigured extends SpringBootCondition {

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			List<String> headers = Binder.get(context.getEnvironment())
				.bind("tagcache.http.headers", Bindable.listOf(String.class))
				.orElse(List.of());
			return headers.isEmpty() ? ConditionOutcome.noMatch("tagcache.http.headers is empty")
					: ConditionOutcome.match("tagcache.http.headers is " + headers);
		}

	}

}
