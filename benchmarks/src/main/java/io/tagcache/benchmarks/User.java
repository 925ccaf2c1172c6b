package io.tagcache.benchmarks;

import io.tagcache.annotation.TagEntity;
import io.tagcache.annotation.TagId;

/**
 * The cached value of every benchmark: a user with a few fields and a bio of about 1 KiB, embedding
 * its location, so its JSON is about 1.1 KiB and it carries the tags {@code user-<id>} and
 * {@code loc-<id>}.
 */
@TagEntity("user")
public record User(@TagId long id, String name, String mail, boolean active, Location location, String bio) {

	private static final String BIO = oneKibBio();

	/** How many locations users are spread over. */
	public static final int LOCATIONS = 100;

	/** The user with this id (deterministic: the same id gives an equal user). */
	public static User of(long id) {
		long location = id % LOCATIONS;
		return new User(id, "User " + id, "user" + id + "@example.com", (id & 1) == 0,
				new Location(location, "City " + location), BIO);
	}

	private static String oneKibBio() {
		String sentence = "Writes code, reviews code, and caches whatever can be cached. ";
		StringBuilder bio = new StringBuilder(1024);
		while (bio.length() + sentence.length() <= 1024) {
			bio.append(sentence);
		}
		while (bio.length() < 1024) {
			bio.append('.');
		}
		return bio.toString();
	}

	/** A place users live in; renaming it must drop every user there. */
	@TagEntity("loc")
	public record Location(long id, String name) {
	}

}
