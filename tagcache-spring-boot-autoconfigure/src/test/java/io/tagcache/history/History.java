package io.tagcache.history;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * What the readers saw and what the writers did during one round, with
 * {@link System#nanoTime()} instants, for {@link HistoryChecker} to judge afterwards.
 * <p>
 * A write is known from two sides: the database reports it when it is applied (so a write
 * whose call never returned is still known, as one in flight for ever) and the writer
 * reports its acknowledgement, the instant the annotated method returned, after its
 * invalidation. The two are joined by user and version. Thread-safe.
 */
final class History {

	/** The acknowledgement of a write that never returned. */
	static final long NEVER = Long.MAX_VALUE;

	private final long origin = System.nanoTime();

	private final Map<Long, User> initial = new ConcurrentHashMap<>();

	private final Queue<Applied> applied = new ConcurrentLinkedQueue<>();

	private final Map<String, Acknowledgement> acknowledgements = new ConcurrentHashMap<>();

	private final Queue<Read> reads = new ConcurrentLinkedQueue<>();

	/**
	 * Start a history from a state that every reader is entitled to know: nothing is written
	 * while it is taken, and every earlier write was acknowledged.
	 * @param initial the users at the start
	 */
	History(Collection<User> initial) {
		initial.forEach((user) -> this.initial.put(user.id(), user));
	}

	/** The instant the history started, to print others relative to it. */
	long origin() {
		return this.origin;
	}

	Map<Long, User> initial() {
		return this.initial;
	}

	/**
	 * Record that the database applied a change.
	 * @param change the change
	 * @param at the instant it was applied
	 * @param writer who applied it
	 */
	void applied(Change change, long at, String writer) {
		this.applied.add(new Applied(change, at, writer));
	}

	/**
	 * Record that the call that wrote a version returned.
	 * @param written the state written
	 * @param start the instant the call started
	 * @param acknowledged the instant it returned
	 */
	void acknowledged(User written, long start, long acknowledged) {
		this.acknowledgements.put(key(written), new Acknowledgement(start, acknowledged));
	}

	void read(Read read) {
		this.reads.add(read);
	}

	List<Read> reads() {
		return List.copyOf(this.reads);
	}

	/**
	 * Every write applied, joined with its acknowledgement: one never acknowledged has
	 * {@link #NEVER} and starts when it was applied (the earliest it can matter).
	 * @return the writes, in no particular order
	 */
	List<Write> writes() {
		List<Write> writes = new ArrayList<>();
		for (Applied write : this.applied) {
			Acknowledgement ack = this.acknowledgements.get(key(write.change().after()));
			writes.add((ack != null)
					? new Write(write.change(), write.writer(), ack.start(), write.at(), ack.acknowledged())
					: new Write(write.change(), write.writer(), write.at(), write.at(), NEVER));
		}
		return writes;
	}

	private static String key(User user) {
		return user.id() + "@" + user.version();
	}

	/**
	 * The instant relative to the start of the history, for people.
	 * @param instant a {@link System#nanoTime()} instant
	 * @return e.g. {@code "1234.567ms"}
	 */
	String format(long instant) {
		if (instant == NEVER) {
			return "never";
		}
		return String.format("%.3fms", (instant - this.origin) / 1e6);
	}

	/** The kinds of lookup a reader makes. */
	enum Lookup {

		/** {@code byId(id)}: exactly one user. */
		BY_ID,

		/** {@code byMail(spelling)}: the user who has that mail, or none. */
		BY_MAIL,

		/** {@code byLocation(id)}: every user in that location. */
		BY_LOCATION

	}

	/**
	 * One lookup and what it answered.
	 * @param reader the reading thread
	 * @param lookup the kind of lookup
	 * @param argument the user id, mail spelling or location id
	 * @param start the instant the call started
	 * @param end the instant it returned
	 * @param result the users returned, none for an empty answer
	 */
	record Read(String reader, Lookup lookup, String argument, long start, long end, List<User> result) {
	}

	/**
	 * One write, from its start to its acknowledgement.
	 * @param change the states before and after
	 * @param writer the writing thread
	 * @param start the instant the call started
	 * @param applied the instant the database applied it
	 * @param acknowledged the instant the call returned, or {@link History#NEVER}
	 */
	record Write(Change change, String writer, long start, long applied, long acknowledged) {

		long userId() {
			return this.change.after().id();
		}

		long version() {
			return this.change.after().version();
		}

	}

	private record Applied(Change change, long at, String writer) {
	}

	private record Acknowledgement(long start, long acknowledged) {
	}

}
