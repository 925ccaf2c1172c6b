package io.tagcache.benchmarks;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A seeded Zipf sampler over ranks {@code 0..n-1}: rank {@code k} is drawn with probability
 * proportional to {@code 1 / (k + 1)^s}. The cumulative distribution is tabulated once and each draw
 * is a binary search; benchmarks draw their keys into arrays before measuring, so that sampling costs
 * nothing in the measured path (the Caffeine habit: realistic, skewed keys, drawn up front).
 */
public final class Zipf {

	private final double[] cdf;

	private final SplittableRandom random;

	/**
	 * @param n the number of ranks
	 * @param exponent the skew {@code s} (0.99 is the common web-cache figure, as in YCSB)
	 * @param seed the seed: the same seed draws the same sequence
	 */
	public Zipf(int n, double exponent, long seed) {
		this.cdf = new double[n];
		double sum = 0;
		for (int k = 0; k < n; k++) {
			sum += 1.0 / Math.pow(k + 1, exponent);
			this.cdf[k] = sum;
		}
		for (int k = 0; k < n; k++) {
			this.cdf[k] /= sum;
		}
		this.random = new SplittableRandom(seed);
	}

	/** Draw one rank. */
	public int next() {
		int found = Arrays.binarySearch(this.cdf, this.random.nextDouble());
		int rank = (found >= 0) ? found : -found - 1;
		return Math.min(rank, this.cdf.length - 1);
	}

	/**
	 * Draw {@code count} ranks, each plus {@code offset} (ids that start at 1, say).
	 * @param count a power of two, so that a thread can walk the array with a mask
	 */
	public long[] draw(int count, long offset) {
		if (Integer.bitCount(count) != 1) {
			throw new IllegalArgumentException("count must be a power of two, was " + count);
		}
		long[] draws = new long[count];
		for (int i = 0; i < count; i++) {
			draws[i] = next() + offset;
		}
		return draws;
	}

}
