package io.tagcache.history;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The database that two application instances share: a handful of users in a handful of
 * locations, with mails taken from a fixed pool larger than the number of users, so that a
 * mail can move from one user to another.
 * <p>
 * Every method holds the database's lock, so a load sees one consistent state and a write is
 * atomic; each write raises the user's version and is reported to the {@link History} of the
 * current round at the instant it is applied.
 */
final class UserDatabase {

	private final Map<Long, User> users = new HashMap<>();

	private final List<String> mails;

	private History history;

	/**
	 * Create a database of {@code userCount} users spread over {@code locationCount} locations.
	 * @param userCount the number of users, ids 1 to {@code userCount}
	 * @param locationCount the number of locations, ids 1 to {@code locationCount}
	 * @param mailCount the size of the mail pool, more than {@code userCount}
	 */
	UserDatabase(int userCount, int locationCount, int mailCount) {
		if (mailCount <= userCount) {
			throw new IllegalArgumentException("The mail pool must be larger than the number of users");
		}
		this.mails = new ArrayList<>();
		for (int i = 1; i <= mailCount; i++) {
			this.mails.add("m" + i + "@x");
		}
		for (long id = 1; id <= userCount; id++) {
			this.users.put(id, new User(id, "name" + id, this.mails.get((int) id - 1), 1 + (id % locationCount), 0));
		}
		this.history = new History(List.copyOf(this.users.values()));
	}

	/**
	 * The normal form of a mail, as stored and as tagged.
	 * @param mail a mail in any spelling
	 * @return the mail in lower case
	 */
	static String normalise(String mail) {
		return mail.toLowerCase(Locale.ROOT);
	}

	/** The pool of (normalised) mails, taken or free. */
	List<String> mails() {
		return this.mails;
	}

	/**
	 * Start a new history from the current state: call it only while nobody writes.
	 * @return the new history, which receives every write from now on
	 */
	synchronized History newHistory() {
		this.history = new History(List.copyOf(this.users.values()));
		return this.history;
	}

	synchronized User find(long id) {
		return this.users.get(id);
	}

	synchronized Optional<User> findByMail(String mail) {
		String normalised = normalise(mail);
		return this.users.values().stream().filter((user) -> user.mail().equals(normalised)).findFirst();
	}

	synchronized List<User> findByLocation(long locationId) {
		return this.users.values()
			.stream()
			.filter((user) -> user.locationId() == locationId)
			.sorted(Comparator.comparingLong(User::id))
			.toList();
	}

	/**
	 * Apply an update and record it in the current history.
	 * @param update the update
	 * @return the states before and after
	 */
	synchronized Change write(Update update) {
		User before = this.users.get(update.userId());
		User after = update.apply(before, this::freeMail);
		this.users.put(after.id(), after);
		Change change = new Change(before, after);
		this.history.applied(change, System.nanoTime(), Thread.currentThread().getName());
		return change;
	}

	/** The wanted mail if nobody has it, else the next free one of the pool after it. */
	private String freeMail(String wanted) {
		int start = Math.max(0, this.mails.indexOf(normalise(wanted)));
		for (int i = 0; i < this.mails.size(); i++) {
			String candidate = this.mails.get((start + i) % this.mails.size());
			if (this.users.values().stream().noneMatch((user) -> user.mail().equals(candidate))) {
				return candidate;
			}
		}
		throw new IllegalStateException("No free mail: the pool must be larger than the number of users");
	}

	/** A write the service can apply: one kind of change to one user. */
	sealed interface Update {

		long userId();

		/**
		 * The user's next state.
		 * @param before the current state
		 * @param freeMail the free mail nearest to a wanted one
		 * @return the state one version higher
		 */
		User apply(User before, UnaryOperator<String> freeMail);

		record Rename(long userId, String name) implements Update {

			@Override
			public User apply(User before, UnaryOperator<String> freeMail) {
				return new User(before.id(), this.name, before.mail(), before.locationId(), before.version() + 1);
			}

		}

		record ChangeMail(long userId, String mail) implements Update {

			@Override
			public User apply(User before, UnaryOperator<String> freeMail) {
				return new User(before.id(), before.name(), freeMail.apply(this.mail), before.locationId(),
						before.version() + 1);
			}

		}

		record Move(long userId, long locationId) implements Update {

			@Override
			public User apply(User before, UnaryOperator<String> freeMail) {
				return new User(before.id(), before.name(), before.mail(), this.locationId, before.version() + 1);
			}

		}

	}

}
