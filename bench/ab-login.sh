#!/usr/bin/env bash
# One side of an A/B measurement of Parley's resume-token logins (W3) alone (docs/performance.md).
# Registers N accounts (default 2,000; Argon2id, slow) once into a template store, then for each run copies the
# template, starts `parley serve` on the copy with compare.sh's flags, and runs W3 as compare.sh does (a warm-up batch,
# a first pass that measures memory per idle connection, a second pass that measures the login rate), and prints both
# passes' rate and server CPU per login. Run it alternately for the two builds being compared:
#   PARLEY_DLL=/tmp/a/parley.dll bash bench/ab-login.sh; PARLEY_DLL=/tmp/b/parley.dll bash bench/ab-login.sh; ...
# Options (environment): PARLEY_DLL, SERVE_ARGS, SERVER_ENV, N (accounts and connections), TEMPLATE (the registered
# store, default /tmp/parley-ab-login-N; delete it after a change to the store's tables), PERF=1 (perf record of the
# server during a second W3 on the warm server, report in $TEMPLATE.perf.txt; needs perf), CLIENT_TIME=1 (the bench
# client's own CPU, which shares the two cores with the server).
set -euo pipefail
N=${N:-2000}
TEMPLATE=${TEMPLATE:-/tmp/parley-ab-login-$N}
# shellcheck source=bench/ab-common.sh
source "$(dirname "$0")/ab-common.sh"

start_from_template "$N" "$TEMPLATE"
w3() {
    ${CLIENT_TIME:+/usr/bin/time -a -o $W/client-time -f %U,%S,%e} dotnet "$PB" w3 --system parley --port "$port" --pid "$pid" --fingerprint "$fp" --tokens "$W/tokens.tsv" --out "$1" \
        --label w3 --connections "$N" --in-flight 64 --timeout 300 >/dev/null
}
w3 "$W/w3.jsonl"
if [ "${PERF:-0}" = 1 ]; then
    # A second, unreported W3 on the now warm server, under perf: logins without the first pass's JIT.
    perf record -F 999 -p "$pid" -o "$W/perf.data" 2>/dev/null & perf_pid=$!
    w3 "$W/w3-perf.jsonl"
    kill -INT "$perf_pid"; wait "$perf_pid" || true
    { perf report -i "$W/perf.data" --no-children --sort dso -g none --stdio 2>/dev/null | grep -v '^#' | head -25
      perf report -i "$W/perf.data" --no-children --sort dso,sym -g none --stdio 2>/dev/null | grep -v '^#' | head -80; } > "$TEMPLATE.perf.txt" || true # head closes the pipe early
fi
python3 - "$W/w3.jsonl" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
d = d.get('result', d)
print(f"W3: second pass {d['logins_per_s']:.0f} logins/s at {d['server_cpu_us_per_login']:.0f} us of server CPU a login; "
      f"first pass {d['fresh_logins_per_s']:.0f}/s at {d['fresh_server_cpu_us_per_login']:.0f} us; "
      f"{d['kib_per_conn']:.1f} KiB per idle connection; {d['failed']} failed")
PY
if [ -n "${CLIENT_TIME:-}" ]; then
    # The bench client shares the machine's cores with the server: its CPU for the whole W3 (warm-up and both passes).
    IFS=, read -r user sys wall < "$W/client-time"
    echo "   bench client: $user s user + $sys s system CPU over $wall s"
fi
