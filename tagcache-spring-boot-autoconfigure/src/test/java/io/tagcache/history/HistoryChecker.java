package io.tagcache.history;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

import io.tagcache.history.History.Read;
import io.tagcache.history.History.Write;

/**
 * Finds the stale reads of a {@link History}: answers that a cache which honours its
 * invalidations could not have given.
 * <p>
 * A write is acknowledged once its annotated method returned, which is after its
 * invalidation; from then on every read that <em>starts</em> must see that write or a later
 * one. So a read that started at {@code S} is stale when:
 * <ul>
 * <li>it returned a user at version {@code v} while a write of that user with a higher
 * version was acknowledged before {@code S} (any lookup);</li>
 * <li>for a location list: a user is missing from the list (or present in it) although
 * the last write of that user acknowledged before {@code S} put it in (or out of) that
 * location, and no write moving that user was in flight at {@code S} or started before the
 * read ended;</li>
 * <li>for a mail lookup: it answered no user, or another user, than the one whose last
 * acknowledged write before {@code S} holds that mail, when no write taking or giving up
 * that mail was in flight at {@code S} or started before the read ended;</li>
 * <li>for a lookup by id: it answered no user, or another one.</li>
 * </ul>
 * A write that overlaps the read leaves either answer possible, so the membership rules
 * are skipped for it; the version rule never is. Writes that never returned count as in
 * flight for ever. The checker sorts each user's writes once, so each rule costs a binary
 * search per user and read.
 */
final class HistoryChecker {

	private final History history;

	private final Map<Long, Timeline> timelines = new HashMap<>();

	private final Map<String, Intervals> mailChanges = new HashMap<>();

	private HistoryChecker(History history) {
		this.history = history;
		Map<Long, List<Write>> writesByUser = new HashMap<>();
		Map<String, List<Write>> writesByMail = new HashMap<>();
		for (Write write : history.writes()) {
			writesByUser.computeIfAbsent(write.userId(), (id) -> new ArrayList<>()).add(write);
			Change change = write.change();
			if (!change.before().mail().equals(change.after().mail())) {
				writesByMail.computeIfAbsent(change.before().mail(), (mail) -> new ArrayList<>()).add(write);
				writesByMail.computeIfAbsent(change.after().mail(), (mail) -> new ArrayList<>()).add(write);
			}
		}
		history.initial()
			.forEach((id, user) -> this.timelines.put(id,
					new Timeline(user, writesByUser.getOrDefault(id, List.of()))));
		writesByMail.forEach((mail, writes) -> this.mailChanges.put(mail, new Intervals(writes)));
	}

	/**
	 * Check every read of a history.
	 * @param history the history of a finished round
	 * @return the stale reads, in the order they started
	 */
	static Report check(History history) {
		HistoryChecker checker = new HistoryChecker(history);
		List<Read> reads = new ArrayList<>(history.reads());
		reads.sort(Comparator.comparingLong(Read::start));
		List<StaleRead> stale = new ArrayList<>();
		for (Read read : reads) {
			StaleRead verdict = checker.check(read);
			if (verdict != null) {
				stale.add(verdict);
			}
		}
		return new Report(history, reads.size(), stale, checker);
	}

	private StaleRead check(Read read) {
		List<String> reasons = new ArrayList<>();
		Set<Long> involved = new LinkedHashSet<>();
		for (User returned : read.result()) {
			Timeline timeline = timeline(returned.id());
			Write newer = timeline.lastAcknowledgedBefore(read.start());
			if (newer != null && newer.version() > returned.version()) {
				reasons.add("user " + returned.id() + " answered at v" + returned.version() + " but v" + newer.version()
						+ " was acknowledged at " + this.history.format(newer.acknowledged()));
				involved.add(returned.id());
			}
		}
		switch (read.lookup()) {
			case BY_ID -> checkById(read, reasons, involved);
			case BY_MAIL -> checkByMail(read, reasons, involved);
			case BY_LOCATION -> checkByLocation(read, reasons, involved);
		}
		return reasons.isEmpty() ? null : new StaleRead(read, reasons, List.copyOf(involved));
	}

	private void checkById(Read read, List<String> reasons, Set<Long> involved) {
		long id = Long.parseLong(read.argument());
		if (read.result().size() != 1 || read.result().get(0).id() != id) {
			reasons.add("answered " + ids(read.result()) + " instead of user " + id);
			involved.add(id);
		}
	}

	private void checkByMail(Read read, List<String> reasons, Set<Long> involved) {
		String mail = UserDatabase.normalise(read.argument());
		Intervals changes = this.mailChanges.get(mail);
		if (changes != null && changes.overlap(read.start(), read.end())) {
			return;
		}
		List<Long> owners = new ArrayList<>();
		this.timelines.forEach((id, timeline) -> {
			if (timeline.knownAt(read.start()).mail().equals(mail)) {
				owners.add(id);
			}
		});
		if (owners.size() > 1) {
			throw new IllegalStateException("The database gave " + mail + " to users " + owners);
		}
		Long owner = owners.isEmpty() ? null : owners.get(0);
		Long answered = read.result().isEmpty() ? null : read.result().get(0).id();
		if (!Objects.equals(owner, answered)) {
			reasons.add("answered " + ((answered != null) ? "user " + answered : "no user") + " but " + mail
					+ " belonged to " + ((owner != null) ? "user " + owner : "nobody") + " since "
					+ since(owner, answered, read.start()));
			if (owner != null) {
				involved.add(owner);
			}
			if (answered != null) {
				involved.add(answered);
			}
		}
	}

	private String since(Long owner, Long answered, long start) {
		return Arrays.asList(owner, answered)
			.stream()
			.filter(Objects::nonNull)
			.map((id) -> timeline(id).lastAcknowledgedBefore(start))
			.filter(Objects::nonNull)
			.map((write) -> "v" + write.version() + " of user " + write.userId() + " acknowledged at "
					+ this.history.format(write.acknowledged()))
			.collect(Collectors.collectingAndThen(Collectors.joining(" and "),
					(text) -> text.isEmpty() ? "the start" : text));
	}

	private void checkByLocation(Read read, List<String> reasons, Set<Long> involved) {
		long locationId = Long.parseLong(read.argument());
		Set<Long> listed = read.result().stream().map(User::id).collect(Collectors.toSet());
		this.timelines.forEach((id, timeline) -> {
			if (timeline.moves.overlap(read.start(), read.end())) {
				return;
			}
			User known = timeline.knownAt(read.start());
			boolean expected = known.locationId() == locationId;
			if (expected != listed.contains(id)) {
				Write last = timeline.lastAcknowledgedBefore(read.start());
				reasons.add("user " + id + (expected ? " missing" : " listed") + " but it was in loc "
						+ known.locationId() + " since " + ((last != null) ? "v" + last.version()
								+ " acknowledged at " + this.history.format(last.acknowledged()) : "the start"));
				involved.add(id);
			}
		});
	}

	private Timeline timeline(long id) {
		Timeline timeline = this.timelines.get(id);
		if (timeline == null) {
			throw new IllegalStateException("User " + id + " is not in the database");
		}
		return timeline;
	}

	private static String ids(List<User> users) {
		return users.stream().map((user) -> "user " + user.id()).toList().toString();
	}

	/**
	 * The writes of one user: which version was the latest acknowledged at any instant, and
	 * when a write moving the user between locations was in flight.
	 */
	private static final class Timeline {

		private final User initial;

		private final Map<Long, User> states = new HashMap<>();

		/** Writes by start, for histories. */
		private final List<Write> writes;

		/** Acknowledgement instants, ascending, and the highest version acknowledged up to each. */
		private final long[] acknowledged;

		private final Write[] latest;

		private final Intervals moves;

		Timeline(User initial, List<Write> writes) {
			this.initial = initial;
			this.states.put(initial.version(), initial);
			writes.forEach((write) -> this.states.put(write.version(), write.change().after()));
			this.writes = writes.stream().sorted(Comparator.comparingLong(Write::start)).toList();
			List<Write> byAcknowledgement = writes.stream()
				.filter((write) -> write.acknowledged() != History.NEVER)
				.sorted(Comparator.comparingLong(Write::acknowledged))
				.toList();
			this.acknowledged = new long[byAcknowledgement.size()];
			this.latest = new Write[byAcknowledgement.size()];
			for (int i = 0; i < this.acknowledged.length; i++) {
				Write write = byAcknowledgement.get(i);
				this.acknowledged[i] = write.acknowledged();
				this.latest[i] = (i > 0 && this.latest[i - 1].version() > write.version()) ? this.latest[i - 1] : write;
			}
			this.moves = new Intervals(writes.stream()
				.filter((write) -> write.change().before().locationId() != write.change().after().locationId())
				.toList());
		}

		/** The acknowledged write of the highest version before an instant, or {@code null}. */
		Write lastAcknowledgedBefore(long instant) {
			int count = countBelow(this.acknowledged, instant);
			return (count > 0) ? this.latest[count - 1] : null;
		}

		/** The state every read starting at that instant must know (at least). */
		User knownAt(long instant) {
			Write write = lastAcknowledgedBefore(instant);
			return (write != null) ? this.states.get(write.version()) : this.initial;
		}

	}

	/** The spans of some writes, from start to acknowledgement, to find those overlapping a read. */
	private static final class Intervals {

		private final long[] starts;

		/** The latest acknowledgement among the writes up to each start. */
		private final long[] latestEnd;

		Intervals(List<Write> writes) {
			List<Write> byStart = writes.stream().sorted(Comparator.comparingLong(Write::start)).toList();
			this.starts = new long[byStart.size()];
			this.latestEnd = new long[byStart.size()];
			for (int i = 0; i < this.starts.length; i++) {
				this.starts[i] = byStart.get(i).start();
				this.latestEnd[i] = Math.max((i > 0) ? this.latestEnd[i - 1] : Long.MIN_VALUE,
						byStart.get(i).acknowledged());
			}
		}

		/**
		 * Whether a write was in flight at {@code start} or started before {@code end}
		 * without being acknowledged before {@code start}.
		 */
		boolean overlap(long start, long end) {
			int count = countBelow(this.starts, end);
			return count > 0 && this.latestEnd[count - 1] >= start;
		}

	}

	/** The number of values of an ascending array below a bound. */
	private static int countBelow(long[] ascending, long bound) {
		int low = 0;
		int high = ascending.length;
		while (low < high) {
			int middle = (low + high) >>> 1;
			if (ascending[middle] < bound) {
				low = middle + 1;
			}
			else {
				high = middle;
			}
		}
		return low;
	}

	/**
	 * A read the checker judged stale, with why.
	 * @param read the read
	 * @param reasons each rule it broke
	 * @param users the users whose writes explain it
	 */
	record StaleRead(Read read, List<String> reasons, List<Long> users) {
	}

	/** The verdict on one history. */
	static final class Report {

		private final History history;

		private final int reads;

		private final List<StaleRead> stale;

		private final HistoryChecker checker;

		private Report(History history, int reads, List<StaleRead> stale, HistoryChecker checker) {
			this.history = history;
			this.reads = reads;
			this.stale = stale;
			this.checker = checker;
		}

		int reads() {
			return this.reads;
		}

		List<StaleRead> staleReads() {
			return this.stale;
		}

		/**
		 * A readable history of the first stale reads: each read, why it is stale, and the
		 * writes of the users concerned around it.
		 * @param limit how many stale reads to describe
		 * @return the description, empty when nothing is stale
		 */
		String describe(int limit) {
			StringBuilder text = new StringBuilder();
			for (StaleRead stale : this.stale.subList(0, Math.min(limit, this.stale.size()))) {
				Read read = stale.read();
				text.append(read.reader())
					.append(": ")
					.append(read.lookup())
					.append('(')
					.append(read.argument())
					.append(") from ")
					.append(this.history.format(read.start()))
					.append(" to ")
					.append(this.history.format(read.end()))
					.append(" answered ")
					.append(read.result())
					.append('\n');
				stale.reasons().forEach((reason) -> text.append("    STALE: ").append(reason).append('\n'));
				for (long id : stale.users()) {
					text.append("    writes of user ").append(id).append(" around it:\n");
					aroundRead(this.checker.timeline(id).writes, read)
						.forEach((write) -> text.append("      v")
							.append(write.version())
							.append(' ')
							.append(write.change().describe())
							.append(" by ")
							.append(write.writer())
							.append(": started ")
							.append(this.history.format(write.start()))
							.append(", applied ")
							.append(this.history.format(write.applied()))
							.append(", acknowledged ")
							.append(this.history.format(write.acknowledged()))
							.append('\n'));
				}
			}
			if (this.stale.size() > limit) {
				text.append("... and ").append(this.stale.size() - limit).append(" more stale reads\n");
			}
			return text.toString();
		}

		/** The last three writes that started before the read, those during it and the next one. */
		private static List<Write> aroundRead(List<Write> byStart, Read read) {
			int first = Math.max(0, countBelow(byStart.stream().mapToLong(Write::start).toArray(), read.start()) - 3);
			List<Write> around = new ArrayList<>();
			for (int i = first; i < byStart.size(); i++) {
				around.add(byStart.get(i));
				if (byStart.get(i).start() > read.end()) {
					break;
				}
			}
			return around;
		}

	}

}
