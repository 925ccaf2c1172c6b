package io.tagcache.benchmarks;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import io.tagcache.interceptor.TagExtractor;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Tag extraction from a cached list: {@link TagExtractor#extract} over 1,000 users, each embedding
 * its own {@code Location} instance (100 distinct locations), giving 1,100 tags; and over the same
 * users inside a {@code Page} record that is not an entity, whose properties the extractor learns from
 * Jackson. No Redis involved.
 *
 * <p>Run (with allocation per call):
 * <pre>
 * mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/benchmarks.jar TagExtractionBenchmark -t 1 -prof gc
 * java -jar benchmarks/target/benchmarks.jar TagExtractionBenchmark -t 8 -prof gc
 * java -jar benchmarks/target/benchmarks.jar TagExtractionBenchmark -f 1 -wi 3 -i 5
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class TagExtractionBenchmark {

	private final TagExtractor extractor = new TagExtractor(List.of());

	private List<User> users;

	private Page<User> page;

	@Setup
	public void setUp() {
		this.users = new ArrayList<>(1000);
		for (long id = 1; id <= 1000; id++) {
			this.users.add(User.of(id));
		}
		this.page = new Page<>(this.users, 0, this.users.size());
		for (Object value : List.of(this.users, this.page)) {
			int tags = this.extractor.extract(value).size();
			if (tags != 1000 + User.LOCATIONS) {
				throw new IllegalStateException("expected 1,100 tags, got " + tags);
			}
		}
	}

	@Benchmark
	public Set<String> extract() {
		return this.extractor.extract(this.users);
	}

	@Benchmark
	public Set<String> extractFromPage() {
		return this.extractor.extract(this.page);
	}

	/** A page of results as applications cache them: not an entity, walked through its properties. */
	public record Page<T>(List<T> items, int number, long total) {
	}

}
