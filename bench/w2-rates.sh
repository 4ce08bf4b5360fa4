#!/usr/bin/env bash
# W2 at several offered rates, for one Parley build (docs/performance.md, "What changed in session 10"). compare.sh and
# ab.sh offer 20,000 messages a second, where Parley and its bench client saturate the two cores and p99 is a backlog's;
# below that rate the server's CPU a message and its latency tail show costs that saturation hides (spinning threads,
# merge pauses). Starts `parley serve` as ab.sh does, registers 200 accounts, warms up with W1 (10 pairs), holds the
# server idle 5 s (its CPU then is printed: it should be 0), then runs W2 (100 pairs, DURATION seconds, default 8) at
# each interval in IVS (milliseconds between one client's messages; default "40 20 10", that is 5,000, 10,000 and
# 20,000 messages a second) and prints, for each: messages carried, p50 and p99 in ms, server CPU µs a message, the
# server's CPU by thread and the bench client's own CPU (user and system seconds, the client's whole run).
# Options (environment): PARLEY_DLL, SERVE_ARGS, SERVER_ENV (as for ab.sh), IVS, DURATION, STAT=1 (perf stat of the
# server's system calls at each rate, sched_yield and futex included; needs perf), TRACE=DIR (each message's send time
# and latency into DIR/w2-every-IV-ms.txt, PeerBench's `--trace`, and the 50 ms windows whose slowest message took over
# 20 ms: a pause shows as a run of such windows whose latencies fall by 50 ms a window).
#   PARLEY_DLL=/tmp/a/parley.dll bash bench/w2-rates.sh; PARLEY_DLL=/tmp/b/parley.dll bash bench/w2-rates.sh; ...
set -euo pipefail
if [ ! -x /usr/bin/time ]; then
    # GNU time measures the bench client's CPU; Debian has it in the `time` package.
    echo "w2-rates.sh: installing time" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
# shellcheck source=bench/ab-common.sh
source "$(dirname "$0")/ab-common.sh"
start_with_accounts
dotnet "$PB" w1 "${common[@]}" --pairs 10 --messages 100000 --seconds 30 --timeout 120 --prefix w >/dev/null
threads > "$W/th0"; sleep 5; threads > "$W/th1"; echo "idle 5 s:"; report
for iv in ${IVS:-40 20 10}; do
    threads > "$W/th0"
    if [ "${STAT:-0}" = 1 ]; then
        perf stat -e syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sched_yield,syscalls:sys_enter_pwrite64,syscalls:sys_enter_fsync,syscalls:sys_enter_futex,context-switches \
            -p "$pid" -o "$W/stat.txt" & spid=$!
    fi
    trace=()
    if [ -n "${TRACE:-}" ]; then mkdir -p "$TRACE"; trace=(--trace "$TRACE/w2-every-$iv-ms.txt"); fi
    /usr/bin/time -o "$W/client-time" -f "%U %S" dotnet "$PB" w2 "${common[@]}" --pairs 100 --interval-ms "$iv" --duration "${DURATION:-8}" --prefix l --timeout 120 "${trace[@]}" \
        | python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(f\"W2 every $iv ms ({200000 // $iv:,} msg/s offered): {d['sent']:,} carried, p50 {d['p50_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms, {d['server_cpu_us_per_msg']:.1f} us of server CPU a message\")"
    threads > "$W/th1"; report
    read -r cu cs < "$W/client-time"; echo "   bench client CPU: user $cu s, system $cs s"
    if [ -n "${TRACE:-}" ]; then
        python3 - "$TRACE/w2-every-$iv-ms.txt" <<'PY'
import sys
windows = {}
with open(sys.argv[1]) as trace:
    for line in trace:
        if not line.startswith('#'):
            sent, latency = map(float, line.split())
            windows.setdefault(int(sent // 50), []).append(latency)
slow = [(w * 50, len(v), max(v)) for w, v in sorted(windows.items()) if max(v) > 20]
print(f"   50 ms windows with a message over 20 ms: {len(slow)} of {len(windows)}" + ("".join(f"\n     sent at {t} ms: {n} messages, slowest {m:.1f} ms" for t, n, m in slow[:12])))
PY
    fi
    if [ "${STAT:-0}" = 1 ]; then kill -INT "$spid"; wait "$spid" || true; grep -E 'syscalls|context' "$W/stat.txt"; fi
done
