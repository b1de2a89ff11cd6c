#!/usr/bin/env bash
# Replicated commands through holdfast-cluster's batching submitter (issue 8): three nodes in one JVM on
# loopback, each with its own data directory (fsync on), 1 KiB commands kept 1024 in flight; prints
# commands/s, entries/s (Raft log entries: each a batch), commands per entry and commit latency.
#
#   bench/cluster.sh                      # 20 s warm-up, 30 s measured
#   bench/cluster.sh 10 20 1024 256       # warm-up s, measured s, command bytes, commands in flight
#
# The data directories go under $HOLDFAST_BENCH_DIR (default $TMPDIR or /tmp); it must be a real disk, not
# tmpfs. Writes bench/results/cluster-<timestamp>.txt. Numbers from a busy machine are low: check the load line.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
jar="$root/holdfast-bench/target/benchmarks.jar"
data_base="${HOLDFAST_BENCH_DIR:-${TMPDIR:-/tmp}}"
args=("${1:-20}" "${2:-30}" "${3:-1024}" "${4:-1024}" "$data_base")

if [[ "$(stat -f -c %T "$data_base")" == tmpfs ]]; then
  echo "warning: $data_base is tmpfs, where fsync costs nothing; set HOLDFAST_BENCH_DIR to a directory on disk" >&2
fi

mvn -B -q -f "$root/pom.xml" package -DskipTests -pl holdfast-bench -am >&2
work="$(mktemp -d "${TMPDIR:-/tmp}/holdfast-cluster-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cp "$jar" "$work/benchmarks.jar" # a reactor build elsewhere may rewrite target/ mid-run

mkdir -p "$here/results"
out="$here/results/cluster-$(date +%Y%m%d-%H%M%S).txt"
{
  echo "$(nproc) cores; load average before $(cut -d' ' -f1-3 /proc/loadavg); args ${args[*]}"
  java -Xms1g -Xmx1g -cp "$work/benchmarks.jar" io.holdfast.bench.cluster.ClusterSubmitBenchmark "${args[@]}" \
    2>"$work/stderr.log"
  echo "load average after $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$out"
