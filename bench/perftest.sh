#!/usr/bin/env bash
# Runs RabbitMQ PerfTest 2.22.1 against a broker and prints, per scenario, the consumed rate, consumer and
# confirm latency, and the broker's CPU time per message.
#
#   bench/perftest.sh [--uri amqp://guest:guest@127.0.0.1:5674 --pid PID] [--seconds 30] [--profile] [--tls]
#                     [--tls-provider auto|openssl|jdk] [--warmup N] [--user USER:PASSWORD] [scenario...]
#
# Without --uri it builds Holdfast, starts it on port 5673 with a fresh data directory, and stops it
# afterwards. With --uri it measures any broker (RabbitMQ for a side-by-side run in the same sitting);
# --pid names that broker's process so its CPU time can be read (beam.smp for RabbitMQ).
# --profile (Holdfast started here only) records a JFR profile of the broker for each scenario, in
# bench/results/<scenario>-<timestamp>.jfr (open with `jfr print --events jdk.ExecutionSample` or JMC).
#
# Each scenario prints PerfTest's consumed rate and latencies, the broker's CPU time per consumed message, and
# PerfTest's own (producer and consumer, on the same cores: over TLS its encryption is there too).
#
# Scenarios; every one states what it declares. 1 KB messages.
#   s1          named DURABLE queue perf-s1, persistent, confirms 100 in flight, manual ack, prefetch 100, 1x1
#   s4          4 named DURABLE queues perf-s4-1..4, as s1, 4 producers x 4 consumers
#   s5          as s1 at a fixed 1,000 msg/s (latency at a steady load)
#   transient   server-named NON-DURABLE exclusive queue, transient messages, auto-ack, no confirms, 1x1
#   confirmed-nondurable  server-named NON-DURABLE exclusive queue, persistent, confirms, manual ack: never
#               touches the journal (the old "confirmed" scenario, kept under its own name)
#   q1          named QUORUM queue perf-q1 (PerfTest --quorum-queue: durable, x-queue-type=quorum), otherwise as s1
#   q4          4 named QUORUM queues perf-q4-1..4, as s4 (run against a cluster: bench/quorum-cluster.sh)
# --rate N caps each producer at N msg/s (to compare latency at equal load).
# --tls (Holdfast started here only) also gives it an AMQPS listener on 5674 with a throwaway RSA-2048
# certificate made by openssl, and runs each scenario twice back to back: plaintext, then over TLS
# (amqps://, TLS 1.3; PerfTest trusts any certificate on amqps), so the pair shares the machine's state.
# --tls-provider sets that listener's ssl_options.provider (default auto: OpenSSL on Linux x86-64), to compare
# the broker's two TLS engines in one sitting.
# --warmup N first runs N seconds of the transient scenario against each URI, unreported, so the JIT has
# compiled the hot paths (TLS's AES-GCM especially) before anything is measured; on a busy machine it matters.
# --user USER:PASSWORD runs as that user instead of guest (creating it, with tags none and the permissions
# '^perf-.*|^amq\.gen-.*|^direct$' to configure, write and read on vhost /, when Holdfast is started here;
# PerfTest declares and publishes to the exchange 'direct'): the cost of permission checks against guest's '.*'.
# Full PerfTest output goes to bench/results/<scenario>-<timestamp>.log.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
uri=""
pid=""
seconds=30
profile=0
tls=0
tls_provider=auto
warmup=0
user=""
rate=()
scenarios=()
while (($#)); do
  case "$1" in
    --uri) uri="$2"; shift 2 ;;
    --pid) pid="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --rate) rate=(-r "$2"); shift 2 ;;
    --profile) profile=1; shift ;;
    --tls) tls=1; shift ;;
    --tls-provider) tls_provider="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    *) scenarios+=("$1"); shift ;;
  esac
done
((${#scenarios[@]})) || scenarios=(s1 s4 s5 transient)

if [[ ! -f "$here/lib/perf-test-2.22.1.jar" ]]; then
  mvn -B -q -f "$here/perftest-pom.xml" dependency:copy-dependencies -DoutputDirectory="$here/lib" >&2
fi

broker_pid=""
cleanup() { [[ -n "$broker_pid" ]] && kill "$broker_pid" 2>/dev/null && wait "$broker_pid" 2>/dev/null || true; }
trap cleanup EXIT
if [[ -z "$uri" ]]; then
  data="$(mktemp -d /tmp/holdfast-bench.XXXXXX)"
  config=()
  if ((tls)); then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout "$data/server.key" -out "$data/server.pem" \
      -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2> /dev/null
    printf 'listeners.ssl.default = 5674\nssl_options.certfile = %s\nssl_options.keyfile = %s\nssl_options.provider = %s\n' \
      "$data/server.pem" "$data/server.key" "$tls_provider" > "$data/holdfast.conf"
    config=(--config "$data/holdfast.conf")
  fi
  "$root/holdfast" server --port 5673 --management-port 0 --data-dir "$data" "${config[@]}" \
    > "$data/broker.log" 2>&1 &
  broker_pid=$!
  pid=$broker_pid
  for _ in $(seq 1 120); do
    grep -q "listening for AMQP" "$data/broker.log" 2>/dev/null && break
    sleep 0.5
  done
  credentials="guest:guest"
  if [[ -n "$user" ]]; then
    name="${user%%:*}"
    http="$(grep -oE 'management HTTP listening on http://[0-9.:]+' "$data/broker.log" | grep -oE 'http://[0-9.:]+')"
    api() { curl -fsS -u guest:guest -H 'content-type: application/json' -X PUT "$http$1" -d "$2"; }
    api "/api/users/$name" "{\"password\":\"${user#*:}\",\"tags\":\"\"}"
    api "/api/permissions/%2F/$name" '{"configure":"^perf-.*|^amq\\.gen-.*|^direct$","write":"^perf-.*|^amq\\.gen-.*|^direct$","read":"^perf-.*|^amq\\.gen-.*|^direct$"}'
    credentials="$user"
  fi
  uri="amqp://$credentials@127.0.0.1:5673"
  tls_uri="amqps://$credentials@127.0.0.1:5674"
elif ((profile || tls)) || [[ -n "$user" ]]; then
  echo "--profile, --tls and --user need the Holdfast this script starts (no --uri)" >&2; exit 2
fi

# CPU seconds (user + system) the broker process has used so far; empty without a pid.
cpu_seconds() {
  [[ -n "$pid" && -r "/proc/$pid/stat" ]] || return 0
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / hz }' "/proc/$pid/stat"
}

mkdir -p "$here/results"
uris=("$uri")
((tls)) && uris+=("$tls_uri")
if ((warmup > 0)); then
  for u in "${uris[@]}"; do
    echo "== warm-up: transient for $warmup s against $(sed 's#//[^@]*@#//#' <<< "$u") (not reported)"
    java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri "$u" -x 1 -y 1 -s 1000 -a -z "$warmup" > /dev/null 2>&1 || true
  done
fi
for s in "${scenarios[@]}"; do
  common=(-s 1000 -f persistent -c 100 -q 100 -ad false)
  case "$s" in
    s1) opts=(-x 1 -y 1 -u perf-s1 "${common[@]}") ;;
    s4) opts=(-x 4 -y 4 --queue-pattern 'perf-s4-%d' --queue-pattern-from 1 --queue-pattern-to 4 "${common[@]}") ;;
    s5) opts=(-x 1 -y 1 -u perf-s5 "${common[@]}" -r 1000) ;;
    transient) opts=(-x 1 -y 1 -s 1000 -a) ;;
    confirmed-nondurable) opts=(-x 1 -y 1 -s 1000 -f persistent -c 100 -q 100) ;;
    q1) opts=(-x 1 -y 1 -u perf-q1 --quorum-queue "${common[@]}") ;;
    q4) opts=(-x 4 -y 4 --queue-pattern 'perf-q4-%d' --queue-pattern-from 1 --queue-pattern-to 4 --quorum-queue
              "${common[@]}") ;;
    *) echo "unknown scenario $s" >&2; exit 2 ;;
  esac
  for u in "${uris[@]}"; do
    stamp="$(date +%Y%m%d-%H%M%S)"
    kind="${u%%:*}"
    log="$here/results/$s-$kind-$stamp.log"
    echo "== $s: ${opts[*]} ${rate[*]-} -z $seconds against $(sed 's#//[^@]*@#//#' <<< "$u")"
    if ((profile)); then
      jcmd "$pid" JFR.start name="$s" settings=profile filename="$here/results/$s-$kind-$stamp.jfr" > /dev/null
    fi
    cpu_before="$(cpu_seconds)"
    /usr/bin/time -f '%U %S' -o "$log.cpu" java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri "$u" "${opts[@]}" \
      ${rate[@]+"${rate[@]}"} -z "$seconds" > "$log" 2>&1 || true
    cpu_after="$(cpu_seconds)"
    if ((profile)); then
      jcmd "$pid" JFR.stop name="$s" > /dev/null
      echo "   profile: $here/results/$s-$kind-$stamp.jfr"
    fi
    grep -E "^id: [^,]*, (sending rate avg|receiving rate avg|consumer latency|confirm latency)" "$log" | tail -4 \
      | sed 's/^id: [^,]*, /   /'
    received="$(grep -E "receiving rate avg" "$log" | tail -1 | grep -oE '[0-9]+ msg/s' | grep -oE '[0-9]+' || true)"
    if [[ -n "$cpu_before" && -n "$received" && "$received" -gt 0 ]]; then
      awk -v a="$cpu_before" -v b="$cpu_after" -v r="$received" -v t="$seconds" \
        'BEGIN { printf "   broker CPU: %.1f s over the run, %.1f us per consumed message\n", b - a, (b - a) * 1e6 / (r * t) }'
    fi
    if [[ -n "$received" && "$received" -gt 0 && -s "$log.cpu" ]]; then
      awk -v r="$received" -v t="$seconds" '{ c = $1 + $2 }
        END { printf "   PerfTest CPU: %.1f s (its JVM start included), %.1f us per consumed message\n", c, c * 1e6 / (r * t) }' \
        "$log.cpu"
    fi
  done
done
