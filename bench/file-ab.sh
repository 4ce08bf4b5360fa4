#!/usr/bin/env bash
# One side of an A/B of Parley's file transfer: a fresh `parley serve`, one upload (`parley send-file`) and one
# download (`parley get`) of a MIB-MiB file through the real CLI, and for each the wall time and CPU of the client
# process and the server CPU it cost; then the server's peak RSS (VmHWM) over both. Run it alternately for two builds:
#   PARLEY_DLL=/tmp/a/parley.dll bash bench/file-ab.sh; PARLEY_DLL=/tmp/b/parley.dll bash bench/file-ab.sh
# Environment: PARLEY_DLL, MIB (default 1024), SERVER_ENV, SERVE_ARGS (see ab-common.sh). PERF=1 records the whole
# machine during the upload instead (`perf record -a -g`, to PERF_OUT, default /tmp/parley-file-ab.perf.data; add
# SERVER_ENV="DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0" for .NET method names). RESUME=1 kills the
# upload after KILL_AFTER seconds (default 3.5), rests 6 s (this VM hands freed pages back to its host meanwhile), and
# times the resumed upload: the server re-hashes the partial file before it answers UPLOAD_READY.
# The payload is random bytes kept in $W (removed on exit): written just before, so it is in the page cache, as
# Parley.FileBench's is. FileBench gives the rates against the floors; this gives what each side spends.
set -euo pipefail
# shellcheck source=bench/ab-common.sh
source "$(dirname "$0")/ab-common.sh"
command -v /usr/bin/time >/dev/null || apt-get install -y time >/dev/null
MIB=${MIB:-1024}

head -c $((MIB << 20)) /dev/urandom > "$W/payload.bin"
start_server "$W/data"
for user in alice bob; do
    echo "correct horse battery" | dotnet "$PARLEY" --home "$W/$user" register --server "127.0.0.1:$port" --user "$user" \
        --password-stdin --accept-new-server-key > /dev/null
done

server_cpu_ms() { awk '{print ($14 + $15) * 10}' "/proc/$pid/stat"; }

if [ "${RESUME:-0}" = 1 ]; then
    dotnet "$PARLEY" --home "$W/alice" send-file bob "$W/payload.bin" > /dev/null 2>&1 &
    client=$!
    sleep "${KILL_AFTER:-3.5}"
    kill -KILL "$client"
    wait "$client" 2> /dev/null || true
    sleep 6
    partial=$(stat -c %s "$W"/data/files/*.part)
    before=$(server_cpu_ms)
    /usr/bin/time -o "$W/up.time" -f "resumed upload after $((partial >> 20)) MiB: %e s wall, client %U s user %S s sys" \
        dotnet "$PARLEY" --home "$W/alice" send-file bob "$W/payload.bin" > /dev/null 2>&1
    echo "$(cat "$W/up.time"), server CPU $(( $(server_cpu_ms) - before )) ms"
elif [ "${PERF:-0}" = 1 ]; then
    perf record -F 999 -a -g -o "${PERF_OUT:-/tmp/parley-file-ab.perf.data}" -- \
        dotnet "$PARLEY" --home "$W/alice" send-file bob "$W/payload.bin" > "$W/up.out" 2>&1
    echo "server pid $pid (perf script -F comm,pid,tid,ip,sym,dso splits the samples by process)"
else
    before=$(server_cpu_ms)
    /usr/bin/time -o "$W/up.time" -f "upload:   %e s wall, client %U s user %S s sys, client peak RSS %M KiB" \
        dotnet "$PARLEY" --home "$W/alice" send-file bob "$W/payload.bin" > "$W/up.out" 2>&1
    echo "$(cat "$W/up.time"), server CPU $(( $(server_cpu_ms) - before )) ms"
    id=$(grep -o 'file id [0-9a-f]*' "$W/up.out" | cut -c9-)
    before=$(server_cpu_ms)
    /usr/bin/time -o "$W/get.time" -f "download: %e s wall, client %U s user %S s sys, client peak RSS %M KiB" \
        dotnet "$PARLEY" --home "$W/bob" get "$id" --to "$W/got" > /dev/null 2>&1
    echo "$(cat "$W/get.time"), server CPU $(( $(server_cpu_ms) - before )) ms"
    cmp -s "$W/payload.bin" "$W/got/payload.bin" || { echo "the downloaded file differs" >&2; exit 1; }
fi
echo "server peak RSS $(awk '/VmHWM/ {print $2}' "/proc/$pid/status") KiB"
stop_server
