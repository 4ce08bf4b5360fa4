#!/usr/bin/env bash
# Benchmark (not a test) of the full-screen chat client's CPU: a real server, alice's `parley chat` under tmux at
# 100x30, idle for 20 s, then 50 incoming messages a second from bob for 20 s. CPU is utime+stime of the client
# process from /proc/PID/stat over each window, as a percentage of one core. Usage: bash bench/terminal-cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${SECONDS_PER_WINDOW:-20}
rate=${RATE:-50}
dotnet build src/Parley.Cli -c Release -v q -nologo >/dev/null
dll=$PWD/src/Parley.Cli/bin/Release/net10.0/parley.dll
work=$(mktemp -d)
sock=parley-bench-$$
port=$(( 40000 + RANDOM % 20000 ))
chats=()
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  for p in "${chats[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${chats[@]}"; do wait "$p" 2>/dev/null || true; done
  kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
dotnet "$dll" serve --data "$work/data" --listen "127.0.0.1:$port" --rate-limit 0 >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 100); do grep -q "listening" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
for u in alice bob carol dave erin frank gina hank ivan judy kate; do
  echo "correct horse battery" | dotnet "$dll" --home "$work/$u" register --server "127.0.0.1:$port" --user "$u" --password-stdin --accept-new-server-key >/dev/null
done
tmux -L "$sock" new-session -d -x 100 -y 30 "dotnet $dll --home $work/alice chat"
for _ in $(seq 100); do tmux -L "$sock" capture-pane -p | grep -q "alice\]" && break; sleep 0.1; done
pid=$(tmux -L "$sock" display-message -p '#{pane_pid}')
# The pane runs `sh -c`, which usually execs dotnet; if not, take its child.
[ "$(cat "/proc/$pid/comm")" = dotnet ] || pid=$(pgrep -P "$pid" dotnet | head -1)
ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
measure() { # $1: label; CPU% over the window while the caller's load runs
  local a b; a=$(cpu); sleep "$seconds"; b=$(cpu)
  awk -v a="$a" -v b="$b" -v t="$ticks" -v s="$seconds" -v l="$1" 'BEGIN { printf "%-28s %5.1f %% of one core\n", l, (b - a) / t / s * 100 }'
}
sleep 2 # let start-up (history, who) settle
measure "idle (${seconds} s)"
# Senders: line-mode clients reading lines from a pipe. One client waits for each SEND_OK before the next line
# (~10 msg/s here, bound by the server's fsync), so the load is spread over 10 senders at rate/10 each, well
# inside what each can do; the rate actually stored during the window is printed next to the CPU figure.
senders=(bob carol dave erin frank gina hank ivan judy kate)
gap=$(awk -v r="$rate" -v n="${#senders[@]}" 'BEGIN { print n / r }')
for u in "${senders[@]}"; do
  mkfifo "$work/$u.in"
  dotnet "$dll" --home "$work/$u" chat --line <"$work/$u.in" >"$work/$u.out" 2>&1 &
  chats+=($!)
  eval "exec {fd_$u}>\"$work/$u.in\""
  fd=fd_$u; echo "/query alice" >&"${!fd}"
done
sleep 2
tmux -L "$sock" send-keys M-2 # view the first sender's conversation, so the pane redraws on its messages
# One pacing process writes the lines, round robin over the senders' pipes, at exactly $rate a second (absolute
# deadlines, so the rate does not drift); a shell loop forking `date` and `sleep` per line falls far behind.
fifos=()
for u in "${senders[@]}"; do fifos+=("$work/$u.in"); done
python3 - "$rate" "$((seconds + 2))" "$work/sent.total" "${fifos[@]}" <<'PY' &
import sys, time
rate, duration, total_file, paths = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4:]
pipes = [open(p, "w", buffering=1) for p in paths]
start = time.monotonic()
i = 0
while time.monotonic() - start < duration:
    pipes[i % len(pipes)].write(f"load message {i}\n")
    i += 1
    time.sleep(max(0.0, start + i / rate - time.monotonic()))
open(total_file, "w").write(str(i))
PY
loads=($!)
sleep 1
stored() { cat "$work"/*.out | grep -c "load message" || true; }
before=$(stored)
measure "${rate} msg/s incoming (${seconds} s)"
after=$(stored)
awk -v a="$before" -v b="$after" -v s="$seconds" 'BEGIN { printf "%-28s %5.1f msg/s stored and pushed to alice\n", "achieved rate", (b - a) / s }'
wait "${loads[@]}" || true
for u in "${senders[@]}"; do fd=fd_$u; echo "/quit" >&"${!fd}"; done
wait_total=$(cat "$work/sent.total")
echo "client pid $pid ($(cat "/proc/$pid/comm")), rss $(awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status"); senders wrote $wait_total lines in $((seconds + 2)) s"
tmux -L "$sock" capture-pane -p | grep "load message" | tail -1
