# Sourced by ab.sh and ab-login.sh: the Parley build to measure, the bench driver, a scratch folder ($W, removed on
# exit with the server), and start_server / stop_server for `parley serve` with compare.sh's flags.
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
