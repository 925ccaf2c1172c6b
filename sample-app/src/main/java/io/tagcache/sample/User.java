package io.tagcache.sample;

import io.tagcache.annotation.TagEntity;
import io.tagcache.annotation.TagId;

import org.springframework.data.annotation.Id;
import org.springframework.data.relational.core.mapping.Table;

/**
 * A user, with its location embedded: the JSON of a user shows the location's name, so a cached user
 * carries both tags, {@code user-<id>} and {@code location-<locationId>}.
 *
 * <p>{@code @Table} and {@code @Id} only tell Spring Data that {@link UserRepository} is a JDBC
 * repository (Spring Data Redis is on the classpath too); the queries are written out.
 *
 * @param id the id
 * @param mail the mail address; looked up case-insensitively
 * @param location the user's location, embedded
 */
@Table("users")
@TagEntity(User.TAG_PREFIX)
public record User(@Id @TagId long id, String mail, Location location) {

	/** The prefix of a user's tag, and the content type the CMS webhook calls it. */
	public static final String TAG_PREFIX = "user";

}
