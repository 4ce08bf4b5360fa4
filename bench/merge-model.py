#!/usr/bin/env python3
"""A model of the SQLite store's staged log and its merges (docs/architecture.md, "The staged log"), to count the
pages each part writes to the WAL without running a server (docs/performance.md, "What changed in session 7").

It builds the store's tables in a scratch file with Python's sqlite3 (WAL, synchronous=FULL, no automatic
checkpoint) and commits batches of 128 messages between random partners among USERS users; each message is two
staged log rows and one staged submit, as the writer appends them. When THRESHOLD entries are staged, the batch's
transaction also merges them into `log` and `submits` and empties the staged tables, as the writer does. It prints
the WAL frames (pages) written per log entry in all, and the frames and time of the merges in the second half.

--partitions N models a staged log split by owner into N pairs of staged tables, each merged alone when it holds
THRESHOLD entries (at most one a batch, the fullest): a merge then meets N times fewer users, so each user's tail
page takes more rows per rewrite.
--parts (one partition only) commits each statement of a merge alone and prints its frames.

    python3 bench/merge-model.py                          # today's store: 8,192 entries a merge
    python3 bench/merge-model.py --threshold 32768
    python3 bench/merge-model.py --partitions 4
    python3 bench/merge-model.py --parts --batches 256
"""
import argparse
import os
import random
import sqlite3
import tempfile
import time
import zlib

LOG_COLUMNS = ('owner TEXT NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL, sender TEXT NOT NULL, recipient TEXT NOT NULL, '
               'time INTEGER NOT NULL, body TEXT NOT NULL, file_id BLOB, file_name TEXT, file_size INTEGER, file_sha BLOB')
SUBMIT_COLUMNS = 'sender TEXT NOT NULL, id BLOB NOT NULL, digest BLOB NOT NULL, seq INTEGER NOT NULL, time INTEGER NOT NULL'


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--users', type=int, default=200)
    parser.add_argument('--text', type=int, default=40, help='message text length in bytes')
    parser.add_argument('--threshold', type=int, default=8192, help='staged entries (per partition) that start a merge')
    parser.add_argument('--partitions', type=int, default=1)
    parser.add_argument('--batches', type=int, default=1024, help='commits of 128 messages')
    parser.add_argument('--layout', choices=['clustered', 'rowid'], default='clustered')
    parser.add_argument('--parts', action='store_true', help='commit each statement of a merge alone (one partition)')
    args = parser.parse_args()
    if args.parts and args.partitions != 1:
        parser.error('--parts needs --partitions 1')

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
    for k in range(args.partitions):
        db.execute(f'CREATE TABLE staged_log_{k}({LOG_COLUMNS})')
        db.execute(f'CREATE TABLE staged_submits_{k}({SUBMIT_COLUMNS})')

    def frames():
        wal = path + '-wal'
        return os.path.getsize(wal) // (4096 + 24) if os.path.exists(wal) else 0

    def partition(user):
        return zlib.crc32(user.encode()) % args.partitions

    def merge_statements(k):
        return [f'INSERT INTO log SELECT * FROM staged_log_{k} ORDER BY owner, seq',
                f'INSERT INTO submits SELECT * FROM staged_submits_{k} ORDER BY sender, id',
                f'DELETE FROM staged_log_{k}',
                f'DELETE FROM staged_submits_{k}']

    users = [f'u{i}' for i in range(args.users)]
    heads = dict.fromkeys(users, 0)
    staged = [0] * args.partitions
    now = 1_700_000_000_000
    text = 'x' * args.text
    entries = 0
    late = []  # (frames, ms, parts) of the merges in the second half
    for batch in range(args.batches):
        before = frames()
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
                staged[partition(owner)] += 1
                entries += 1
                db.execute(f'INSERT INTO staged_log_{partition(owner)}(owner, seq, id, sender, recipient, time, body) VALUES (?,?,?,?,?,?,?)',
                           (owner, heads[owner], message_id, sender, recipient, now, text))
            db.execute(f'INSERT INTO staged_submits_{partition(sender)} VALUES (?,?,?,?,?)',
                       (sender, message_id, os.urandom(32), heads[sender], now))
        # At most one partition a batch, the fullest: merges of several partitions in one batch would add up their pauses.
        full = sorted((k for k in range(args.partitions) if staged[k] >= args.threshold), key=lambda k: -staged[k])[:1]
        started = time.perf_counter()
        parts = []
        if args.parts and full:
            db.execute('COMMIT')
            for statement in merge_statements(0):
                at = frames()
                db.execute('BEGIN'); db.execute(statement); db.execute('COMMIT')
                parts.append(frames() - at)
        else:
            for k in full:
                for statement in merge_statements(k):
                    db.execute(statement)
            db.execute('COMMIT')
        for k in full:
            staged[k] = 0
        if full and batch >= args.batches // 2:
            late.append((frames() - before, (time.perf_counter() - started) * 1000, parts))

    print(f'{args.partitions} partition(s), {args.threshold} entries a merge, {args.layout} log: {entries} entries, '
          f'{frames() / entries:.3f} WAL frames an entry in all')
    if late:
        print(f'merges in the second half: {len(late)}, {sum(f for f, _, _ in late) / len(late):.0f} frames and '
              f'{sum(ms for _, ms, _ in late) / len(late):.0f} ms each (with the batch that started them)')
        if args.parts:
            names = ['log', 'submits', 'emptying staged_log', 'emptying staged_submits']
            print('  of which ' + ', '.join(f'{name} {sum(p[i] for _, _, p in late) / len(late):.0f}' for i, name in enumerate(names)))
    db.close()
    for name in os.listdir(folder):
        os.remove(os.path.join(folder, name))
    os.rmdir(folder)


if __name__ == '__main__':
    main()
