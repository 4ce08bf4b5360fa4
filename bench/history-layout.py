#!/usr/bin/env python3
"""The history file's `log` table in its two layouts (docs/architecture.md, "The history file's tables"), measured
without a server (docs/performance.md, "What changed in session 13").

  clustered: schema 4, `PRIMARY KEY(owner, seq) WITHOUT ROWID`: rows live in the key's B-tree.
  rowid:     schema 5, a rowid table with `UNIQUE INDEX log_by_owner(owner, seq)`.

For each layout it builds a scratch store with Python's sqlite3 as the server lays it out (a main file with a staged
table, the history file attached; WAL, synchronous=FULL, no automatic checkpoint), fills the history with PREFILL
merges, then times MERGES more: each stages MESSAGES messages between random partners among USERS users (two log
rows each, 100 characters of text) and merges them with one `INSERT ... SELECT`, as the merge thread does, then
empties the staged table and checkpoints both files. It prints the CPU time per merged row (the insert, the staged
delete) and per row of the checkpoints, then the time of a catch-up read (the first CATCHUP entries of one user's
log, in sequence order) and of a HISTORY page with one peer (the newest 50 entries of one user's log exchanged with
one other user, as `ReadHistoryAsync` asks for them) on a new connection: a cold SQLite cache over a warm OS page
cache, three times each.

    python3 bench/history-layout.py
    python3 bench/history-layout.py --users 2000 --catchup 500
"""
import argparse
import os
import random
import shutil
import sqlite3
import tempfile
import time

COLUMNS = ('owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL, '
           'time INTEGER NOT NULL, body TEXT NOT NULL, sender_seq INTEGER')


def measure(layout, args):
    folder = tempfile.mkdtemp(prefix=f'parley-layout-{layout}-')
    try:
        db = sqlite3.connect(os.path.join(folder, 'main.db'), isolation_level=None)
        db.execute(f"ATTACH '{os.path.join(folder, 'history.db')}' AS history")
        for schema in ('main', 'history'):
            db.execute(f'PRAGMA {schema}.journal_mode=WAL')
            db.execute(f'PRAGMA {schema}.synchronous=FULL')
            db.execute(f'PRAGMA {schema}.wal_autocheckpoint=0')
            db.execute(f'PRAGMA {schema}.cache_size=-65536')
        if layout == 'clustered':
            db.execute(f'CREATE TABLE history.log({COLUMNS}, PRIMARY KEY(owner, seq)) WITHOUT ROWID')
        else:
            db.execute(f'CREATE TABLE history.log({COLUMNS})')
            db.execute('CREATE UNIQUE INDEX history.log_by_owner ON log(owner, seq)')
        db.execute(f'CREATE TABLE staged_log({COLUMNS})')
        users = [f'user{i:05d}' for i in range(args.users)]
        heads = [0] * args.users
        body = 'x' * 100
        rng = random.Random(1)

        def stage():
            rows = []
            for _ in range(args.messages):
                sender, recipient = rng.sample(range(args.users), 2)
                now = time.time_ns()
                heads[sender] += 1
                sender_seq = heads[sender]
                rows.append((users[sender], sender_seq, rng.randbytes(16), users[sender], users[recipient], now, body, 0))
                heads[recipient] += 1
                rows.append((users[recipient], heads[recipient], rng.randbytes(16), users[sender], users[recipient], now, body, sender_seq))
            db.execute('BEGIN')
            db.executemany('INSERT INTO staged_log VALUES (?, ?, ?, ?, ?, ?, ?, ?)', rows)
            db.execute('COMMIT')

        def merge():
            start = time.process_time()
            db.execute('BEGIN')
            db.execute('INSERT OR IGNORE INTO history.log SELECT * FROM main.staged_log')
            db.execute('COMMIT')
            db.execute('DELETE FROM main.staged_log')
            merged = time.process_time()
            db.execute('PRAGMA history.wal_checkpoint(PASSIVE)')
            db.execute('PRAGMA main.wal_checkpoint(PASSIVE)')
            return merged - start, time.process_time() - merged

        for _ in range(args.prefill):
            stage()
            merge()
        merge_cpu = checkpoint_cpu = 0.0
        for _ in range(args.merges):
            stage()
            m, c = merge()
            merge_cpu += m
            checkpoint_cpu += c
        rows = args.merges * args.messages * 2
        print(f'{layout:9}  merge {merge_cpu / rows * 1e6:5.2f} us of CPU a row, checkpoints {checkpoint_cpu / rows * 1e6:5.2f} us a row, '
              f'history file {os.path.getsize(os.path.join(folder, "history.db")) / 2**20:.0f} MiB')
        db.close()
        reads = []
        for _ in range(3):
            reader = sqlite3.connect(os.path.join(folder, 'history.db'))
            start = time.perf_counter()
            entries = reader.execute('SELECT seq, id, sender, recipient, time, body FROM log WHERE owner = ? AND seq > 0 ORDER BY seq LIMIT ?',
                                     (users[7], args.catchup)).fetchall()
            reads.append((time.perf_counter() - start) * 1000)
            reader.close()
        print(f'{"":9}  catch-up of {len(entries)} entries, cold SQLite cache: ' + ', '.join(f'{r:.1f}' for r in reads) + ' ms')
        reads = []
        for _ in range(3):
            reader = sqlite3.connect(os.path.join(folder, 'history.db'))
            start = time.perf_counter()
            page = reader.execute('SELECT seq, id, sender, recipient, time, body FROM log WHERE owner = ? AND seq < ? AND (sender = ? OR recipient = ?) '
                                  'ORDER BY seq DESC LIMIT 50', (users[7], heads[7] + 1, users[8], users[8])).fetchall()
            reads.append((time.perf_counter() - start) * 1000)
            reader.close()
        print(f'{"":9}  history with one peer ({len(page)} entries, the newest, among {args.users - 1} peers), cold SQLite cache: '
              + ', '.join(f'{r:.1f}' for r in reads) + ' ms')
    finally:
        shutil.rmtree(folder)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--users', type=int, default=200)
    parser.add_argument('--messages', type=int, default=4096, help='messages a merge (two log rows each)')
    parser.add_argument('--prefill', type=int, default=75, help='merges before the measured ones')
    parser.add_argument('--merges', type=int, default=40, help='merges measured')
    parser.add_argument('--catchup', type=int, default=5000, help='entries the catch-up read asks for')
    args = parser.parse_args()
    for layout in ('clustered', 'rowid'):
        measure(layout, args)


if __name__ == '__main__':
    main()
