#!/usr/bin/env python3
"""A model of the SQLite store's staged log and its merges (docs/architecture.md, "The staged log"), to count the
pages each part writes to the WAL without running a server (docs/performance.md, "What changed in session 7").

It builds the store's tables in a scratch file with Python's sqlite3 (WAL, synchronous=FULL, no automatic
checkpoint), then repeats: COMMITS commits of 128 messages between random partners of USERS users (each message is
two staged log rows and one staged submit, as the writer appends them), then one merge, timed. It prints the WAL
frames of the appends and of each merge, and with --parts runs the merge's four statements as separate commits to
split its frames among them. --layout rowid models a rowid `log` with a unique (owner, seq) index instead of the
clustered WITHOUT ROWID table.

    python3 bench/merge-model.py                     # 8,192 entries a merge (the default StagedEntries)
    python3 bench/merge-model.py --commits 128       # 32,768 entries a merge
    python3 bench/merge-model.py --parts
"""
import argparse
import os
import random
import sqlite3
import tempfile
import time

LOG_COLUMNS = ('owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL, '
               'time INTEGER NOT NULL, body TEXT NOT NULL, file_id BLOB, file_name TEXT, file_size INTEGER, file_sha BLOB')
SUBMIT_COLUMNS = 'sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL'
MERGE = ['INSERT INTO log SELECT * FROM staged_log ORDER BY owner, seq',
         'INSERT INTO submits SELECT * FROM staged_submits ORDER BY sender, id',
         'DELETE FROM staged_log',
         'DELETE FROM staged_submits']


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--users', type=int, default=200)
    parser.add_argument('--text', type=int, default=40, help='message text length in bytes')
    parser.add_argument('--commits', type=int, default=32, help='commits of 128 messages between merges')
    parser.add_argument('--merges', type=int, default=8)
    parser.add_argument('--layout', choices=['clustered', 'rowid'], default='clustered')
    parser.add_argument('--parts', action='store_true', help='commit each statement of the merge alone')
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix='parley-merge-model.')
    path = os.path.join(folder, 'model.db')
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ('journal_mode=WAL', 'synchronous=FULL', 'wal_autocheckpoint=0', 'cache_size=-65536', 'temp_store=MEMORY'):
        db.execute('PRAGMA ' + pragma)
    if args.layout == 'clustered':
        db.execute(f'CREATE TABLE log({LOG_COLUMNS}, PRIMARY KEY(owner, seq)) WITHOUT ROWID')
    else:
        db.execute(f'CREATE TABLE log({LOG_COLUMNS})')
        db.execute('CREATE UNIQUE INDEX log_by_owner ON log(owner, seq)')
    db.execute(f'CREATE TABLE submits({SUBMIT_COLUMNS}, PRIMARY KEY(sender, id)) WITHOUT ROWID')
    db.execute(f'CREATE TABLE staged_log({LOG_COLUMNS})')
    db.execute(f'CREATE TABLE staged_submits({SUBMIT_COLUMNS})')

    def frames():
        wal = path + '-wal'
        return os.path.getsize(wal) // (4096 + 24) if os.path.exists(wal) else 0

    users = [f'u{i}' for i in range(args.users)]
    heads = dict.fromkeys(users, 0)
    now = 1_700_000_000_000
    text = 'x' * args.text
    for merge in range(args.merges):
        before = frames()
        for _ in range(args.commits):
            db.execute('BEGIN')
            for _ in range(128):
                pair = random.randrange(len(users) // 2)
                sender, recipient = users[2 * pair], users[2 * pair + 1]
                if random.random() < 0.5:
                    sender, recipient = recipient, sender
                now += 1
                message_id = (now << 64 | random.getrandbits(64)).to_bytes(16, 'big')  # time-ordered, as clients make them
                for owner in (sender, recipient):
                    heads[owner] += 1
                    db.execute('INSERT INTO staged_log(owner, seq, id, sender, recipient, time, body) VALUES (?,?,?,?,?,?,?)',
                               (owner, heads[owner], message_id, sender, recipient, now, text))
                db.execute('INSERT INTO staged_submits VALUES (?,?,?,?,?)', (sender, message_id, os.urandom(32), heads[sender], now))
            db.execute('COMMIT')
        appended = frames() - before
        started, before = time.perf_counter(), frames()
        parts = []
        if args.parts:
            for statement in MERGE:
                at = frames()
                db.execute('BEGIN'); db.execute(statement); db.execute('COMMIT')
                parts.append(frames() - at)
        else:
            db.execute('BEGIN')
            for statement in MERGE:
                db.execute(statement)
            db.execute('COMMIT')
        elapsed = (time.perf_counter() - started) * 1000
        entries = args.commits * 128 * 2
        print(f'merge {merge + 1}: {entries} entries; appends {appended} frames ({appended / args.commits:.1f} a commit); '
              f'merge {frames() - before} frames ({(frames() - before) / entries:.3f} an entry) in {elapsed:.0f} ms'
              + (f'; log {parts[0]}, submits {parts[1]}, emptying the staged tables {parts[2]} + {parts[3]}' if parts else ''))
        db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)


if __name__ == '__main__':
    main()
