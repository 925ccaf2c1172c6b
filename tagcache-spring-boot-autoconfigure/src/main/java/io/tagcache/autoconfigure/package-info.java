/**
 * Spring Boot auto-configuration of tagcache: the only package that wires beans.
 */
@NullMarked
package io.tagcache.autoconfigure;

import org.jspecify.annotations.NullMarked;
