#!/usr/bin/env bash
# Parley side by side with its peers (shared/guides/performance.md, docs/performance.md): nats-server core, NATS
# JetStream (file stream, acked), ngIRCd and mosquitto, each started here on 127.0.0.1 on a free port, and Parley's
# Release server (TLS, SQLite WAL synchronous=FULL). Runs W1 (P=100, P=1000), W2, W3 for every system and W4 for
# Parley, stops exactly the processes it started, and prints one markdown table. ngIRCd and mosquitto run a second
# time behind their own TLS listeners ("irc-tls", "mqtt-tls": the same kind of key as Parley's, pinned the same way by
# the bench clients), so the table also shows what TLS alone costs a server written in C. "dotnet" and "dotnet-tls" are
# bench/Parley.TlsRelay, an MQTT QoS 0 relay in .NET written the way Parley handles connections, with no store: the
# floor under Parley's network path. bench/Parley.StoreFloor (workload "store") is the floor under its store: what SQLite
# (WAL, synchronous=FULL, a commit a batch) costs a message in Parley's layout and in others, one thread, no network.
#
#   bash bench/compare.sh
#
# Settings (environment): W1_MESSAGES (messages per W1 run, default 300000), W1_SECONDS (time cap per W1 run,
# default 45), W1_PAIRS (default "100 1000"), W3_CONNECTIONS (default 2000), W4_MIB (default 1024; 0 skips W4), OUT (where results.jsonl and
# table.md go, default bench/compare-out), SYSTEMS (default "nats jetstream irc mqtt irc-tls mqtt-tls dotnet dotnet-tls parley"; e.g. SYSTEMS=parley to
# measure a change to Parley alone), WORKLOADS (default "w1 w2 w3 w4 store"; e.g. WORKLOADS=w3 for idle connections only).
# Every PeerBench call has its own --timeout; loopback only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
W1_MESSAGES=${W1_MESSAGES:-300000}
W1_SECONDS=${W1_SECONDS:-45}
W1_PAIRS=${W1_PAIRS:-100 1000}
W3_CONNECTIONS=${W3_CONNECTIONS:-2000}
W4_MIB=${W4_MIB:-1024}
OUT=${OUT:-$ROOT/bench/compare-out}
SYSTEMS=${SYSTEMS:-nats jetstream irc mqtt irc-tls mqtt-tls dotnet dotnet-tls parley}
WORKLOADS=${WORKLOADS:-w1 w2 w3 w4 store}
wants() { [[ " $WORKLOADS " == *" $1 "* ]]; }
WORK=$(mktemp -d /tmp/parley-compare.XXXXXX)
STARTED_PIDS=()
START=$(date +%s)

cleanup() {
    # Only the servers this script started, by PID (see stop below).
    for pid in "${STARTED_PIDS[@]}"; do stop "$pid"; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

# --- peers: install if missing, without leaving the distribution's services running ---
if ! command -v nats-server >/dev/null || ! command -v ngircd >/dev/null || ! command -v mosquitto >/dev/null; then
    log "installing nats-server ngircd mosquitto (apt)"
    # policy-rc.d 101 tells invoke-rc.d not to start the packages' services on install.
    created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server ngircd mosquitto >/dev/null
    if [ "$created_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
    if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
        for s in nats-server ngircd mosquitto; do systemctl disable --now "$s" >/dev/null 2>&1 || true; done
    fi
fi

# --- builds (Release) ---
log "building Release: parley, PeerBench, FileBench, TlsRelay, StoreFloor"
dotnet build -c Release "$ROOT/src/Parley.Cli" -v q -nologo >/dev/null
dotnet build -c Release "$ROOT/bench/Parley.PeerBench" -v q -nologo >/dev/null
dotnet build -c Release "$ROOT/bench/Parley.FileBench" -v q -nologo >/dev/null
dotnet build -c Release "$ROOT/bench/Parley.TlsRelay" -v q -nologo >/dev/null
dotnet build -c Release "$ROOT/bench/Parley.StoreFloor" -v q -nologo >/dev/null
PARLEY=${PARLEY_DLL:-$ROOT/src/Parley.Cli/bin/Release/net10.0/parley.dll}
PB="$ROOT/bench/Parley.PeerBench/bin/Release/net10.0/Parley.PeerBench.dll"
FILEBENCH="$ROOT/bench/Parley.FileBench/bin/Release/net10.0/Parley.FileBench.dll"
TLSRELAY="$ROOT/bench/Parley.TlsRelay/bin/Release/net10.0/Parley.TlsRelay.dll"
STOREFLOOR="$ROOT/bench/Parley.StoreFloor/bin/Release/net10.0/Parley.StoreFloor.dll"
peerbench() { dotnet "$PB" "$@"; }

mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "commit: $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- src bench || echo ' (with local changes)')"
    echo "nproc: $(nproc); cpu: $(lscpu | sed -n 's/^Model name: *//p')"
    echo "load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "peers: $(nats-server --version) / $(ngircd --version | head -1 | cut -d' ' -f1-2) / $(mosquitto -h | head -1)"
    echo "W1: $W1_MESSAGES messages per run, cap $W1_SECONDS s; window 64; 100-byte messages; W3: $W3_CONNECTIONS connections, 64 logins in flight"
} > "$OUT/machine.txt"
cat "$OUT/machine.txt" >&2

wait_port() {
    for _ in $(seq 200); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.05
    done
    echo "nothing listens on port $1" >&2
    return 1
}

# Stops one server this script started. It is our child and not reaped until `wait`, so its PID cannot have been reused.
stop() {
    local pid=$1 state
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do
        state=$(ps -o stat= -p "$pid" 2>/dev/null || true)
        if [ -z "$state" ] || [ "${state:0:1}" = Z ]; then break; fi
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    local kept=()
    for p in "${STARTED_PIDS[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
    STARTED_PIDS=("${kept[@]}")
}

# run_traffic SYSTEM PORT PID [extra PeerBench options...]: warm-up, W1 for each P, W2.
run_traffic() {
    local system=$1 port=$2 pid=$3
    shift 3
    local common=(--system "$system" --port "$port" --pid "$pid" "$@")
    if ! wants w1 && ! wants w2; then return 0; fi
    # 100,000 messages: with 20,000 the .NET JIT was still compiling through W1 P=100 (11 % of Parley's CPU there).
    # Then 3 s of W2, as bench/ab.sh does: right after the W1 warm-up the JIT still had some 900 methods to recompile
    # at tier 1, which it did during W1 P=100 (.NET's tiered-compilation thread 13-14 % of Parley's CPU there in runs
    # 22-23); after 3 s of W2 it has about 140 left (docs/performance.md, session 12).
    log "$system: warm-up (W1, 10 pairs, 100000 messages, then W2 for 3 s; not recorded)"
    local w1_pairs=$W1_PAIRS warm_window=64
    if [ "$system" = irc-tls ]; then
        # ngIRCd's TLS path stalls when one TLS record holds more lines than it reads at once: with W1's window of
        # 64 messages (one 8 KiB write) it waits for socket data while GnuTLS holds the rest of the record, and the run
        # ends at its time cap with messages undelivered. With 8 in flight it keeps up. So no W1 for it; W2 sends one
        # message at a time and is measured.
        w1_pairs=""; warm_window=8
    fi
    peerbench w1 "${common[@]}" --pairs 10 --messages 100000 --seconds 30 --timeout 120 --prefix w --window "$warm_window" >/dev/null
    peerbench w2 "${common[@]}" --pairs 100 --interval-ms 10 --duration 3 --prefix l --timeout 120 >/dev/null
    for pairs in $(wants w1 && echo "$w1_pairs"); do
        log "$system: W1 P=$pairs"
        peerbench w1 "${common[@]}" --out "$RESULTS" --label "w1-p$pairs" --pairs "$pairs" --messages "$W1_MESSAGES" --seconds "$W1_SECONDS" \
            --prefix "t$pairs" --timeout 240 >&2
    done
    wants w2 || return 0
    log "$system: W2"
    peerbench w2 "${common[@]}" --out "$RESULTS" --label w2 --pairs 100 --interval-ms 10 --duration 10 --prefix l --timeout 120 >&2
}

# run_idle SYSTEM PORT PID [extra...]: W3 on a freshly started server (after W1 the allocator would hand the new
# connections memory that earlier connections freed, and the growth would read as zero).
run_idle() {
    local system=$1 port=$2 pid=$3
    shift 3
    wants w3 || return 0
    log "$system: W3 ($W3_CONNECTIONS connections, fresh server)"
    peerbench w3 --system "$system" --port "$port" --pid "$pid" "$@" --out "$RESULTS" --label w3 --connections "$W3_CONNECTIONS" \
        --in-flight 64 --timeout 300 >&2
}

# Each start_* sets $port and $pid (the server process itself, recorded for cleanup).
started() { pid=$1; STARTED_PIDS+=("$pid"); wait_port "$port"; }

start_nats() {
    port=$(peerbench free-port)
    nats-server -a 127.0.0.1 -p "$port" >> "$WORK/nats.log" 2>&1 &
    started $!
}

start_jetstream() {
    port=$(peerbench free-port)
    rm -rf "$WORK/jetstream"; mkdir -p "$WORK/jetstream"
    nats-server -a 127.0.0.1 -p "$port" -js -sd "$WORK/jetstream" >> "$WORK/jetstream.log" 2>&1 &
    started $!
}

# ngIRCd: the guide's config with the port substituted; -n keeps it in the foreground, so $! is the server.
start_irc() {
    port=$(peerbench free-port)
    sed "s/^\([[:space:]]*Ports = \).*/\1$port/" "$ROOT/bench/peer-configs/ngircd.conf" > "$WORK/ngircd.conf"
    ngircd -n -f "$WORK/ngircd.conf" >> "$WORK/ngircd.log" 2>&1 &
    started $!
}

# mosquitto: the guide's config with the port substituted.
start_mqtt() {
    port=$(peerbench free-port)
    sed "s/^listener [0-9]* /listener $port /" "$ROOT/bench/peer-configs/mosquitto.conf" > "$WORK/mosquitto.conf"
    mosquitto -c "$WORK/mosquitto.conf" >> "$WORK/mosquitto.log" 2>&1 &
    started $!
}

# The TLS listeners ("-tls" systems) share one key, made by the loop below before the first of them starts. mosquitto
# started as root drops to its own user, which must be able to read the key: the folder is readable by all (a
# throwaway key for loopback).
tls_key() {
    if [ -z "${tls_fingerprint:-}" ]; then
        chmod 711 "$WORK"
        tls_fingerprint=$(peerbench tls-key --dir "$WORK/tls")
        chmod 755 "$WORK/tls"; chmod 644 "$WORK/tls/key.pem"
    fi
}

# ngIRCd with TLS: the same config, its plain port on another free port, and an [SSL] section for the measured port.
start_irc_tls() {
    port=$(peerbench free-port)
    local plain
    plain=$(peerbench free-port)
    sed "s/^\([[:space:]]*Ports = \).*/\1$plain/" "$ROOT/bench/peer-configs/ngircd.conf" > "$WORK/ngircd-tls.conf"
    printf '[SSL]\n\tCertFile = %s\n\tKeyFile = %s\n\tPorts = %s\n' "$WORK/tls/cert.pem" "$WORK/tls/key.pem" "$port" >> "$WORK/ngircd-tls.conf"
    ngircd -n -f "$WORK/ngircd-tls.conf" >> "$WORK/ngircd-tls.log" 2>&1 &
    started $!
}

# mosquitto with TLS: the same config, its listener given the key (certfile and keyfile apply to the last listener).
start_mqtt_tls() {
    port=$(peerbench free-port)
    sed "s/^listener [0-9]* /listener $port /" "$ROOT/bench/peer-configs/mosquitto.conf" > "$WORK/mosquitto-tls.conf"
    printf 'certfile %s\nkeyfile %s\n' "$WORK/tls/cert.pem" "$WORK/tls/key.pem" >> "$WORK/mosquitto-tls.conf"
    mosquitto -c "$WORK/mosquitto-tls.conf" >> "$WORK/mosquitto-tls.log" 2>&1 &
    started $!
}

# The floor under Parley's network path: bench/Parley.TlsRelay, an MQTT QoS 0 relay written the way Parley's server
# handles connections, with no accounts and no store; "dotnet" is the same without TLS.
start_dotnet() {
    port=$(peerbench free-port)
    dotnet "$TLSRELAY" --port "$port" --plain >> "$WORK/tlsrelay.log" 2>&1 &
    started $!
}

start_dotnet_tls() {
    port=$(peerbench free-port)
    dotnet "$TLSRELAY" --port "$port" --cert "$WORK/tls/cert.pem" --key "$WORK/tls/key.pem" >> "$WORK/tlsrelay-tls.log" 2>&1 &
    started $!
}

# Parley: the Release server as shipped (TLS, SQLite WAL synchronous=FULL, group commit), with the per-connection rate
# limit (a limit for people) and the per-address connection caps (every client comes from 127.0.0.1) lifted. The data
# folder (accounts, key) survives restarts.
start_parley() {
    port=$(peerbench free-port)
    : > "$WORK/parley.out"
    dotnet "$PARLEY" serve --data "$WORK/parley-data" --listen "127.0.0.1:$port" --log-level Warning \
        --rate-limit 0 --max-unacknowledged 100000000 --max-connections 20000 \
        --max-connections-per-address 20000 --max-unauthenticated-per-address 20000 ${PARLEY_SERVE_ARGS:-} > "$WORK/parley.out" 2>> "$WORK/parley.err" &
    started $!
    for _ in $(seq 100); do grep -q '^key fingerprint' "$WORK/parley.out" && break; sleep 0.1; done
    fingerprint=$(sed -n 's/^key fingerprint //p' "$WORK/parley.out")
}

for system in nats jetstream irc mqtt irc-tls mqtt-tls dotnet dotnet-tls; do
    case " $SYSTEMS " in *" $system "*) ;; *) continue ;; esac
    start="start_${system//-/_}"
    pin=()
    if [[ $system == *-tls ]]; then tls_key; pin=(--fingerprint "$tls_fingerprint"); fi
    if [ "$system" != jetstream ]; then
        "$start"; run_idle "$system" "$port" "$pid" "${pin[@]}"; stop "$pid"
    fi
    "$start"; run_traffic "$system" "$port" "$pid" "${pin[@]}"; stop "$pid"
done

if [[ " $SYSTEMS " == *" parley "* ]]; then
start_parley
most_pairs=$(printf '%s\n' $W1_PAIRS 100 | sort -n | tail -1)
accounts=$(( W3_CONNECTIONS > 2 * most_pairs ? W3_CONNECTIONS : 2 * most_pairs ))
log "parley: registering $accounts accounts (one Argon2id hash each; not a measured workload)"
peerbench register --system parley --port "$port" --fingerprint "$fingerprint" --tokens "$WORK/tokens.tsv" --count "$accounts" \
    --out "$RESULTS" --timeout 600 >&2
stop "$pid"
start_parley
run_idle parley "$port" "$pid" --fingerprint "$fingerprint" --tokens "$WORK/tokens.tsv"
if wants w3; then
log "parley: password logins (LOGIN, Argon2id), 60 connections, 20 at a time"
peerbench w3 --system parley --port "$port" --pid "$pid" --fingerprint "$fingerprint" --tokens "$WORK/tokens.tsv" --password \
    --label w3-password --connections 60 --in-flight 20 --out "$RESULTS" --timeout 300 >&2
fi
stop "$pid"
start_parley
run_traffic parley "$port" "$pid" --fingerprint "$fingerprint" --tokens "$WORK/tokens.tsv"
stop "$pid"
fi

# --- W4: 1 GiB through parley (upload, then download) against a plain TCP copy (bench/Parley.FileBench) ---
: > "$OUT/w4.txt"
if [ "$W4_MIB" != 0 ] && wants w4 && [[ " $SYSTEMS " == *" parley "* ]]; then
    log "parley: W4 ($W4_MIB MiB, bench/Parley.FileBench)"
    ( cd "$WORK" && TMPDIR="$WORK" dotnet "$FILEBENCH" "$W4_MIB" "$PARLEY" ) | tee "$OUT/w4.txt" >&2
fi

: > "$OUT/store-floor.txt"
if wants store && [[ " $SYSTEMS " == *" parley "* ]]; then
    log "store floor (bench/Parley.StoreFloor): SQLite layouts, one thread"
    dotnet "$STOREFLOOR" --dir "$WORK" | tee "$OUT/store-floor.txt" >&2
fi

echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg); whole script: $(( $(date +%s) - START )) s" >> "$OUT/machine.txt"
peerbench table --results "$RESULTS" --w4 "$OUT/w4.txt" > "$OUT/table.md"
cat "$OUT/machine.txt"
echo
cat "$OUT/table.md"
if [ -s "$OUT/store-floor.txt" ]; then
    printf '\n### The floor under the store (bench/Parley.StoreFloor)\n\n'
    cat "$OUT/store-floor.txt"
fi
