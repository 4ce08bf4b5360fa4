#!/usr/bin/env bash
# Coverage-guided fuzzing of the decoders (security.md 7): SharpFuzz + AFL++ from Debian.
#
#   bash scripts/fuzz.sh SECONDS [TARGET]      TARGET: frames (the default; see test/Parley.Fuzz/FrameTarget.cs)
#
# Installs afl++ (apt, as root) and the SharpFuzz instrumenter (dotnet tool, into .fuzz-tools/) when missing,
# publishes test/Parley.Fuzz, instruments Parley.Protocol.dll, runs `afl-fuzz -V SECONDS` seeded with
# test/Parley.Fuzz/corpus/ and findings/, then copies every crash and hang into test/Parley.Fuzz/findings/ (where
# test/Parley.Protocol.Tests/FuzzCorpusReplayTests.cs replays them on every CI run) and prints the executions count
# and the number of crashes and hangs. Exit status: 0 when the campaign found nothing, 1 when it found a crash or a
# hang, 2 on a usage or setup error. Campaign output (queue, stats, instrumented build): .fuzz-out/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

usage() { echo "usage: scripts/fuzz.sh SECONDS [TARGET]   (TARGET: frames)" >&2; exit 2; }
[ $# -ge 1 ] && [ $# -le 2 ] || usage
seconds=$1
target=${2:-frames}
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || usage
case "$target" in
  frames) ;;
  chat-input) echo "fuzz.sh: chat-input is not a target: Parley.Cli's chat line parser is internal" >&2; exit 2 ;;
  *) usage ;;
esac

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# --- tools ---------------------------------------------------------------------------------------------------------
if ! command -v afl-fuzz >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "fuzz.sh: installing afl++ (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  else
    echo "fuzz.sh: afl-fuzz is missing: apt-get install afl++ (as root)" >&2
    exit 2
  fi
fi

tools=$root/.fuzz-tools
if [ ! -x "$tools/sharpfuzz" ]; then
  echo "fuzz.sh: installing SharpFuzz.CommandLine 2.3.0 into .fuzz-tools/"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
fi

# --- build and instrument ------------------------------------------------------------------------------------------
out=$root/.fuzz-out/$target
publish=$out/publish
afl_out=$out/afl
seeds=$out/seeds
findings=$root/test/Parley.Fuzz/findings
rm -rf "$publish" "$afl_out" "$seeds"   # a fresh campaign; an already instrumented dll cannot be instrumented again
mkdir -p "$out" "$seeds" "$findings"

echo "fuzz.sh: publishing test/Parley.Fuzz"
dotnet publish test/Parley.Fuzz/Parley.Fuzz.csproj -c Release -o "$publish" -v quiet -nologo >"$out/publish.log" 2>&1 \
  || { cat "$out/publish.log" >&2; exit 2; }
echo "fuzz.sh: instrumenting Parley.Protocol.dll"
DOTNET_ROLL_FORWARD=Major "$tools/sharpfuzz" "$publish/Parley.Protocol.dll" >"$out/instrument.log" 2>&1 \
  || { cat "$out/instrument.log" >&2; exit 2; }

# Seeds: the committed corpus plus every earlier finding (so a regression is retried first).
for f in test/Parley.Fuzz/corpus/* "$findings"/*; do
  [ -f "$f" ] && [ "$(basename "$f")" != README.md ] && cp "$f" "$seeds/"
done
[ -n "$(ls -A "$seeds")" ] || { echo "fuzz.sh: no seed files in test/Parley.Fuzz/corpus" >&2; exit 2; }

# --- campaign ------------------------------------------------------------------------------------------------------
# The harness is not a native instrumented binary (skip the check); this VM has no CPU frequency governor and a
# core_pattern piping to a handler; dotnet starts slowly and needs more than the default memory limit.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
       AFL_TRY_AFFINITY=1 AFL_FORKSRV_INIT_TMOUT=60000 AFL_SKIP_CRASHES=1
dotnet_bin=$(command -v dotnet)
echo "fuzz.sh: afl-fuzz -V $seconds on target '$target' (log: .fuzz-out/$target/afl-fuzz.log)"
start=$(date +%s)
set +e
afl-fuzz -i "$seeds" -o "$afl_out" -V "$seconds" -t 10000 -m none -- \
  "$dotnet_bin" "$publish/Parley.Fuzz.dll" "$target" >"$out/afl-fuzz.log" 2>&1
status=$?
set -e
elapsed=$(( $(date +%s) - start ))

stats=$afl_out/default/fuzzer_stats
if [ $status -ne 0 ] || [ ! -f "$stats" ]; then
  tail -n 40 "$out/afl-fuzz.log" >&2
  echo "fuzz.sh: afl-fuzz failed (exit $status)" >&2
  exit 2
fi

# --- findings ------------------------------------------------------------------------------------------------------
copy_findings() { # KIND DIR: copy AFL's files under a content-hash name (':' in AFL names is not portable)
  local kind=$1 dir=$2 n=0 f name
  [ -d "$dir" ] || { echo 0; return; }
  for f in "$dir"/id:*; do
    [ -f "$f" ] || continue
    name="$target-$kind-$(sha256sum "$f" | cut -c1-16).bin"
    [ -f "$findings/$name" ] || cp "$f" "$findings/$name"
    n=$((n + 1))
  done
  echo "$n"
}
crashes=$(copy_findings crash "$afl_out/default/crashes")
hangs=$(copy_findings hang "$afl_out/default/hangs")

stat_of() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
echo "fuzz.sh: target $target, $elapsed s (afl run_time $(stat_of run_time) s)"
echo "execs_done: $(stat_of execs_done)"
echo "execs_per_sec: $(stat_of execs_per_sec)"
echo "corpus_count: $(stat_of corpus_count), edges_found: $(stat_of edges_found), bitmap_cvg: $(stat_of bitmap_cvg)"
echo "crashes: $crashes"
echo "hangs: $hangs"
if [ "$crashes" -ne 0 ] || [ "$hangs" -ne 0 ]; then
  echo "fuzz.sh: findings copied to test/Parley.Fuzz/findings/; replay: dotnet test --filter FuzzCorpusReplayTests" >&2
  exit 1
fi
