/**
 * The tagcache sample: users embedding their location, cached by id, by mail and per location, and
 * invalidated by tags on every change.
 */
@NullMarked
package io.tagcache.sample;

import org.jspecify.annotations.NullMarked;
