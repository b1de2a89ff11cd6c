#!/usr/bin/env bash
# PerfTest against quorum queues on a three-node Holdfast cluster on this machine (issue 8's benchmark): starts
# three nodes (AMQP 5681-5683, peer ports 7101-7103, fresh data directories), runs bench/perftest.sh's quorum
# scenarios against node 1, and stops the nodes. Broker CPU per message is node 1's only (the leader of the
# queues it declares, as a rule); the other two nodes' CPU is printed as a total at the end.
#
#   bench/quorum-cluster.sh [--seconds 30] [q1 q4]
#
# For RabbitMQ's quorum queues in the same sitting: bench/perftest.sh --uri amqp://guest:guest@127.0.0.1:5674
# --pid "$(pgrep -f beam.smp)" q1 q4 (a single RabbitMQ node: its quorum queue then has one member, which
# flatters it; say so when you compare).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
seconds=30
scenarios=()
while (($#)); do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
((${#scenarios[@]})) || scenarios=(q1 q4)

work="$(mktemp -d /tmp/holdfast-quorum-bench.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}
for i in 1 2 3; do
  mkdir -p "$work/node$i"
  {
    for n in 1 2 3; do echo "cluster_formation.classic_config.nodes.$n = holdfast$n@127.0.0.1:$((7100 + n))"; done
    echo "nodename = holdfast$i"
  } > "$work/node$i/holdfast.conf"
  "$root/holdfast" server --port $((5680 + i)) --management-port 0 --data-dir "$work/node$i" \
    --config "$work/node$i/holdfast.conf" > "$work/node$i.log" 2>&1 &
  pids+=($!)
done
for i in 1 2 3; do
  for _ in $(seq 1 240); do
    grep -q "listening for AMQP" "$work/node$i.log" 2>/dev/null && break
    sleep 0.5
  done
done
for _ in $(seq 1 120); do
  grep -q "the metadata group is formed" "$work"/node*.log 2>/dev/null && break
  sleep 0.5
done
others_before=$(( $(printf '%.0f' "$(cpu_seconds "${pids[1]}")") + $(printf '%.0f' "$(cpu_seconds "${pids[2]}")") ))
echo "three nodes up; load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$here/perftest.sh" --uri amqp://guest:guest@127.0.0.1:5681 --pid "${pids[0]}" --seconds "$seconds" "${scenarios[@]}"
others_after=$(( $(printf '%.0f' "$(cpu_seconds "${pids[1]}")") + $(printf '%.0f' "$(cpu_seconds "${pids[2]}")") ))
echo "nodes 2 and 3 used $((others_after - others_before)) CPU seconds meanwhile; load average $(cut -d' ' -f1-3 /proc/loadavg)"
