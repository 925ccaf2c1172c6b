package io.tagcache.sample;

import io.tagcache.annotation.TagEntity;

import org.springframework.data.annotation.Id;
import org.springframework.data.relational.core.mapping.Table;

/**
 * A place users belong to. Every cached result that contains a location, directly or embedded in a
 * user, carries the tag {@code location-<id>}: renaming the location drops all of them.
 *
 * @param id the id, also the tag's id (the property named {@code id})
 * @param name the name, such as "Rome"
 */
@Table("locations")
@TagEntity(Location.TAG_PREFIX)
public record Location(@Id long id, String name) {

	/** The prefix of a location's tag, and the content type the CMS webhook calls it. */
	public static final String TAG_PREFIX = "location";

}
