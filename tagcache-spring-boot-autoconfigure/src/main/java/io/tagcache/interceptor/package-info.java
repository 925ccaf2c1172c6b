/**
 * The machinery behind the annotations, modelled on Spring's own cache interceptor: an operation
 * source parses {@code @CacheableTagged}/{@code @InvalidateTags} once per method (expressions
 * included, so mistakes fail start-up), an advisor applies the {@link io.tagcache.interceptor.TagCacheInterceptor}
 * to the methods that carry them, and a {@link io.tagcache.interceptor.TagExtractor} derives tags from
 * returned object graphs. {@link io.tagcache.interceptor.TaggedCachingConfiguration} registers it all;
 * no {@code @Enable...} annotation is needed. Depends on the core API and the annotations only.
 */
@NullMarked
package io.tagcache.interceptor;

import org.jspecify.annotations.NullMarked;
