/**
 * Runs the sample without installing Redis: an embedded Redis server when none is configured.
 */
@NullMarked
package io.tagcache.sample.redis;

import org.jspecify.annotations.NullMarked;
