package io.tagcache.history;

import io.tagcache.annotation.TagEntity;

/**
 * A user as the database holds it at one version. Cached results carry the tag
 * {@code user-<id>} through {@link TagEntity}, so invalidating a user reaches every lookup
 * and every list that holds it.
 *
 * @param id the user's id, fixed
 * @param name the user's name
 * @param mail the user's mail, normalised (lower case)
 * @param locationId the location the user is in
 * @param version the number of writes of this user so far (0 for the initial state)
 */
@TagEntity("user")
public record User(long id, String name, String mail, long locationId, long version) {

	@Override
	public String toString() {
		return "user " + this.id + " v" + this.version + " (" + this.name + ", " + this.mail + ", loc " + this.locationId
				+ ")";
	}

}
