#!/usr/bin/env bash
# TTL expiry benchmark (issue 4): N persistent 1 KB messages on a durable queue with x-message-ttl
# expire while a probe publisher keeps publishing at a steady rate with confirms. Reports how long the
# queue takes to empty once expiry starts, and the probe's confirm latency (p99 per second, worst and
# median of those) before and during the expiry: the broker must stay responsive while it expires.
#
#   bench/ttl-expiry.sh [--messages 1000000] [--ttl-seconds 60] [--probe-rate 500] [--port 5677]
#
# The messages expire in the order and at the pace they were published (the fill takes ~20-30 s at
# confirmed-persistent speed); the TTL is chosen so the fill ends before the first one expires.
# Full output: bench/results/ttl-expiry-<timestamp>.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
messages=1000000
ttl=60
rate=500
port=5677
mport=15677
while (($#)); do
  case "$1" in
    --messages) messages="$2"; shift 2 ;;
    --ttl-seconds) ttl="$2"; shift 2 ;;
    --probe-rate) rate="$2"; shift 2 ;;
    --port) port="$2"; mport=$((port + 10000)); shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -f "$here/lib/perf-test-2.22.1.jar" ]] || mvn -B -q -f "$here/perftest-pom.xml" dependency:copy-dependencies -DoutputDirectory="$here/lib" >&2
[[ -f "$root/holdfast-app/target/holdfast.jar" ]] || { echo "build Holdfast first (mvn -DskipTests package)" >&2; exit 2; }

mkdir -p "$here/results"
out="$here/results/ttl-expiry-$(date +%Y%m%d-%H%M%S).log"
exec > >(tee -a "$out") 2>&1
tmp="$(mktemp -d /tmp/holdfast-ttl.XXXXXX)"
mkdir -p "$tmp/app"
cp "$root/holdfast-app/target/holdfast.jar" "$tmp/app/"
cp -r "$root/holdfast-app/target/lib" "$tmp/app/lib"
uri="amqp://guest:guest@127.0.0.1:$port"
pid=""; probe=""
cleanup() {
  [[ -n "$probe" ]] && kill "$probe" 2>/dev/null || true
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
now() { date +%s.%N; }
ready() {
  curl -fsS -m 5 "http://127.0.0.1:$mport/metrics" 2>/dev/null \
    | awk 'index($0, "holdfast_queue_messages_ready{queue=\"ttl-q\",vhost=\"/\"}") == 1 { printf "%.0f\n", $NF; exit }' || true
}

java ${HOLDFAST_JAVA_OPTS:-} -jar "$tmp/app/holdfast.jar" server --port "$port" --management-port "$mport" \
  --data-dir "$tmp/data" > "$tmp/broker.log" 2>&1 &
pid=$!
until (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do sleep 0.1; done

echo "filling ttl-q with $messages persistent 1 KB messages, x-message-ttl ${ttl}s..."
t_fill=$(now)
java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri "$uri" -x 1 -y 0 -s 1000 -f persistent -c 100 \
  -C "$messages" -u ttl-q -ad false -qa "x-message-ttl=$((ttl * 1000))" -z 600 > "$tmp/fill.log" 2>&1
t_filled=$(now)
fill_s=$(echo "$t_filled - $t_fill" | bc)
echo "filled in ${fill_s} s; queue reports $(ready)"
if (( $(echo "$fill_s >= $ttl" | bc) )); then
  echo "the fill took longer than the TTL: rerun with a larger --ttl-seconds" >&2; exit 1
fi

echo "probe: 1 producer at $rate msg/s, confirms, persistent, 1 consumer, on queue probe"
java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri "$uri" -x 1 -y 1 -s 1000 -f persistent -c 100 \
  -r "$rate" -u probe -ad false -z $((ttl + 120)) > "$tmp/probe.log" 2>&1 &
probe=$!

# Expiry begins $ttl s after the fill began; wait for the first drop, then for the queue to empty.
until [[ "$(ready)" != "$messages" ]]; do sleep 0.2; done
t_first=$(now)
while :; do
  n="$(ready)"
  [[ "$n" == 0 ]] && break
  (( $(echo "$(now) - $t_first > 600" | bc) )) && { echo "queue not empty after 600 s ($n left)"; break; }
  sleep 0.2
done
t_empty=$(now)
sleep 3
kill "$probe" 2>/dev/null || true; wait "$probe" 2>/dev/null || true; probe=""

# PerfTest prints one line a second: "..., time 12.001 s, ..., confirm latency: a/b/c/d/e µs" (min,
# median, 75th, 95th, 99th). Seconds are counted from the probe's start; the probe started right after the fill.
offset_first=$(echo "$t_first - $t_filled" | bc)
offset_empty=$(echo "$t_empty - $t_filled" | bc)
awk -v a="$offset_first" -v b="$offset_empty" '
  /confirm latency/ {
    match($0, /time [0-9.]+ s/); t = substr($0, RSTART + 5, RLENGTH - 7)
    match($0, /confirm latency: [0-9\/]+/); l = substr($0, RSTART + 17, RLENGTH - 17)
    split(l, v, "/"); p99 = v[5] / 1000
    if (t + 0 < a) { before[++nb] = p99 } else if (t + 0 <= b + 1) { during[++nd] = p99 }
  }
  function report(name, arr, n,   i, j, tmp, worst) {
    if (n == 0) { printf "%s: no samples\n", name; return }
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { tmp = arr[i]; arr[i] = arr[j]; arr[j] = tmp }
    printf "%s: per-second confirm p99 median %.1f ms, worst %.1f ms (%d s sampled)\n", name, arr[int((n + 1) / 2)], arr[n], n
  }
  END { report("probe before expiry", before, nb); report("probe during expiry", during, nd) }
' "$tmp/probe.log"
printf 'expiry of %s messages: first dropped %.1f s after the fill ended; queue empty %.2f s later (%.0f msg/s)\n' \
  "$messages" "$offset_first" "$(echo "$t_empty - $t_first" | bc)" "$(echo "$messages / ($t_empty - $t_first)" | bc -l)"
grep -E "WARN|ERROR" "$tmp/broker.log" | head -5 || true
