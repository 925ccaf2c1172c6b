package io.tagcache.history;

import java.util.List;

import io.tagcache.history.History.Lookup;
import io.tagcache.history.History.Read;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link HistoryChecker} on hand-made histories: each rule flags the read it must, and
 * spares the reads that overlap a write. Instants are plain numbers on the history's clock.
 */
class HistoryCheckerTests {

	private static final User ANN = new User(1, "Ann", "ann@x", 1, 0);

	private static final User BOB = new User(2, "Bob", "bob@x", 2, 0);

	private final History history = new History(List.of(ANN, BOB));

	@Test
	void aReadStartingAfterAnAcknowledgedWriteMustSeeIt() {
		User renamed = write(ANN, new User(1, "Anna", "ann@x", 1, 1), 100, 110, 120);
		read(Lookup.BY_ID, "1", 121, 130, ANN);
		read(Lookup.BY_ID, "1", 119, 130, ANN);
		read(Lookup.BY_ID, "1", 121, 130, renamed);

		HistoryChecker.Report report = HistoryChecker.check(this.history);

		assertThat(report.reads()).isEqualTo(3);
		assertThat(report.staleReads()).singleElement()
			.satisfies((stale) -> assertThat(stale.read().start()).isEqualTo(121));
		assertThat(report.describe(10)).contains("user 1 answered at v0 but v1 was acknowledged")
			.contains("v1 rename Ann -> Anna by writer: started");
	}

	@Test
	void aWriteThatNeverReturnedMakesNoReadStale() {
		this.history.applied(new Change(ANN, new User(1, "Anna", "ann@x", 1, 1)), 110, "writer");
		read(Lookup.BY_ID, "1", 200, 210, ANN);
		read(Lookup.BY_LOCATION, "1", 200, 210, ANN);

		assertThat(HistoryChecker.check(this.history).staleReads()).isEmpty();
	}

	@Test
	void aListMustFollowAcknowledgedMoves() {
		User moved = write(BOB, new User(2, "Bob", "bob@x", 1, 1), 100, 110, 120);
		read(Lookup.BY_LOCATION, "1", 130, 140, ANN);
		read(Lookup.BY_LOCATION, "2", 130, 140, BOB);
		read(Lookup.BY_LOCATION, "1", 130, 140, ANN, moved);
		read(Lookup.BY_LOCATION, "2", 130, 140);

		List<HistoryChecker.StaleRead> stale = HistoryChecker.check(this.history).staleReads();

		assertThat(stale).hasSize(2);
		assertThat(stale.get(0).reasons()).containsExactly(
				"user 2 missing but it was in loc 1 since v1 acknowledged at " + this.history.format(120));
		assertThat(stale.get(1).reasons()).contains("user 2 listed but it was in loc 1 since v1 acknowledged at "
				+ this.history.format(120));
	}

	@Test
	void aListMaySeeEitherSideOfAMoveInFlight() {
		write(BOB, new User(2, "Bob", "bob@x", 1, 1), 100, 110, 120);
		read(Lookup.BY_LOCATION, "1", 115, 140, ANN);
		read(Lookup.BY_LOCATION, "2", 90, 105, BOB);
		read(Lookup.BY_LOCATION, "2", 90, 95, BOB);

		assertThat(HistoryChecker.check(this.history).staleReads()).isEmpty();
	}

	@Test
	void aMailLookupMustAnswerItsCurrentOwnerWhateverTheSpelling() {
		User annMoved = write(ANN, new User(1, "Ann", "new@x", 1, 1), 100, 110, 120);
		User bobTook = write(BOB, new User(2, "Bob", "ann@x", 2, 1), 130, 140, 150);
		read(Lookup.BY_MAIL, "ANN@x", 125, 128, ANN);
		read(Lookup.BY_MAIL, "Ann@X", 125, 128);
		read(Lookup.BY_MAIL, "ann@x", 160, 170);
		read(Lookup.BY_MAIL, "ann@X", 160, 170, annMoved);
		read(Lookup.BY_MAIL, "ann@x", 160, 170, bobTook);
		read(Lookup.BY_MAIL, "NEW@x", 160, 170, annMoved);
		read(Lookup.BY_MAIL, "ann@x", 135, 145);

		List<HistoryChecker.StaleRead> stale = HistoryChecker.check(this.history).staleReads();

		assertThat(stale).extracting((read) -> read.read().argument())
			.containsExactly("ANN@x", "ann@x", "ann@X");
		assertThat(stale.get(1).reasons()).singleElement()
			.asString()
			.startsWith("answered no user but ann@x belonged to user 2");
	}

	@Test
	void aLookupByIdMustAnswerThatUser() {
		read(Lookup.BY_ID, "1", 10, 20);
		read(Lookup.BY_ID, "1", 10, 20, BOB);

		assertThat(HistoryChecker.check(this.history).staleReads()).hasSize(2);
	}

	private User write(User before, User after, long start, long applied, long acknowledged) {
		this.history.applied(new Change(before, after), applied, "writer");
		this.history.acknowledged(after, start, acknowledged);
		return after;
	}

	private void read(Lookup lookup, String argument, long start, long end, User... result) {
		this.history.read(new Read("reader", lookup, argument, start, end, List.of(result)));
	}

}
