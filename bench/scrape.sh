#!/usr/bin/env bash
# Does scraping /metrics and /api/queues with 10,000 queues stall publishing? Starts Holdfast on ports 5677 /
# 15677 with a fresh data directory, imports 10,000 durable queues (one definitions file over HTTP), then runs
# PerfTest confirmed-persistent on the named durable queue perf-scrape (1 KB, persistent, confirms 100 in flight,
# manual ack, prefetch 100, 1 producer x 1 consumer) REPEATS times back to back without and with a scraper that
# GETs each of PATHS once a second. Prints, per run, the consumed rate and the consumer and confirm latency p99,
# and for the scraped runs each path's response time (median and max). Then, with no traffic, the broker's CPU
# time per GET of each path (10 GETs each, from /proc/<pid>/stat).
#
#   bench/scrape.sh [--seconds 20] [--repeats 3] [--queues 10000]
#                   [--paths "/metrics /metrics/per-object /api/queues"]
#
# Full PerfTest output and the scrape timings go to bench/results/scrape-<timestamp>-*.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
seconds=20
repeats=3
queues=10000
paths="/metrics /metrics/per-object /api/queues"
while (($#)); do
  case "$1" in
    --paths) paths="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --queues) queues="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ ! -f "$here/lib/perf-test-2.22.1.jar" ]]; then
  mvn -B -q -f "$here/perftest-pom.xml" dependency:copy-dependencies -DoutputDirectory="$here/lib" >&2
fi

mgmt="http://127.0.0.1:15677"
data="$(mktemp -d /tmp/holdfast-scrape.XXXXXX)"
"$root/holdfast" server --port 5677 --management-port 15677 --data-dir "$data" > "$data/broker.log" 2>&1 &
broker_pid=$!
scraper_pid=""
cleanup() {
  [[ -n "$scraper_pid" ]] && kill "$scraper_pid" 2>/dev/null || true
  kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 120); do
  grep -q "listening for AMQP" "$data/broker.log" 2>/dev/null && break
  sleep 0.5
done

python3 - "$queues" > "$data/definitions.json" <<'PY'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"queues": [{"name": "bench-%05d" % i, "vhost": "/", "durable": True, "auto_delete": False,
                              "arguments": {}} for i in range(n)]}))
PY
import_s="$(curl -s -o /dev/null -w '%{time_total}' -u guest:guest -H 'Content-Type: application/json' \
  --data-binary "@$data/definitions.json" "$mgmt/api/definitions")"
echo "imported $queues durable queues in ${import_s} s ($(stat -c %s "$data/definitions.json") bytes)"

mkdir -p "$here/results"
stamp="$(date +%Y%m%d-%H%M%S)"

# GETs each of $paths once a second; one line per round: each path's response time in seconds, in order.
scrape() {
  while true; do
    local line=""
    for p in $paths; do
      line="$line $(curl -s -o /dev/null -w '%{time_total}' -u guest:guest "$mgmt$p")"
    done
    echo "$line"
    sleep 1
  done
}

# The broker's CPU time (user + system, clock ticks) so far.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$broker_pid/stat"
}

# "median max" of one column of a file of numbers.
spread() {
  awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.3f s median, %.3f s max (%d scrapes)", v[int((NR + 1) / 2)], v[NR], NR }'
}

run() { # $1 = label
  local log="$here/results/scrape-$stamp-$1.log"
  java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri amqp://guest:guest@127.0.0.1:5677 -x 1 -y 1 \
    -u perf-scrape -s 1000 -f persistent -c 100 -q 100 -ad false -z "$seconds" > "$log" 2>&1 || true
  local rate consumer confirm
  rate="$(grep -E "receiving rate avg" "$log" | tail -1 | grep -oE '[0-9]+ msg/s' || echo '? msg/s')"
  consumer="$(grep -E "consumer latency min/median/75th/95th/99th" "$log" | tail -1 | grep -oE '[0-9/]+ µs' \
    | awk -F/ '{ print $5 }')"
  confirm="$(grep -E "confirm latency min/median/75th/95th/99th" "$log" | tail -1 | grep -oE '[0-9/]+ µs' \
    | awk -F/ '{ print $5 }')"
  printf '%-16s %12s   consumer p99 %10s   confirm p99 %10s\n' "$1" "$rate" "${consumer:-?}" "${confirm:-?}"
}

first="$(curl -s -o /dev/null -w '%{time_total} %{size_download}' -u guest:guest "$mgmt/api/queues")"
echo "GET /api/queues with $queues queues, first call: ${first% *} s, ${first#* } bytes"
echo "PerfTest s1-like on perf-scrape, ${seconds} s per run, $repeats pairs back to back:"
for i in $(seq 1 "$repeats"); do
  run "quiet-$i"
  timings="$here/results/scrape-$stamp-timings-$i.txt"
  scrape > "$timings" &
  scraper_pid=$!
  run "scraped-$i"
  kill "$scraper_pid" 2>/dev/null || true
  wait "$scraper_pid" 2>/dev/null || true
  scraper_pid=""
  col=1
  for p in $paths; do
    echo "   $p: $(spread "$timings" "$col")"
    col=$((col + 1))
  done
done

hz="$(getconf CLK_TCK)"
echo "broker CPU per GET, no traffic, 10 GETs each (after 3 warm-up GETs):"
for p in $paths; do
  for _ in 1 2 3; do curl -s -o /dev/null -u guest:guest "$mgmt$p"; done
  before="$(cpu_ticks)"
  bytes="$(for _ in $(seq 1 10); do curl -s -o /dev/null -w '%{size_download}\n' -u guest:guest "$mgmt$p"; done | tail -1)"
  after="$(cpu_ticks)"
  echo "   $p: $(( (after - before) * 1000 / hz / 10 )) ms CPU per GET, $bytes bytes"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

