#!/usr/bin/env bash
# One side of an A/B measurement of the Parley server alone (docs/performance.md, "What changed in session 5").
# Starts `parley serve` with compare.sh's flags on a fresh store, registers 200 accounts, warms up (W1 with 10 pairs
# and 100,000 messages, then 3 s of W2), then runs W1 P=100 (M messages, default 150,000) and W2 (100 pairs, 10 s),
# and prints the rate, the server CPU per message and the server's CPU time per thread for each. Run it alternately
# for the two builds being compared:
#   PARLEY_DLL=/tmp/a/parley.dll bash bench/ab.sh; PARLEY_DLL=/tmp/b/parley.dll bash bench/ab.sh; ...
# Options (environment): PARLEY_DLL, SERVE_ARGS (extra `serve` flags), SERVER_ENV (e.g. "DOTNET_TieredPGO=0"),
# M (W1 messages), PAIRS (W1's pairs, default 100; registers 2 x PAIRS accounts), PERF=1 / PERF_W1=1 (perf record of the server during W2 / W1), STAT=1 (perf stat of the server's system calls during W2, fsync included; needs perf).
set -euo pipefail
# shellcheck source=bench/ab-common.sh
source "$(dirname "$0")/ab-common.sh"
PAIRS=${PAIRS:-100}
ACCOUNTS=$(( 2 * PAIRS > 200 ? 2 * PAIRS : 200 )) start_with_accounts
summary() { python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print($1)"; }
dotnet "$PB" w1 "${common[@]}" --pairs 10 --messages 100000 --seconds 30 --timeout 120 --prefix w >/dev/null
dotnet "$PB" w2 "${common[@]}" --pairs 100 --interval-ms 10 --duration 3 --prefix l --timeout 120 >/dev/null
threads > "$W/th0"
if [ "${PERF_W1:-0}" = 1 ]; then
    perf record -F 999 -g -p "$pid" -o "$W/perf-w1.data" 2>/dev/null & perf_w1_pid=$!
fi
dotnet "$PB" w1 "${common[@]}" --pairs "$PAIRS" --messages "${M:-150000}" --seconds 45 --prefix t100 --timeout 240 \
    | summary "f\"W1 P=$PAIRS: {d['msgs_per_s']:.0f} msg/s, {d['server_cpu_us_per_msg']:.1f} us of server CPU a message\""
threads > "$W/th1"; report
if [ "${PERF_W1:-0}" = 1 ]; then
    kill -INT "$perf_w1_pid"; wait "$perf_w1_pid" || true
    cp "$W/perf-w1.data" "${PERF_W1_OUT:-/tmp/parley-ab-w1.perf.data}"
    echo "perf data of the server during W1: ${PERF_W1_OUT:-/tmp/parley-ab-w1.perf.data}"
fi
threads > "$W/th0"
if [ "${STAT:-0}" = 1 ]; then
    perf stat -e syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_sched_yield,syscalls:sys_enter_pwrite64,syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,context-switches \
        -p "$pid" -o "$W/stat.txt" & spid=$!
fi
if [ "${PERF:-0}" = 1 ]; then
    perf record -F 999 -g -p "$pid" -o "$W/perf.data" 2>/dev/null & perf_pid=$!
fi
dotnet "$PB" w2 "${common[@]}" --pairs 100 --interval-ms 10 --duration 10 --prefix l --timeout 120 \
    | summary "f\"W2: {d['sent']} of 200,000 carried, p50 {d['p50_ms']:.0f} ms, p99 {d['p99_ms']:.0f} ms, {d['server_cpu_us_per_msg']:.1f} us of server CPU a message\""
threads > "$W/th1"; report
if [ "${STAT:-0}" = 1 ]; then kill -INT "$spid"; wait "$spid" || true; grep -E 'syscalls|context' "$W/stat.txt"; fi
if [ "${PERF:-0}" = 1 ]; then
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    cp "$W/perf.data" "${PERF_OUT:-/tmp/parley-ab-w2.perf.data}"
    echo "perf data of the server during W2: ${PERF_OUT:-/tmp/parley-ab-w2.perf.data}"
fi
