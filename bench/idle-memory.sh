#!/usr/bin/env bash
# What an idle logged-in Parley connection costs the server, and where (docs/performance.md, "What changed in
# session 7"). Starts `parley serve` on a copy of ab-login.sh's registered store, opens and logs in N connections
# as W3 does (64 logins in flight) and holds them; while they are held it prints the server's RSS, the managed objects per
# connection from a heap snapshot (dotnet-gcdump: the types with at least 95 % of N instances, summed), and, with
# TRIM=1, the RSS after glibc's malloc_trim(0) (called through gdb: the memory malloc holds free).
#   bash bench/idle-memory.sh                      # N=2000
#   SERVE_ARGS=--keep-tls-buffers bash bench/idle-memory.sh
# Options (environment): PARLEY_DLL, SERVE_ARGS, SERVER_ENV, N, TEMPLATE (as ab-login.sh), TRIM=1 (needs gdb).
# Needs dotnet-gcdump (`dotnet tool install -g dotnet-gcdump`).
set -euo pipefail
N=${N:-2000}
TEMPLATE=${TEMPLATE:-/tmp/parley-ab-login-$N}
GCDUMP=${GCDUMP:-$HOME/.dotnet/tools/dotnet-gcdump}
# shellcheck source=bench/ab-common.sh
source "$(dirname "$0")/ab-common.sh"
[ -x "$GCDUMP" ] || { echo "idle-memory.sh: needs dotnet-gcdump ($GCDUMP)" >&2; exit 2; }

start_from_template "$N" "$TEMPLATE"
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
dotnet "$PB" w3 --system parley --port "$port" --pid "$pid" --fingerprint "$fp" --tokens "$W/tokens.tsv" --out "$W/w3.jsonl" \
    --label w3 --connections "$N" --in-flight 64 --timeout 300 --hold 30 >/dev/null 2>"$W/hold.err" &
bench=$!
for _ in $(seq 600); do grep -q holding "$W/hold.err" && break; sleep 0.5; done
grep -q holding "$W/hold.err" || { echo "idle-memory.sh: the connections were not all held" >&2; exit 1; }
echo "RSS with $N connections held: $(rss) KiB"
"$GCDUMP" report -p "$pid" > "$W/gcdump.txt" 2>/dev/null
python3 - "$W/gcdump.txt" "$N" <<'PY'
import re, sys
n = int(sys.argv[2])
per = []
heap = None
for line in open(sys.argv[1]):
    if 'GC Heap bytes' in line:
        heap = int(line.split()[0].replace(',', ''))
    m = re.match(r'\s*([\d,]+)\s+([\d,]+)\s+(.*)', line)
    if m and int(m.group(2).replace(',', '')) >= 0.95 * n:
        size, count = int(m.group(1).replace(',', '')), int(m.group(2).replace(',', ''))
        per.append((size * count / n, m.group(3).strip()))
print(f"managed heap {heap / 1048576:.1f} MiB; objects of every connection: {sum(b for b, _ in per):,.0f} bytes per connection")
for bytes_, name in sorted(per, reverse=True)[:12]:
    print(f"  {bytes_:6.0f}  {name[:110]}")
PY
# The snapshot ran a full blocking collection: what the RSS is now tells how much of the growth was garbage the
# collector had not yet collected (its first generation is sized from the machine's L3 cache) rather than connections.
echo "RSS after the snapshot's full collection: $(rss) KiB"
if [ "${TRIM:-0}" = 1 ]; then
    gdb -p "$pid" -batch -ex 'call (int)malloc_trim(0)' >/dev/null 2>&1 || echo "gdb failed" >&2
    echo "RSS after malloc_trim(0): $(rss) KiB"
fi
wait "$bench"
python3 - "$W/w3.jsonl" <<'PY'
import json, sys
d = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
d = d.get('result', d)
print(f"W3: RSS {d['rss_before_mib']:.1f} -> {d['rss_after_mib']:.1f} MiB, {d['kib_per_conn']:.1f} KiB per idle connection")
PY
