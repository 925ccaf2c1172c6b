#!/usr/bin/env bash
# Runs the whole benchmark suite (about 29 minutes on 2 cores) and writes every result to
# benchmarks/target/results/: JMH JSON and text per run, invalidation.csv, redis-cost.txt,
# interleaved.md, stampede.md, expiry-latency.md, soft-invalidation.md, soft-invalidation-t64.md,
# soft-marking.md, machine.txt and summary.md (the tables of BENCHMARKS.md).
#
#   bash benchmarks/run-benchmarks.sh            # waits (up to 20 min) for a quiet machine first
#   NO_WAIT=1 bash benchmarks/run-benchmarks.sh  # runs at once
#   JMH="-f 1 -wi 0 -i 1 -r 1s" bash benchmarks/run-benchmarks.sh   # smoke run
#
# Each benchmark starts its own redis-server on a free loopback port and stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=benchmarks/target/results
JMH=${JMH:-"-f 1 -wi 2 -i 3 -w 2s -r 3s"}
SINGLE_SHOT=${SINGLE_SHOT:-"-f 1 -wi 1 -i 3"}
# 8 threads on 2 cores leave the JIT little CPU: the annotated paths need a longer warm-up there
JMH8=${JMH8:-"-f 1 -wi 4 -i 3 -w 3s -r 3s"}

if [ -z "${NO_WAIT:-}" ]; then
  for _ in $(seq 1 40); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    if awk -v l="$load" 'BEGIN { exit !(l < 1.0) }'; then break; fi
    echo "1-minute load average $load >= 1.0; waiting 30 s"
    sleep 30
  done
fi

mvn -q -Pbenchmarks -pl benchmarks -am package -DskipTests
JAR=benchmarks/target/benchmarks.jar
rm -rf "$OUT" && mkdir -p "$OUT"

{
  echo "date: $(date -u +%FT%TZ)"
  echo "nproc: $(nproc)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
  echo "memory: $(free -h | awk '/^Mem:/ { print $2 }')"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "redis: $(redis-server --version)"
  echo "jmh settings: $JMH (8 threads: $JMH8; single-shot: $SINGLE_SHOT)"
  echo "load before: $(uptime)"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt"

run() {
  local name=$1; shift
  echo "== $name: $* (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.txt"
  java -jar "$JAR" "$@" -rf json -rff "$OUT/$name.json" > "$OUT/$name.txt" 2>&1
  tail -n 20 "$OUT/$name.txt" | grep -E '^(Benchmark|[A-Z][A-Za-z]+Benchmark)' || true
}

run hit-t1 HitBenchmark -t 1 -bm sample -tu us -prof gc $JMH
run hit-t8 HitBenchmark -t 8 -bm thrpt -tu s -prof gc $JMH8
run put-t1 PutBenchmark -t 1 -bm sample -tu us -prof gc $JMH
# deferred puts are left out at 8 threads: their backlog grows without bound and the fork runs out of heap
run put-t8 PutBenchmark -t 8 -bm thrpt -tu s -e springPutDeferred $JMH8
run tags-t1 TagExtractionBenchmark -t 1 -prof gc $JMH
run tags-t8 TagExtractionBenchmark -t 8 -prof gc $JMH
run invalidation-t1 InvalidationBenchmark -t 1 $SINGLE_SHOT
run invalidation-t8 InvalidationBenchmark -t 8 -p size=1,100,10000 $SINGLE_SHOT
# where the CPU of a hit goes at 8 threads (Java Flight Recorder, summarized per step)
for b in tagcacheAnnotation springDataRedisAnnotation; do
  run "jfr-$b" "HitBenchmark.$b\$" -t 8 -bm thrpt -tu s \
    -prof "jfr:dir=$OUT/jfr-$b;configName=$PWD/benchmarks/jfr/execution-sampling.jfc" $JMH8
  java -cp "$JAR" io.tagcache.benchmarks.JfrSummary "$(find "$OUT/jfr-$b" -name '*.jfr' | head -1)" > "$OUT/jfr-$b.md"
done
echo "== InterleavedComparison (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.txt"
java -Xms1g -Xmx1g -cp "$JAR" io.tagcache.benchmarks.InterleavedComparison > "$OUT/interleaved.log" 2>&1
echo "== RedisCostReport (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.txt"
java -cp "$JAR" io.tagcache.benchmarks.RedisCostReport > "$OUT/redis-cost.log" 2>&1
echo "== StampedeReport (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.txt"
java -Xms1g -Xmx1g -cp "$JAR" io.tagcache.benchmarks.StampedeReport > "$OUT/stampede.log" 2>&1
echo "== ExpiryLatencyReport (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.txt"
java -Xms1g -Xmx1g -cp "$JAR" io.tagcache.benchmarks.ExpiryLatencyReport > "$OUT/expiry-latency.log" 2>&1
echo "== SoftInvalidationReport (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.txt"
java -Xms1g -Xmx1g -cp "$JAR" io.tagcache.benchmarks.SoftInvalidationReport > "$OUT/soft-invalidation.log" 2>&1
echo "== SoftInvalidationReport, 64 threads, Zipf keys and one hot key (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.txt"
java -Xms1g -Xmx1g -Dthreads=64 -Dkeys=zipf,hot -cp "$JAR" io.tagcache.benchmarks.SoftInvalidationReport \
  > "$OUT/soft-invalidation-t64.log" 2>&1
echo "== SoftMarkingReport (load: $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$OUT/load.txt"
java -Xms2g -Xmx2g -cp "$JAR" io.tagcache.benchmarks.SoftMarkingReport > "$OUT/soft-marking.log" 2>&1
echo "load after: $(uptime)" >> "$OUT/machine.txt"
java -cp "$JAR" io.tagcache.benchmarks.ResultsSummary "$OUT" > "$OUT/summary.md"
cat "$OUT/summary.md"
