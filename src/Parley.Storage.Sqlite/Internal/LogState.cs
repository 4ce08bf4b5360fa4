using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;
using Parley.Protocol;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// The writer thread's view of each log's head and each device's cursor, loaded lazily from the file. Only the writer
/// thread touches the private dictionaries; <see cref="PublishedHeads"/> is what readers see, updated after commit.
/// After a rolled-back batch the caches are dropped and reloaded, so they never run ahead of the file.
/// </summary>
internal sealed class LogState(int recentlyMergedEntries, StagedPartitions partitions)
{
    private readonly Dictionary<string, ulong> _heads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<string, ulong>> _cursors = new(StringComparer.Ordinal);

    /// <summary>
    /// For users whose log reached the quota's cheap bound: the exact count of received entries after their most
    /// advanced cursor, kept up to date on every append and dropped when a cursor moves, so that the counting query
    /// runs once per cursor change rather than once per message (a user who only sends would otherwise make every
    /// message to them scan their log).
    /// </summary>
    private readonly Dictionary<string, ulong> _receivedSinceCursor = new(StringComparer.Ordinal);

    /// <summary>Recipients known to exist. Accounts are never deleted, so a positive answer stays true.</summary>
    private readonly HashSet<string> _users = new(StringComparer.Ordinal);

    /// <summary>Submissions in the staged tables, by (sender, id), for dedupe; merged ones are found in <c>submits</c>.</summary>
    private readonly Dictionary<(string Sender, MessageId Id), StagedSubmit> _stagedSubmits = [];

    /// <summary>Per partition, the slot of staged tables appends go to; a merge takes the other (<see cref="SwitchSlot"/>).</summary>
    private readonly int[] _activeSlots = new int[partitions.Count];

    /// <summary>Per partition under merge, the staged submissions the merge moves (<see cref="FreezeStagedSubmits"/>).</summary>
    private readonly List<(string Sender, MessageId Id)>?[] _frozenSubmits = new List<(string Sender, MessageId Id)>?[partitions.Count];

    /// <summary>
    /// Per sender, the highest message id in <c>submits</c> (in byte order), loaded lazily. Parley's clients make
    /// time-ordered ids (protocol.md §3), so a new message's id is above it and cannot be a retry of a merged
    /// submission: the dedupe lookup in <c>submits</c> is skipped. Retries, and ids made otherwise, take the lookup.
    /// </summary>
    private readonly Dictionary<string, byte[]> _highestMergedId = new(StringComparer.Ordinal);

    public ConcurrentDictionary<string, ulong> PublishedHeads { get; } = new(StringComparer.Ordinal);

    /// <summary>How the staged tables are split by owner (and by sender for submissions).</summary>
    public StagedPartitions Partitions { get; } = partitions;

    /// <summary>Committed entries not yet merged into the log table; readers on any thread use it.</summary>
    public StagedLog Staged { get; } = new(partitions);

    /// <summary>Where the entries of the last merges came from, for receipts (writer thread only).</summary>
    public RecentlyMerged Merged { get; } = new(recentlyMergedEntries);

    public bool TryGetStagedSubmit(string sender, MessageId id, out StagedSubmit submit) =>
        _stagedSubmits.TryGetValue((sender, id), out submit!);

    public void StageSubmit(string sender, MessageId id, StagedSubmit submit) => _stagedSubmits[(sender, id)] = submit;

    /// <summary>A merge of <paramref name="partition"/> starts: the submissions staged in it so far are the ones it moves.</summary>
    public void FreezeStagedSubmits(int partition)
    {
        var frozen = new List<(string Sender, MessageId Id)>();
        foreach (var key in _stagedSubmits.Keys)
        {
            if (Partitions.Of(key.Sender) == partition)
            {
                frozen.Add(key);
            }
        }

        _frozenSubmits[partition] = frozen;
    }

    /// <summary>The slot of <paramref name="partition"/>'s staged tables that appends go to now.</summary>
    public int ActiveSlot(int partition) => _activeSlots[partition];

    /// <summary>
    /// A merge takes the slot appends went to so far; from the next batch on they go to the other one, which the
    /// partition's previous merge emptied (one merge per partition at a time, and a merge ends with its tables empty).
    /// </summary>
    public void SwitchSlot(int partition) => _activeSlots[partition] ^= 1;

    /// <summary>
    /// After <paramref name="partition"/>'s merge committed and its rows left the staged tables: the submissions it
    /// moved are now in <c>submits</c>. Those staged since it started stay here, or a retry of one would not be found.
    /// </summary>
    public void ClearFrozenSubmits(int partition)
    {
        Span<byte> bytes = stackalloc byte[MessageId.Size];
        foreach (var (sender, id) in _frozenSubmits[partition] ?? [])
        {
            _stagedSubmits.Remove((sender, id));
            if (_highestMergedId.TryGetValue(sender, out var highest))
            {
                id.CopyTo(bytes);
                if (bytes.SequenceCompareTo(highest) > 0)
                {
                    _highestMergedId[sender] = bytes.ToArray();
                }
            }
        }

        _frozenSubmits[partition] = null;
    }

    /// <summary>Whether <c>submits</c> may hold (<paramref name="sender"/>, <paramref name="id"/>): false when the id is above every merged one.</summary>
    public bool MayBeMerged(SqliteConnection connection, string sender, ReadOnlySpan<byte> id)
    {
        if (!_highestMergedId.TryGetValue(sender, out var highest))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT MAX(id) FROM submits WHERE sender = $sender";
            command.Parameters.AddWithValue("$sender", sender);
            highest = command.ExecuteScalar() as byte[] ?? [];
            _highestMergedId[sender] = highest;
        }

        return id.SequenceCompareTo(highest) <= 0;
    }

    /// <summary>Rebuilds the dedupe map from the staged table, after a rolled-back batch may have left entries in it.</summary>
    public void ReloadStagedSubmits(SqliteConnection connection)
    {
        _stagedSubmits.Clear();
        using var command = connection.CreateCommand();
        command.CommandText = string.Join(" UNION ALL ", Partitions.SubmitTables.Select(table => $"SELECT sender, id, digest, seq, time FROM {table}"));
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            _stagedSubmits[(reader.GetString(0), new MessageId((byte[])reader.GetValue(1)))] =
                new StagedSubmit((byte[])reader.GetValue(2), (ulong)reader.GetInt64(3), reader.GetInt64(4));
        }
    }

    public ulong Head(SqliteConnection connection, string owner)
    {
        if (!_heads.TryGetValue(owner, out var head))
        {
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT COALESCE(MAX(seq), 0) FROM log WHERE owner = $owner";
            command.Parameters.AddWithValue("$owner", owner);
            head = Math.Max((ulong)(long)command.ExecuteScalar()!, Staged.Head(owner));
            _heads[owner] = head;
        }

        return head;
    }

    /// <summary>Whether an account named <paramref name="user"/> exists; asks the file once per user.</summary>
    public bool UserExists(CommandCache commands, string user)
    {
        if (_users.Contains(user))
        {
            return true;
        }

        var exists = commands.Get("SELECT 1 FROM users WHERE name = $name", "$name");
        exists.Parameters[0].Value = user;
        if (exists.ExecuteScalar() is null)
        {
            return false;
        }

        _users.Add(user);
        return true;
    }

    public ulong Next(SqliteConnection connection, string owner)
    {
        var next = Head(connection, owner) + 1;
        _heads[owner] = next;
        return next;
    }

    public Dictionary<string, ulong> Cursors(SqliteConnection connection, string user)
    {
        if (!_cursors.TryGetValue(user, out var devices))
        {
            devices = new Dictionary<string, ulong>(StringComparer.Ordinal);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT device, acked FROM devices WHERE user = $user";
            command.Parameters.AddWithValue("$user", user);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                devices[reader.GetString(0)] = (ulong)reader.GetInt64(1);
            }

            _cursors[user] = devices;
        }

        return devices;
    }

    /// <summary>
    /// Messages sent to <paramref name="user"/> that none of their devices has acknowledged yet (all of them when no
    /// device ever logged in), up to <paramref name="limit"/>. Measured against the most advanced device: a user who
    /// read their messages anywhere is not "full" because an old phone stays off. The user's own sent copies do not
    /// count: a user who only sends must stay reachable.
    /// </summary>
    public ulong Unacknowledged(SqliteConnection connection, string user, ulong limit, IReadOnlyList<StagedEntry> pending)
    {
        var head = Head(connection, user);
        var devices = Cursors(connection, user);
        var max = devices.Count == 0 ? 0 : devices.Values.Max();
        var upperBound = head > max ? head - max : 0;
        if (upperBound < limit)
        {
            return upperBound; // the cheap bound settles it: no query on the common path
        }

        if (_receivedSinceCursor.TryGetValue(user, out var known))
        {
            return known;
        }

        using var count = connection.CreateCommand();
        // Below the first staged entry only: a merge that committed but is not yet taken from memory holds entries
        // that are in both, and they are counted from memory.
        var firstStaged = Staged.First(user);
        count.CommandText = "SELECT COUNT(*) FROM log WHERE owner = $owner AND seq > $after AND seq < $below AND sender <> $owner";
        count.Parameters.AddWithValue("$owner", user);
        count.Parameters.AddWithValue("$after", (long)max);
        count.Parameters.AddWithValue("$below", firstStaged == 0 ? long.MaxValue : (long)firstStaged);
        var received = (ulong)(long)count.ExecuteScalar()! + Staged.ReceivedAfter(user, max);
        foreach (var (entry, _) in pending)
        {
            if (entry.Owner == user && entry.Sequence > max && entry.From != user)
            {
                received++;
            }
        }

        _receivedSinceCursor[user] = received;
        return received;
    }

    /// <summary>Keeps the exact count current when an entry from someone else is appended to <paramref name="owner"/>'s log.</summary>
    public void Received(string owner)
    {
        if (_receivedSinceCursor.TryGetValue(owner, out var count))
        {
            _receivedSinceCursor[owner] = count + 1;
        }
    }

    /// <summary>A device of <paramref name="user"/> moved its cursor: the exact count is recomputed when next needed.</summary>
    public void CursorMoved(string user) => _receivedSinceCursor.Remove(user);

    public void Publish(IEnumerable<LogEntry> appended)
    {
        foreach (var entry in appended)
        {
            PublishedHeads[entry.Owner] = entry.Sequence;
        }
    }

    public void Reset()
    {
        _heads.Clear();
        _cursors.Clear();
        _receivedSinceCursor.Clear();
        _users.Clear(); // a rolled-back batch may have created one
        _highestMergedId.Clear(); // a rolled-back merge did not move what it raised these for
    }
}
