package io.tagcache.sample;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import io.tagcache.TagInvalidator;
import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;
import org.jspecify.annotations.Nullable;

import org.springframework.stereotype.Service;

/**
 * The cached reads and the invalidating writes of the sample, showing the three cases that keys alone
 * cannot handle.
 *
 * <ul>
 * <li><b>Variants</b>: one user is cached by id ({@code 1}) and by every spelling of its mail
 * ({@code mail:foo@a}, {@code mail:FoO@a}). All of them carry {@code user-1}, so changing the user drops
 * them all without knowing the spellings anyone asked for.
 * <li><b>Embedded resources</b>: a user embeds its location, so every cached user carries the tag of its
 * location too ({@code location-1}); renaming the location drops exactly the users in it.
 * <li><b>Lists</b>: the users of a location carry the tag of each element plus
 * {@code users-in-location-<id>}, the tag of the membership itself: a user moving away drops the old
 * list (it holds {@code user-<id>}), and the new one through its membership tag.
 * </ul>
 *
 * <p>The {@code user-<id>} and {@code location-<id>} tags come from {@link User} and {@link Location}
 * ({@code @TagEntity}); only the membership tag is spelled out here. The writes invalidate after they
 * returned, so after their statement committed: a reader can no longer load the old row. A reader that
 * loaded it just before is fenced: tagcache refuses to store its value.
 */
@Service
public class Directory {

	/** The membership tag of a location's user list, {@code users-in-location-<id>}. */
	static final String MEMBERS = "users-in-location-";

	private final UserRepository users;

	private final LocationRepository locations;

	private final TagInvalidator invalidator;

	public Directory(UserRepository users, LocationRepository locations, TagInvalidator invalidator) {
		this.users = users;
		this.locations = locations;
		this.invalidator = invalidator;
	}

	/**
	 * A user by id. A "no such user" is cached too, tagged {@code user-<id>}, so that whatever creates
	 * the user and invalidates its tag also drops the cached 404.
	 */
	@CacheableTagged(cacheNames = "users", key = "#id", tags = "'user-' + #id")
	public Optional<User> user(long id) {
		return this.users.findById(id);
	}

	/**
	 * A user by mail, case-insensitively: {@code foo@a} and {@code FoO@a} are two entries of one user.
	 * A "no such user" is not cached: no tag could drop it when a user takes this mail later.
	 */
	@CacheableTagged(cacheNames = "users", key = "'mail:' + #mail", unless = "#result == null", ttl = "10m")
	public Optional<User> userByMail(String mail) {
		return this.users.findByMail(mail);
	}

	/** The users of a location, or empty when there is no such location. */
	@CacheableTagged(cacheNames = "usersByLocation", key = "#locationId",
			tags = { "'users-in-location-' + #locationId", "'location-' + #locationId" })
	public Optional<List<User>> usersIn(long locationId) {
		if (!this.locations.existsById(locationId)) {
			return Optional.empty();
		}
		return Optional.of(this.users.findByLocationId(locationId));
	}

	/**
	 * Changes a user's mail and/or location; {@code null} keeps the current value. Drops every variant
	 * of the user and the lists it is in (all tagged {@code user-<id>}), and the list of the location it
	 * is in now.
	 * @return the changed user, or empty when there is no such user
	 * @throws UnknownLocationException when the new location does not exist
	 */
	@InvalidateTags(tags = { "'user-' + #id", "'users-in-location-' + #result.location().id()" },
			condition = "#result != null")
	public Optional<User> updateUser(long id, @Nullable String mail, @Nullable Long locationId) {
		if (locationId != null && !this.locations.existsById(locationId)) {
			throw new UnknownLocationException(locationId);
		}
		if (!this.users.update(id, mail, locationId)) {
			return Optional.empty();
		}
		return this.users.findById(id);
	}

	/**
	 * Renames a location. Drops every cached user in it and its list (all tagged
	 * {@code location-<id>}), nothing else.
	 * @return the renamed location, or empty when there is no such location
	 */
	@InvalidateTags(tags = "'location-' + #id", condition = "#result != null")
	public Optional<Location> renameLocation(long id, String name) {
		if (!this.locations.rename(id, name)) {
			return Optional.empty();
		}
		return this.locations.findById(id);
	}

	/**
	 * Invalidates what a content-management system changed in the database itself, through the
	 * programmatic API. A CMS says what changed, not how: a changed user may have moved, so the list
	 * of the location it is in now is dropped too (the old one holds {@code user-<id>}). A soft
	 * invalidation marks the entries stale instead: readers keep getting them while one request per
	 * entry reloads it (for a CMS publishing a typo fix, say, where a short stale window is fine).
	 * @param soft whether to mark the entries stale rather than remove them
	 * @return the tags invalidated and the number of entries removed (or marked)
	 */
	public Invalidation contentChanged(List<ContentChange> changes, boolean soft) {
		Set<String> tags = new LinkedHashSet<>();
		for (ContentChange change : changes) {
			tags.add(change.type() + "-" + change.id());
			if (User.TAG_PREFIX.equals(change.type())) {
				this.users.findLocationId(change.id()).ifPresent((locationId) -> tags.add(MEMBERS + locationId));
			}
		}
		long entries = soft ? this.invalidator.softInvalidate(tags) : this.invalidator.invalidate(tags);
		return new Invalidation(List.copyOf(tags), entries, soft);
	}

	/**
	 * One entity changed by the content-management system.
	 * @param type its type, the prefix of its tag: {@code user} or {@code location}
	 * @param id its id
	 */
	public record ContentChange(String type, long id) {
	}

	/**
	 * What a webhook call invalidated.
	 * @param tags the tags invalidated
	 * @param entries the number of cache entries they removed (or marked stale, when soft), over all caches
	 * @param soft whether the entries were marked stale rather than removed
	 */
	public record Invalidation(List<String> tags, long entries, boolean soft) {
	}

	/** A change refers to a location that does not exist. */
	public static class UnknownLocationException extends RuntimeException {

		UnknownLocationException(long id) {
			super("No location " + id);
		}

	}

}
