#!/usr/bin/env bash
# Cold-drain benchmark (issue 10 item 3): does a queue draining a paged-out backlog slow the other queues?
# Starts Holdfast on a fresh data directory and:
#   1. fills the durable queue cold-q with N persistent 1 KB messages (PerfTest, confirms 100 in flight, no
#      consumer), then restarts the broker (clean stop) so that every body is on disk only;
#   2. runs S5 (named durable queue perf-s5, persistent, confirms 100, manual ack, prefetch 100, 1x1 at a fixed
#      1,000 msg/s) alone -> its consumer latency;
#   3. runs S5 again while one PerfTest consumer (manual ack, prefetch 100) drains cold-q -> S5's consumer
#      latency, the drain rate, and how much of the backlog is left.
# The S5 p99 of 3 against 2 is the cost of the cold drain to everyone else (issue target: <= 5 ms).
#
#   bench/cold-drain.sh [--messages 1000000] [--seconds 30] [--heap 1g] [--port 5791] [--management-port 15791]
#                       [--app DIR] [--data-copy DIR]
#
# --app DIR runs the holdfast.jar (and lib/) in DIR instead of this checkout's holdfast-app/target, to measure
# another build in the same sitting. --data-copy DIR keeps the filled data directory there after step 1 and, when
# DIR holds one already (of the same --messages), starts from a copy of it instead of filling (the journal
# format is the same across builds, so two builds can be compared on one fill). The broker runs from a copy taken at start. Needs ~1.1 KB of disk per
# message under /tmp. Output goes to bench/results/cold-drain-<timestamp>.log, PerfTest's and the broker's logs
# next to it (cold-drain-<timestamp>-*.log).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
messages=1000000
seconds=30
heap=1g
port=5791
mport=15791
app="$root/holdfast-app/target"
data_copy=""
while (($#)); do
  case "$1" in
    --messages) messages="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --heap) heap="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --management-port) mport="$2"; shift 2 ;;
    --app) app="$2"; shift 2 ;;
    --data-copy) data_copy="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -f "$here/lib/perf-test-2.22.1.jar" ]] || mvn -B -q -f "$here/perftest-pom.xml" dependency:copy-dependencies -DoutputDirectory="$here/lib" >&2
[[ -f "$app/holdfast.jar" ]] || { echo "no $app/holdfast.jar: build Holdfast first (mvn -DskipTests package)" >&2; exit 2; }

stamp="$(date +%Y%m%d-%H%M%S)"
mkdir -p "$here/results"
res="$here/results/cold-drain-$stamp"
out="$res.log"
exec > >(tee -a "$out") 2>&1

tmp="$(mktemp -d /tmp/holdfast-cold-drain.XXXXXX)"
mkdir -p "$tmp/data" "$tmp/app"
touch "$tmp/broker.log"
cp "$app/holdfast.jar" "$tmp/app/"
cp -r "$app/lib" "$tmp/app/lib"
uri="amqp://guest:guest@127.0.0.1:$port"
pid=""
drain=""
finish() {
  [[ -n "$drain" ]] && kill "$drain" 2>/dev/null || true
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap finish EXIT
log() { echo "[$(date +%H:%M:%S)] $*"; }
perftest() { java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri "$uri" "$@"; }

listening() { awk '/listening for AMQP/ { n++ } END { print n + 0 }' "$tmp/broker.log"; }
start() {
  local seen
  seen="$(listening)"
  java "-Xmx$heap" -XX:+UseG1GC -jar "$tmp/app/holdfast.jar" server --port "$port" --management-port "$mport" \
    --data-dir "$tmp/data" >> "$tmp/broker.log" 2>&1 &
  pid=$!
  # Its log line, not an open port: another process may hold the port (the broker then exits, saying so).
  until (( $(listening) > seen )); do
    kill -0 "$pid" 2>/dev/null || { echo "broker died:"; tail -20 "$tmp/broker.log"; pid=""; exit 1; }
    sleep 0.1
  done
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }
# The last line of PerfTest's figures that starts with $2, from log $1.
figure() { grep -E "^id: [^,]*, $2" "$1" | tail -1 | sed 's/^id: [^,]*, /    /' || true; }
s5() { # s5 LOG
  perftest -x 1 -y 1 -u perf-s5 -s 1000 -f persistent -c 100 -q 100 -ad false -r 1000 -z "$seconds" > "$1" 2>&1 || true
  figure "$1" "receiving rate avg"
  figure "$1" "consumer latency"
  figure "$1" "confirm latency"
}

log "holdfast from $app, $messages x 1 KB on cold-q, S5 for $seconds s, -Xmx$heap, $(nproc) cores"
if [[ -n "$data_copy" && -d "$data_copy/journal" ]]; then
  log "starting from a copy of $data_copy"
  rm -rf "$tmp/data"
  cp -r "$data_copy" "$tmp/data"
else
  start
  log "filling cold-q"
  t0=$(date +%s)
  perftest -x 1 -y 0 -u cold-q -s 1000 -f persistent -ad false -c 100 -C "$messages" > "$res-fill.log" 2>&1 || true
  log "filled in $(( $(date +%s) - t0 )) s; restarting so that every body is on disk only"
  stop
  if [[ -n "$data_copy" ]]; then
    rm -rf "$data_copy"
    cp -r "$tmp/data" "$data_copy"
  fi
fi
start
grep -E "recovered [0-9]+ messages" "$tmp/broker.log" | tail -1 | sed 's/^.*Engine: /    /' || true

log "S5 alone"
s5 "$res-s5-alone.log"

log "S5 while a consumer drains cold-q"
perftest -x 0 -y 1 -u cold-q -f persistent -q 100 -ad false -z $((seconds + 10)) > "$res-drain.log" 2>&1 &
drain=$!
sleep 2
s5 "$res-s5-drain.log"
wait "$drain" || true
drain=""
log "drain consumer (over $((seconds + 10)) s):"
figure "$res-drain.log" "receiving rate avg"
echo "    cold-q messages left: $(curl -s -u guest:guest "http://127.0.0.1:$mport/api/queues/%2F/cold-q" \
  | grep -oE '"messages":[0-9]+' | head -1 | cut -d: -f2) of $messages"
grep -E "cannot be read back" "$tmp/broker.log" | head -3 || true
cp "$tmp/broker.log" "$res-broker.log"
log "done; log: $out"
