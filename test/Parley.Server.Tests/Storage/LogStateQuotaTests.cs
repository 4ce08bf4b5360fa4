using Microsoft.Data.Sqlite;
using Parley.Protocol;
using Parley.Storage;
using Parley.Storage.Sqlite.Internal;

namespace Parley.Server.Tests.Storage;

/// <summary>
/// The quota's exact count (<see cref="LogState.Unacknowledged"/>) while a merge has committed into the history file
/// but the writer has not yet dropped its entries from memory: those entries are in the log table and in the staged
/// log at once, and must be counted once.
/// </summary>
public sealed class LogStateQuotaTests
{
    [Fact]
    public void Unacknowledged_EntriesInTheTableAndStillStaged_EachCountedOnce()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using (var schema = connection.CreateCommand())
        {
            schema.CommandText = """
                CREATE TABLE log(owner TEXT NOT NULL, seq INTEGER NOT NULL, sender TEXT NOT NULL, PRIMARY KEY(owner, seq)) WITHOUT ROWID;
                CREATE TABLE devices(user TEXT NOT NULL, device TEXT NOT NULL, acked INTEGER NOT NULL, PRIMARY KEY(user, device)) WITHOUT ROWID;
                INSERT INTO devices VALUES ('bob', 'phone', 2);
                """;
            schema.ExecuteNonQuery();
        }

        // Entries 1-10 from alice were merged (the table has them); 6-10 are still in memory, set aside for that merge,
        // and 11-12 were staged after it started. bob's phone acknowledged 2.
        for (var seq = 1; seq <= 10; seq++)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO log VALUES ('bob', $seq, 'alice')";
            insert.Parameters.AddWithValue("$seq", seq);
            insert.ExecuteNonQuery();
        }

        var state = new LogState(recentlyMergedEntries: 100, new StagedPartitions(1));
        state.Staged.Add(Enumerable.Range(6, 7).Select(seq => new StagedEntry(
            new LogEntry("bob", (ulong)seq, MessageId.NewRandom(), "alice", "bob", 0, $"m{seq}"), (ulong)seq)));

        // A limit below the cheap bound (12 - 2) makes it count exactly: 3..12 from alice, ten.
        Assert.Equal(10UL, state.Unacknowledged(connection, "bob", limit: 5, pending: []));
    }
}
