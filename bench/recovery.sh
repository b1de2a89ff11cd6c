#!/usr/bin/env bash
# Recovery benchmark (issue 3): fill a durable queue with N persistent 1 KB messages (confirmed),
# kill -9 the broker, restart it, and time (a) until it accepts connections and (b) until the queue
# reports its full count. Also times reading the live journal sequentially (cat > /dev/null) as the
# floor to compare with.
#
#   bench/recovery.sh [--messages 1000000]            # Holdfast, started here on port 5675
#   bench/recovery.sh --rabbitmq [--messages 1000000]  # RabbitMQ started by the caller; see below
#
# For RabbitMQ, set RMQ_START (a command that starts it in the background) and RMQ_PORT; the script
# kill -9s the beam process and runs RMQ_START again.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
messages=1000000
target=holdfast
while (($#)); do
  case "$1" in
    --messages) messages="$2"; shift 2 ;;
    --rabbitmq) target=rabbitmq; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -f "$here/lib/perf-test-2.22.1.jar" ]] || mvn -B -q -f "$here/perftest-pom.xml" dependency:copy-dependencies -DoutputDirectory="$here/lib" >&2

now() { date +%s.%N; }
count() { # prints the queue's message count, or nothing if not reachable
  /usr/bin/python3 - "$1" <<'PY' 2>/dev/null || true
import sys, pika
c = pika.BlockingConnection(pika.ConnectionParameters(host="127.0.0.1", port=int(sys.argv[1])))
print(c.channel().queue_declare("recovery-q", durable=True, passive=True).method.message_count)
c.close()
PY
}
wait_port() { until (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; do sleep 0.05; done; }

if [[ $target == holdfast ]]; then
  port=5675
  data="$(mktemp -d /tmp/holdfast-recovery.XXXXXX)"
  start() { "$root/holdfast" server --port $port --data-dir "$data" >> "$data/broker.log" 2>&1 & pid=$!; }
  killit() { kill -9 "$pid"; wait "$pid" 2>/dev/null || true; }
else
  port="${RMQ_PORT:?set RMQ_PORT}"
  start() { bash -c "$RMQ_START"; }
  killit() { pkill -9 -f "beam.smp.*$port" || pkill -9 beam.smp; sleep 1; }
fi

start; wait_port $port
echo "filling recovery-q with $messages persistent 1 KB messages (confirmed)..."
java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri "amqp://guest:guest@127.0.0.1:$port" -x 1 -y 0 \
  -s 1000 -f persistent -c 100 -C "$messages" -u recovery-q -ad false -z 600 > /tmp/recovery-fill.log 2>&1
echo "queue holds $(count $port); kill -9"
killit
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
t0=$(now); start; wait_port $port; t1=$(now)
until [[ "$(count $port)" == "$messages" ]]; do sleep 0.05; done; t2=$(now)
printf 'accepts connections after %.2f s; reports %s messages after %.2f s\n' \
  "$(echo "$t1 - $t0" | bc)" "$messages" "$(echo "$t2 - $t0" | bc)"
if [[ $target == holdfast ]]; then
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  s0=$(now); cat "$data"/journal/*.seg > /dev/null; s1=$(now)
  printf 'reading the journal (%s) sequentially: %.2f s (page cache dropped: %s)\n' \
    "$(du -sh "$data/journal" | cut -f1)" "$(echo "$s1 - $s0" | bc)" \
    "$([[ -w /proc/sys/vm/drop_caches ]] && echo yes || echo no)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  grep -E "recovered|listening" "$data/broker.log" | tail -3
  rm -rf "$data"
fi
