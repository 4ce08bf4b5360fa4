#!/usr/bin/env bash
# Upgrade check of the SQLite store across builds (docs/performance.md, "What changed in session 13"): an older build
# (OLD_DLL) writes a store under W1 traffic and is killed with SIGKILL in the middle of a second W1, so the crash leaves
# rows staged; then a newer build (NEW_DLL) opens the same files (startup migrates the schema and merges what was
# staged) and is stopped cleanly. Prints the history file's rows, staged rows and schema before, the time the new
# server took to come up, and after: the rows, the tables and indexes, and two checks that must print 0: (owner, seq)
# pairs stored twice, and owners whose sequences have a gap.
#   OLD_DLL=/tmp/old/parley.dll NEW_DLL=/tmp/new/parley.dll bash bench/upgrade-check.sh
# Options (environment): OLD_DLL, NEW_DLL (required), MESSAGES (each W1, default 100,000).
set -euo pipefail
: "${OLD_DLL:?set OLD_DLL to the older build's parley.dll}" "${NEW_DLL:?set NEW_DLL to the newer build's parley.dll}"
PARLEY_DLL=$OLD_DLL
# shellcheck source=bench/ab-common.sh
source "$(dirname "$0")/ab-common.sh"
ACCOUNTS=200 start_with_accounts
dotnet "$PB" w1 "${common[@]}" --pairs 100 --messages "${MESSAGES:-100000}" --seconds 60 --timeout 120 --prefix w >/dev/null
# The second W1 is cut short by the crash; its client fails, which is expected (and its rotated resume tokens are lost).
dotnet "$PB" w1 "${common[@]}" --pairs 100 --messages "${MESSAGES:-100000}" --seconds 60 --timeout 120 --prefix w >/dev/null 2>&1 &
client=$!
sleep 1.5
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; pid=
wait "$client" 2>/dev/null || true

inspect() {
    python3 - "$W/data" "$1" <<'PY'
import os, sqlite3, sys
folder, when = sys.argv[1], sys.argv[2]
db = sqlite3.connect(os.path.join(folder, 'parley.db'))
db.execute("ATTACH ? AS h", (os.path.join(folder, 'parley.history.db'),))
staged = sum(db.execute(f'SELECT COUNT(*) FROM main."{t}"').fetchone()[0]
             for (t,) in db.execute("SELECT name FROM main.sqlite_schema WHERE type = 'table' AND name LIKE 'staged_log%'").fetchall())
tables = {name for (name,) in db.execute("SELECT name FROM h.sqlite_schema WHERE type = 'table'")}
submits = f"{db.execute('SELECT COUNT(*) FROM h.submits').fetchone()[0]:,}" if 'submits' in tables else '-'
schema = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0]
rows = db.execute('SELECT COUNT(*) FROM h.log').fetchone()[0]
print(f'{when}: schema {schema}, history log {rows:,} rows, submits {submits}, staged log {staged:,} rows')
if when == 'after':
    print('  history file:', ', '.join(f'{t} {n}' for t, n in db.execute("SELECT type, name FROM h.sqlite_schema ORDER BY type, name")))
    print('  (owner, seq) stored twice:', db.execute('SELECT COUNT(*) FROM (SELECT 1 FROM h.log GROUP BY owner, seq HAVING COUNT(*) > 1)').fetchone()[0])
    print('  owners with a gap in their sequences:', db.execute('SELECT COUNT(*) FROM (SELECT owner FROM h.log GROUP BY owner HAVING MAX(seq) <> COUNT(*))').fetchone()[0])
PY
}

inspect before
PARLEY=$NEW_DLL
start=$(date +%s%N)
start_server "$W/data"
echo "the new build came up in $(( ($(date +%s%N) - start) / 1000000 )) ms"
stop_server
inspect after
