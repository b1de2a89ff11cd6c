#!/usr/bin/env bash
# Backlog benchmark (issue: "a backlog of 10 million 1 KB persistent messages is accepted, survives a
# restart and drains with -Xmx1g"). Starts Holdfast with a fixed heap on a fresh data directory and:
#   1. fills the durable queue backlog-q with N persistent messages of --size bytes (PerfTest, confirms, 100 in
#      flight, no consumer) -> publish rate, peak heap, live heap after a full GC, journal size;
#   2. kill -9s the broker and restarts it with the same heap -> time until it accepts connections and
#      until the queue reports all N messages, peak heap during recovery;
#   3. drains the queue with one PerfTest consumer (manual ack, prefetch 500) -> drain rate, queue
#      count afterwards;
#   4. waits up to 30 s for journal compaction -> journal size after the drain.
# Heap is sampled every 2 s with jstat (S0U+S1U+EU+OU) and, exactly, from the GC log (largest heap
# occupancy seen before a collection). If the broker dies (e.g. OutOfMemoryError) the script says so,
# reports how far it got and exits non-zero.
#
#   bench/backlog.sh [--messages 10000000] [--size 1000] [--heap 1g] [--port 5676] [--management-port 15676]
#                    [--paging true|false]   # queue_index.paging: page a backlog's index middle to disk (default)
#                    [--keep]   # keep the temp dir (data, broker and GC logs) instead of deleting it
#
# The broker runs from a copy of holdfast-app/target/holdfast.jar (and its lib/) taken at start, so a
# rebuild during the run does not change what is measured. Needs ~1.1 KB of disk per message
# (10M -> ~11 GB under /tmp). Output goes to bench/results/backlog-<timestamp>.log (the broker log
# goes next to it as backlog-<timestamp>.broker.log).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
messages=10000000
size=1000
paging=true
heap=1g
port=5676
mport=15676
keep=0
while (($#)); do
  case "$1" in
    --messages) messages="$2"; shift 2 ;;
    --heap) heap="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --paging) paging="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --management-port) mport="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[[ -f "$here/lib/perf-test-2.22.1.jar" ]] || mvn -B -q -f "$here/perftest-pom.xml" dependency:copy-dependencies -DoutputDirectory="$here/lib" >&2
[[ -f "$root/holdfast-app/target/holdfast.jar" ]] || { echo "build Holdfast first (mvn -DskipTests package)" >&2; exit 2; }

stamp="$(date +%Y%m%d-%H%M%S)"
mkdir -p "$here/results"
out="$here/results/backlog-$stamp.log"
exec > >(tee -a "$out") 2>&1

tmp="$(mktemp -d /tmp/holdfast-backlog.XXXXXX)"
data="$tmp/data"; mkdir -p "$data" "$tmp/app"
cp "$root/holdfast-app/target/holdfast.jar" "$tmp/app/"
cp -r "$root/holdfast-app/target/lib" "$tmp/app/lib"
printf 'queue_index.paging = %s\n' "$paging" > "$tmp/holdfast.conf"
blog="$tmp/broker.log"
uri="amqp://guest:guest@127.0.0.1:$port"
pid=""; sampler=""; pt=""; run=0
declare -A R   # results, printed in the summary

now() { date +%s.%N; }
secs() { echo "scale=2; ($2 - $1) / 1" | bc; }
mib() { echo "scale=1; $1 / 1048576" | bc; }
log() { echo "[$(date +%H:%M:%S)] $*"; }
result() { R[$1]="$2"; echo "RESULT $1: $2"; }

count() { # the queue's ready count from /metrics/per-object, or nothing if not reachable
  ready
}
metric() { # metric() NAME -> value of the first sample whose line starts with NAME (empty if none)
  curl -fsS -m 5 -u guest:guest "http://127.0.0.1:$mport/metrics/per-object" 2>/dev/null | awk -v n="$1" 'index($0, n) == 1 { printf "%.0f\n", $NF; exit }' || true
}
ready() { metric 'holdfast_queue_messages_ready{queue="backlog-q",vhost="/"}'; }
alive() { [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }
used_heap() { # S0U+S1U+EU+OU in bytes from jstat -gc, by column name
  jstat -gc "$1" 2>/dev/null | awk 'NR==1 { for (i = 1; i <= NF; i++) c[$i] = i }
    NR==2 { printf "%.0f %.0f\n", ($(c["S0U"]) + $(c["S1U"]) + $(c["EU"]) + $(c["OU"])) * 1024, $(c["OU"]) * 1024 }'
}
gc_peak() { # largest "before" heap occupancy in a -Xlog:gc file, bytes
  awk 'match($0, /[0-9]+[KMG]->[0-9]+[KMG]\([0-9]+[KMG]\)/) {
         s = substr($0, RSTART, RLENGTH); split(s, a, "->"); v = a[1]; u = substr(v, length(v)); v = v + 0
         v *= (u == "K" ? 1024 : u == "M" ? 1048576 : 1073741824); if (v > m) m = v }
       END { printf "%.0f\n", m }' "$1" 2>/dev/null || echo 0
}
gc_after_peak() { # largest heap occupancy right after a collection (retained + promoted), bytes
  awk 'match($0, /[0-9]+[KMG]->[0-9]+[KMG]\([0-9]+[KMG]\)/) {
         s = substr($0, RSTART, RLENGTH); split(s, a, "->"); v = a[2]; sub(/\(.*/, "", v); u = substr(v, length(v)); v = v + 0
         v *= (u == "K" ? 1024 : u == "M" ? 1048576 : 1073741824); if (v > m) m = v }
       END { printf "%.0f\n", m }' "$1" 2>/dev/null || echo 0
}
gc_peaks() { # summary of a GC log: peaks, full GCs, total pause time
  echo "$(mib "$(gc_peak "$1")") MiB before / $(mib "$(gc_after_peak "$1")") MiB after a GC (GC log); $(grep -c 'Pause Full' "$1" 2>/dev/null || true) full GCs, $(grep -cE 'Pause (Young|Mixed)' "$1" 2>/dev/null || true) young/mixed, $(awk '/Pause/ && $NF ~ /ms$/ { t += $NF + 0 } END { printf "%.1f", t / 1000 }' "$1" 2>/dev/null) s paused"
}
set_phase() { echo "$1" > "$tmp/phase"; }
peak() { # peak sampled used heap in a phase, bytes
  awk -v p="$1" '$2 == p && $3 > m { m = $3 } END { printf "%.0f\n", m }' "$tmp/heap.tsv" 2>/dev/null
}

start() {
  run=$((run + 1))
  echo "=== start $run: java -Xmx$heap -XX:+UseG1GC -jar <copy of holdfast.jar> server --port $port --management-port $mport" >> "$blog"
  java "-Xmx$heap" -XX:+UseG1GC -XX:+HeapDumpOnOutOfMemoryError "-XX:HeapDumpPath=$tmp/oom-$run.hprof" \
    "-Xlog:gc:file=$tmp/gc-$run.log" -jar "$tmp/app/holdfast.jar" server \
    --port "$port" --management-port "$mport" --data-dir "$data" --config "$tmp/holdfast.conf" >> "$blog" 2>&1 &
  pid=$!
  echo "$pid" > "$tmp/pid"
}
wait_port() { # wait_port PORT -> 0 when it accepts, 1 if the broker died first
  until (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null; do alive || return 1; sleep 0.05; done
}
sample_loop() { # every 2 s: epoch phase used-heap old-gen resident-bytes queue-ready
  while :; do
    local p h r q b
    p="$(cat "$tmp/phase" 2>/dev/null || echo -)"
    b="$(cat "$tmp/pid" 2>/dev/null || true)"
    if [[ -n "$b" ]] && kill -0 "$b" 2>/dev/null; then
      h="$(used_heap "$b")"; r="$(metric holdfast_message_resident_bytes)"; q="$(ready)"
      [[ -n "$h" ]] && echo "$(date +%s) $p $h ${r:--} ${q:--}" >> "$tmp/heap.tsv"
    fi
    sleep 2
  done
}

summary() {
  echo
  echo "===== backlog summary: $messages x $size B persistent, queue_index.paging = $paging, -Xmx$heap, $(nproc) cores, $(date -u +%FT%TZ) ====="
  local k
  for k in "publish rate" "PerfTest sending rate avg" "peak heap during fill" "live heap after full GC" \
           "resident message bytes after fill" "journal after fill" "restart: accepts connections" \
           "restart: reports full count" "peak heap during recovery" "drain rate" \
           "PerfTest receiving rate avg" "queue count after drain" "peak heap during drain" \
           "journal after drain" "journal reads total" "broker"; do
    [[ -n "${R[$k]:-}" ]] && printf '  %-36s %s\n' "$k" "${R[$k]}"
  done
  echo "  log: $out"
}
finish() {
  local rc=$?
  set +e
  [[ -n "$sampler" ]] && kill "$sampler" 2>/dev/null
  [[ -n "$pt" ]] && kill "$pt" 2>/dev/null
  if alive; then kill "$pid"; wait "$pid" 2>/dev/null; fi
  if [[ -f "$blog" ]]; then
    cp "$blog" "$here/results/backlog-$stamp.broker.log"
    cp "$tmp/heap.tsv" "$here/results/backlog-$stamp.heap.tsv" 2>/dev/null
    for g in "$tmp"/gc-*.log; do [[ -f $g ]] && cp "$g" "$here/results/backlog-$stamp.${g##*/}"; done
    echo "--- broker log: WARN/ERROR/Exception lines ($(grep -cE 'WARN|ERROR|Exception|OutOfMemory' "$blog") total, first 30):"
    grep -E 'WARN|ERROR|Exception|OutOfMemory' "$blog" | head -30
  fi
  summary
  if ((keep)); then echo "kept $tmp"; else rm -rf "$tmp"; fi
  exit $rc
}
trap finish EXIT
died() { # died WHAT -> report the broker's death and how far we got, then exit 1
  local last st=0
  last="$(tail -1 "$tmp/heap.tsv" 2>/dev/null)"
  wait "$pid" 2>/dev/null || st=$?
  result broker "DIED during $1 (exit status $st)"
  echo "!!! BROKER DIED during $1"
  grep -m3 -E 'OutOfMemoryError|Exception' "$blog" | sed 's/^/!!!   /' || true
  echo "!!! last sample (epoch phase used-heap old-gen resident-bytes ready): ${last:-none}"
  echo "!!! peak sampled heap this run: $(mib "$(peak "$1")") MiB; GC-log peak: $(mib "$(gc_peak "$tmp/gc-$run.log")") MiB"
  pid=""
  exit 1
}
perftest() { # perftest LOGFILE ARGS... -> runs PerfTest in the background, waits, watching the broker
  local f="$1"; shift
  java -cp "$here/lib/*" com.rabbitmq.perf.PerfTest --uri "$uri" "$@" > "$f" 2>&1 &
  pt=$!
  local n=0
  while kill -0 "$pt" 2>/dev/null; do
    if ! alive; then sleep 1; kill "$pt" 2>/dev/null; wait "$pt" 2>/dev/null; pt=""; tail -3 "$f"; return 1; fi
    sleep 1; n=$((n + 1))
    if ((n % 30 == 0)); then
      log "  ... $(ready) ready, heap $(mib "$(used_heap "$pid" | cut -d' ' -f1)") MiB, $(tail -1 "$f" | cut -c1-150)"
    fi
  done
  wait "$pt"; local rc=$?; pt=""; return $rc
}

log "backlog: $messages messages, -Xmx$heap, port $port, management $mport, temp $tmp"
log "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(df -h --output=avail /tmp | tail -1 | tr -d ' ') free in /tmp"
set_phase fill
sample_loop & sampler=$!

# --- 1+2+3: fill --------------------------------------------------------------------------------
start; wait_port "$port" || died startup
log "broker pid $pid up; filling backlog-q with $messages persistent $size B messages (confirms, 100 in flight)"
t0=$(now)
perftest "$tmp/fill.log" -x 1 -y 0 -s "$size" -f persistent -c 100 -C "$messages" -u backlog-q -ad false -z 3600 \
  || { alive || died fill; echo "PerfTest (fill) failed:"; tail -20 "$tmp/fill.log"; exit 1; }
t1=$(now)
fill_s=$(secs "$t0" "$t1")
alive || died fill
n=$(count)
log "fill done in $fill_s s; queue holds ${n:-?}"
[[ "$n" == "$messages" ]] || echo "!!! expected $messages messages in backlog-q, found ${n:-nothing}"
result "publish rate" "$(echo "$messages / $fill_s" | bc) msg/s ($messages in $fill_s s)"
avg=$(grep -oE 'sending rate avg: [0-9]+ msg/s' "$tmp/fill.log" | tail -1 || true)
[[ -n "$avg" ]] && result "PerfTest sending rate avg" "${avg#sending rate avg: }"
sleep 2
result "peak heap during fill" "$(mib "$(peak fill)") MiB sampled (jstat/2 s); $(gc_peaks "$tmp/gc-$run.log")"
result "resident message bytes after fill" "$(mib "$(metric holdfast_message_resident_bytes)") MiB (holdfast_message_resident_bytes)"
jcmd "$pid" GC.run > /dev/null || true
sleep 1
read -r used old <<< "$(used_heap "$pid")"
result "live heap after full GC" "$(mib "$used") MiB used ($(mib "$old") MiB old gen), $(echo "scale=1; $used / $messages" | bc) B per message"
jcmd "$pid" GC.heap_info | sed 's/^/    /' || true
result "journal after fill" "$(du -sb "$data/journal" | cut -f1) bytes ($(du -sh "$data/journal" | cut -f1), $(ls "$data/journal" | wc -l) files)"

# --- 4: restart ---------------------------------------------------------------------------------
log "kill -9 $pid"
kill -9 "$pid"; wait "$pid" 2>/dev/null || true; pid=""
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && log "page cache dropped" || log "page cache not dropped (no permission)"
set_phase recovery
t0=$(now); start; wait_port "$port" || died recovery; t1=$(now)
result "restart: accepts connections" "$(secs "$t0" "$t1") s"
until [[ "$(count)" == "$messages" ]]; do
  alive || died recovery
  (( $(echo "$(now) - $t0 > 3600" | bc) )) && { echo "!!! queue still reports $(count) after an hour"; exit 1; }
  sleep 0.1
done
t2=$(now)
result "restart: reports full count" "$(secs "$t0" "$t2") s"
sleep 2
result "peak heap during recovery" "$(mib "$(peak recovery)") MiB sampled; $(gc_peaks "$tmp/gc-$run.log")"
grep -E "Engine: recovered|listening for AMQP" "$blog" | tail -2 | sed 's/^/    /' || true

# --- 5: drain -----------------------------------------------------------------------------------
set_phase drain
log "draining backlog-q with one consumer (manual ack, prefetch 500)"
t0=$(now)
perftest "$tmp/drain.log" -x 0 -y 1 -q 500 -u backlog-q -p -ad false -D "$messages" -z 3600 \
  || { alive || died drain; echo "PerfTest (drain) failed:"; tail -20 "$tmp/drain.log"; exit 1; }
t1=$(now)
drain_s=$(secs "$t0" "$t1")
result "drain rate" "$(echo "$messages / $drain_s" | bc) msg/s ($messages in $drain_s s, includes PerfTest start-up)"
avg=$(grep -oE 'receiving rate avg: [0-9]+ msg/s' "$tmp/drain.log" | tail -1 || true)
[[ -n "$avg" ]] && result "PerfTest receiving rate avg" "${avg#receiving rate avg: }"
sleep 1
result "queue count after drain" "$(count)"
result "peak heap during drain" "$(mib "$(peak drain)") MiB sampled; $(gc_peaks "$tmp/gc-$run.log"), since restart"
result "journal reads total" "$(metric holdfast_message_journal_reads_total) (holdfast_message_journal_reads_total, since restart)"

# --- 6: disk after drain ------------------------------------------------------------------------
set_phase compact
prev=-1
for i in $(seq 0 15); do
  cur=$(du -sb "$data/journal" | cut -f1)
  log "  journal: $cur bytes, $(ls "$data/journal" | wc -l) files"
  [[ "$cur" == "$prev" && $i -ge 3 ]] && break
  prev=$cur; sleep 2
done
result "journal after drain" "$cur bytes ($(du -sh "$data/journal" | cut -f1), $(ls "$data/journal" | wc -l) files, $((i * 2)) s after the drain)"
alive && result broker "alive throughout"
