/**
 * The tagged-cache API: a {@link io.tagcache.TaggedCache} stores entries together with the
 * tags of everything they contain, and a {@link io.tagcache.TagInvalidator} removes every
 * entry carrying a tag, across caches.
 */
@NullMarked
package io.tagcache;

import org.jspecify.annotations.NullMarked;
