#!/usr/bin/env bash
# Runs every test of Parley: codec, security, store and server (in-memory pipes), and end-to-end tests that start
# the real `parley` server process on 127.0.0.1 and drive it with the real client.
# Installs what the tests need when it is missing, so it works on a fresh machine of this kind.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: tmux drives the full-screen chat client on a real pty (test/.../Terminal);
# python3 runs the design note's own client against the seed-compat listener (test/.../SeedCompat);
# nats-server is started by the cluster tests on loopback (test/Parley.IntegrationTests/Cluster), one per test class;
# iproute2's /usr/sbin/ip builds the network namespaces of the P2P cross-host test (test/.../P2P).
need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || need_apt+=(nats-server)
[ -x /usr/sbin/ip ] || need_apt+=(iproute2)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    # The package may start a system nats-server on the default port; the tests start their own, so stop it.
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nats-server 2>/dev/null; then
      systemctl disable --now nats-server >/dev/null 2>&1 || true
    fi
  else
    echo "test.sh: please install: ${need_apt[*]}" >&2
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet on PATH); see global.json" >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
set +e
dotnet test Parley.slnx -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain summary line over all test assemblies.
awk '/(Passed|Failed)! +- Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' "$log"
echo "test time: $(( $(date +%s) - start )) s"
exit "$status"
