#!/usr/bin/env bash
# Runs the journal's JMH benchmark (issue 3: the store alone, 1 KiB records, 1 to 512 appends in flight,
# fsync ALWAYS and NEVER) and prints appends/s and fsyncs/s per batch size.
#
#   bench/store-jmh.sh                    # all 12 cases, about 5 minutes
#   bench/store-jmh.sh -f 1 -wi 1 -w 1s -i 1 -r 2s -p batchSize=1,512    # arguments replace the JMH options
#
# Defaults suit a 2-core machine: one fork, 2 x 3 s warm-up, 3 x 5 s measurement per case.
# The journal's temporary directories go under $HOLDFAST_BENCH_DIR (default $TMPDIR or /tmp); it must be
# a real disk, not tmpfs. Writes bench/results/store-jmh-<timestamp>.{json,log,md}.
# Numbers from a machine that is busy with other work are low and noisy: check the load line in the .md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
jar="$root/holdfast-bench/target/benchmarks.jar"
data_base="${HOLDFAST_BENCH_DIR:-${TMPDIR:-/tmp}}"

opts=(-f 1 -wi 2 -w 3s -i 3 -r 5s)
(($#)) && opts=("$@")

if [[ "$(stat -f -c %T "$data_base")" == tmpfs ]]; then
  echo "warning: $data_base is tmpfs, where fsync costs nothing; set HOLDFAST_BENCH_DIR to a directory on disk" >&2
fi

mvn -B -q -f "$root/pom.xml" package -DskipTests -pl holdfast-bench -am >&2
# JMH starts each fork from the jar's path: run a private copy, so a reactor build elsewhere that rewrites
# target/benchmarks.jar mid-run cannot break the later forks (ClassNotFoundException: ForkedMain).
work="$(mktemp -d "${TMPDIR:-/tmp}/holdfast-store-jmh.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp "$jar" "$work/benchmarks.jar"
jar="$work/benchmarks.jar"

mkdir -p "$here/results"
stamp="$(date +%Y%m%d-%H%M%S)"
out="$here/results/store-jmh-$stamp"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
java -jar "$jar" JournalAppendBenchmark "${opts[@]}" \
  -jvmArgsAppend "-Xms1g -Xmx1g -Dholdfast.bench.dir=$data_base" \
  -foe true -rf json -rff "$out.json" 2>&1 | tee "$out.log"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

{
  echo "# Journal appends, 1 KiB records ($stamp)"
  echo
  echo "$(nproc) cores; load average before $load_before, after $load_after; JMH options: ${opts[*]}"
  echo "Journal directory under $data_base ($(stat -f -c %T "$data_base"))."
  echo
  echo "| fsync | batch | appends/s | ± (99.9%) | fsyncs/s | records/fsync |"
  echo "|---|---:|---:|---:|---:|---:|"
  jq -r '
    def n: if type == "number" then round | tostring else "n/a" end;
    sort_by([.params.fsync, (.params.batchSize | tonumber)])[]
    | .secondaryMetrics.appends as $a | .secondaryMetrics.fsyncs as $f
    | "| \(.params.fsync) | \(.params.batchSize) | \($a.score | n) | \($a.scoreError | n) | \($f.score | n) | "
      + (if $f.score >= 1 then ($a.score / $f.score * 10 | round / 10 | tostring) else "–" end) + " |"
  ' "$out.json"
} > "$out.md"
echo
cat "$out.md"
