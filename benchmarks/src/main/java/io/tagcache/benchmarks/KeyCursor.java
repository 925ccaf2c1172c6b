package io.tagcache.benchmarks;

import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.infra.ThreadParams;

/**
 * Each benchmark thread's walk over the precomputed Zipf draws: one array read and an increment per
 * operation, starting at a different place per thread so threads do not move in lock step.
 */
@State(Scope.Thread)
public class KeyCursor {

	/** How many draws are precomputed (a power of two). */
	public static final int DRAWS = 1 << 16;

	private static final int MASK = DRAWS - 1;

	private int index;

	@Setup
	public void start(ThreadParams thread) {
		this.index = thread.getThreadIndex() * 7919;
	}

	long next(long[] draws) {
		return draws[this.index++ & MASK];
	}

}
