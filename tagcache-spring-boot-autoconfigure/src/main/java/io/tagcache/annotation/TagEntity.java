package io.tagcache.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a type whose instances tag every cached result they appear in, so that invalidating one
 * instance's tag drops every entry that embeds it: a user cached by id, by mail, inside lists and
 * inside other users' entries alike.
 *
 * <p>Every instance reachable from a {@link CacheableTagged} result adds the tag {@code <prefix>-<id>},
 * e.g. {@code user-42}, matching {@code @InvalidateTags("'user-' + #user.id")}. Reachable means in the
 * graph the cached JSON holds: the result itself, the properties Jackson writes of application types
 * (records, beans and DTOs such as {@code Page(List<User> items, long total)}, tagged or not), elements of
 * collections and arrays, map values, {@code Optional}s, recursively. JDK and framework types are not
 * looked into. The id is the member annotated {@link TagId}, or else the property named {@code id}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Documented
public @interface TagEntity {

	/**
	 * The tag prefix, such as {@code "user"} for tags {@code user-<id>}.
	 * @return the prefix
	 */
	String value();

}
