/**
 * Cache tag headers on Spring MVC responses ({@code tagcache.http.headers}).
 */
@NullMarked
package io.tagcache.http.servlet;

import org.jspecify.annotations.NullMarked;
