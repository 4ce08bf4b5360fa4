# Sourced by ab.sh, ab-login.sh, idle-memory.sh and w2-rates.sh: the Parley build to measure, the bench driver, a
# scratch folder ($W, removed on exit with the server), start_server / stop_server for `parley serve` with
# compare.sh's flags, start_with_accounts, and the server's CPU by thread (threads, report).
# Environment: PARLEY_DLL (default: this checkout's Release build), PEERBENCH_DLL (the bench driver, default this
# checkout's Release build; a change to the client side needs two builds too), SERVE_ARGS (extra `serve` flags), SERVER_ENV
# (e.g. "DOTNET_TieredPGO=0").
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PARLEY=${PARLEY_DLL:-$ROOT/src/Parley.Cli/bin/Release/net10.0/parley.dll}
PB=${PEERBENCH_DLL:-$ROOT/bench/Parley.PeerBench/bin/Release/net10.0/Parley.PeerBench.dll}
[ -f "$PB" ] || dotnet build -c Release "$ROOT/bench/Parley.PeerBench" >/dev/null
[ -f "$PARLEY" ] || dotnet build -c Release "$ROOT/src/Parley.Cli" >/dev/null
W=$(mktemp -d /tmp/parley-ab.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT

# start_server DATA: starts `parley serve` on the folder DATA and a free loopback port; sets $pid, $port and $fp.
start_server() {
    port=$(dotnet "$PB" free-port)
    # shellcheck disable=SC2086
    env ${SERVER_ENV:-} dotnet "$PARLEY" serve ${SERVE_ARGS:-} --data "$1" --listen "127.0.0.1:$port" --log-level Warning \
        --rate-limit 0 --max-unacknowledged 100000000 --max-connections 20000 --max-connections-per-address 20000 \
        --max-unauthenticated-per-address 20000 > "$W/out" 2>> "$W/err" &
    pid=$!
    for _ in $(seq 300); do grep -q '^key fingerprint' "$W/out" && break; sleep 0.1; done
    fp=$(sed -n 's/^key fingerprint //p' "$W/out")
}

# stop_server: SIGTERM (a clean shutdown, which merges the staged log) and wait.
stop_server() { kill -TERM "$pid"; wait "$pid" || true; pid=; : > "$W/out"; }

# start_from_template N TEMPLATE: registers N accounts (Argon2id, slow) into the store TEMPLATE once, then copies it
# into $W and starts `parley serve` on the copy, with the accounts' tokens in $W/tokens.tsv. Used by ab-login.sh and
# idle-memory.sh; delete TEMPLATE after a change to the store's tables.
start_from_template() {
    if [ ! -f "$2/tokens.tsv" ]; then
        echo "registering $1 accounts into $2 (once)" >&2
        rm -rf "$2"; mkdir -p "$2"
        start_server "$2/data"
        dotnet "$PB" register --system parley --port "$port" --fingerprint "$fp" --tokens "$2/tokens.tsv" --count "$1" \
            --out "$W/r.jsonl" --timeout 900 >/dev/null
        stop_server
    fi
    cp -r "$2/data" "$W/data"; cp "$2/tokens.tsv" "$W/tokens.tsv"
    start_server "$W/data"
}

# start_with_accounts: starts `parley serve` on a fresh store in $W/data, registers $ACCOUNTS (default 200) accounts (tokens in
# $W/tokens.tsv) and sets $common, the flags every PeerBench workload against it needs.
start_with_accounts() {
    start_server "$W/data"
    dotnet "$PB" register --system parley --port "$port" --fingerprint "$fp" --tokens "$W/tokens.tsv" --count "${ACCOUNTS:-200}" --out "$W/r.jsonl" --timeout 600 >/dev/null
    common=(--system parley --port "$port" --pid "$pid" --fingerprint "$fp" --tokens "$W/tokens.tsv")
}

# threads: one line per server thread: id, name, CPU ticks so far. report: CPU ms by thread name between the snapshots
# $W/th0 and $W/th1.
threads() {
    # A thread may end while this reads it (the thread pool retires idle workers): skip it rather than fail.
    for t in /proc/$pid/task/*; do
        local name ticks
        name=$(cat "$t/comm" 2>/dev/null | tr ' ' _) && [ -n "$name" ] && ticks=$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12+$13}') \
            && [ -n "$ticks" ] && echo "$(basename "$t") $name $ticks"
    done
    return 0
}
report() {
    python3 - "$W/th0" "$W/th1" <<'PY'
import sys
before = {l.split()[0]: int(l.split()[2]) for l in open(sys.argv[1])}
ms = {}
for line in open(sys.argv[2]):
    tid, name, ticks = line.split()
    ms[name] = ms.get(name, 0) + (int(ticks) - before.get(tid, 0)) * 10
print('   server CPU ms by thread:', ', '.join(f'{n} {v}' for n, v in sorted(ms.items(), key=lambda x: -x[1]) if v >= 50) or 'none')
PY
}
