#!/usr/bin/env bash
# Runs RabbitMQ PerfTest 2.22.1 against a broker and prints the consumer rate and latency summary.
#
#   bench/perftest.sh [--uri amqp://guest:guest@127.0.0.1:5673] [--seconds 30] [scenario...]
#
# Without --uri it builds Holdfast, starts it on port 5673 with a fresh data directory, and stops it
# afterwards. Scenarios (issue 2 and 3's benchmark definitions):
#   transient   -x 1 -y 1 -s 1000 -a                                   (transient, auto-ack)
#   confirmed   -x 1 -y 1 -s 1000 -f persistent -c 100 -q 100          (durable, confirms, manual ack)
#   confirmed4  -x 4 -y 4 --queue-pattern perf-%d 1..4, same options as confirmed
# --rate N caps each producer at N msg/s (to compare latency at equal load).
# Full PerfTest output goes to bench/results/<scenario>-<timestamp>.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
uri=""
seconds=30
rate=()
scenarios=()
while (($#)); do
  case "$1" in
    --uri) uri="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rate) rate=(-r "$2"); shift 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
((${#scenarios[@]})) || scenarios=(transient confirmed confirmed4)

if [[ ! -f "$here/lib/perf-test-2.22.1.jar" ]]; then
  mvn -B -q -f "$here/perftest-pom.xml" dependency:copy-dependencies -DoutputDirectory="$here/lib" >&2
fi

broker_pid=""
cleanup() { [[ -n "$broker_pid" ]] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true; }
trap cleanup EXIT
if [[ -z "$uri" ]]; then
  data="$(mktemp -d /tmp/holdfast-bench.XXXXXX)"
  "$root/holdfast" server --port 5673 --data-dir "$data" > "$data/broker.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 1 120); do
    grep -q "listening" "$data/broker.log" 2>/dev/null && break
    sleep 0.5
  done
  uri="amqp://guest:guest@127.0.0.1:5673"
fi

mkdir -p "$here/results"
for s in "${scenarios[@]}"; do
  case "$s" in
    transient) opts=(-x 1 -y 1 -s 1000 -a) ;;
    confirmed) opts=(-x 1 -y 1 -s 1000 -f persistent -c 100 -q 100) ;;
    confirmed4) opts=(-x 4 -y 4 --queue-pattern 'perf-%d' --queue-pattern-from 1 --queue-pattern-to 4
                      -s 1000 -f persistent -c 100 -q 100) ;;
    *) echo "unknown scenario $s" >&2; exit 2 ;;
  esac
  log="$here/results/$s-$(date +%Y%m%d-%H%M%S).log"
  echo "== $s: ${opts[*]} -z $seconds against $uri"
  java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri "$uri" "${opts[@]}" ${rate[@]+"${rate[@]}"} -z "$seconds" > "$log" 2>&1 || true
  grep -E "sending rate avg|receiving rate avg|consumer latency" "$log" | tail -3
done
