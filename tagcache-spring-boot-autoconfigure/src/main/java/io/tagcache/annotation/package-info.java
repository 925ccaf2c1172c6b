/**
 * The annotations users put on their services and entities: {@link io.tagcache.annotation.CacheableTagged}
 * and {@link io.tagcache.annotation.InvalidateTags} on methods, {@link io.tagcache.annotation.TagEntity} and
 * {@link io.tagcache.annotation.TagId} on the types whose identity becomes a tag. This package depends on
 * nothing else of tagcache, so domain modules can use the entity annotations without pulling in Redis.
 */
@NullMarked
package io.tagcache.annotation;

import org.jspecify.annotations.NullMarked;
