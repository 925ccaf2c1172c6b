package io.tagcache.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks the member of a {@link TagEntity} type that identifies an instance in its tag, for types whose
 * identity is not a property named {@code id} (a record component {@code isbn}, a {@code code()} method).
 * Allowed on a field, a record component or a method without parameters; its value is turned into text
 * with {@code String.valueOf} and must not be {@code null}.
 */
@Target({ ElementType.FIELD, ElementType.METHOD, ElementType.RECORD_COMPONENT })
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface TagId {

}
