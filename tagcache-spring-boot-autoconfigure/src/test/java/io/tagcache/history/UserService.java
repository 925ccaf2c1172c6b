package io.tagcache.history;

import java.util.List;
import java.util.Optional;

import io.tagcache.annotation.CacheableTagged;
import io.tagcache.annotation.InvalidateTags;

/**
 * The application service of one instance: three lookups that cache the same users under
 * different keys, and one write method for every kind of change.
 * <p>
 * The mail lookup is keyed by the mail as the caller spelled it ({@code "M3@x"} and
 * {@code "m3@x"} are two entries) and tagged with the normalised mail, so that a mail
 * passing from one user to another drops every spelling, including those that answered
 * nobody. The location list carries its location's tag and, through {@code @TagEntity},
 * the tag of every user in it.
 */
public class UserService {

	private final UserDatabase database;

	private final Runnable loaded;

	UserService(UserDatabase database, Runnable loaded) {
		this.database = database;
		this.loaded = loaded;
	}

	/** The caches of the service. */
	static final String[] CACHES = { "users", "usersByMail", "usersByLocation" };

	@CacheableTagged(cacheNames = "users", key = "#id")
	public User byId(long id) {
		this.loaded.run();
		return this.database.find(id);
	}

	@CacheableTagged(cacheNames = "usersByMail", key = "#mail", tags = "'mail-' + #mail.toLowerCase()")
	public Optional<User> byMail(String mail) {
		this.loaded.run();
		return this.database.findByMail(mail);
	}

	@CacheableTagged(cacheNames = "usersByLocation", key = "#locationId", tags = "'loc-' + #locationId")
	public List<User> byLocation(long locationId) {
		this.loaded.run();
		return this.database.findByLocation(locationId);
	}

	/**
	 * Apply an update, then invalidate what the old and the new state of the user are
	 * cached under.
	 * @param update the update
	 * @return the states before and after
	 */
	@InvalidateTags({ "'user-' + #result.after.id", "'loc-' + #result.before.locationId",
			"'loc-' + #result.after.locationId", "'mail-' + #result.before.mail", "'mail-' + #result.after.mail" })
	public Change write(UserDatabase.Update update) {
		return this.database.write(update);
	}

}
