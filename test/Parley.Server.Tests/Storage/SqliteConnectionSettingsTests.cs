using Microsoft.Data.Sqlite;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Storage;

/// <summary>
/// security.md 21a: every connection the store uses runs in WAL mode with synchronous=FULL, for both of the store's
/// files (the main file and the history file, which SQLite sets apart per attached file).
/// </summary>
public sealed class SqliteConnectionSettingsTests
{
    [Trait("Security", "21")]
    [Fact]
    public async Task OpenConnection_SeveralAtOnceAndAfterPoolReuse_AllWalWithSynchronousFull()
    {
        await using var temp = new TempStore();
        for (var round = 0; round < 3; round++)
        {
            var connections = Enumerable.Range(0, 4).Select(_ => temp.Store.OpenConnection()).ToList();
            foreach (var connection in connections)
            {
                AssertDurable(connection);
            }

            // Back to the pool: the next round gets the same physical connections again.
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Trait("Security", "21")]
    [Fact]
    public async Task OpenConnection_PooledConnectionWasWeakened_SynchronousFullAgain()
    {
        await using var temp = new TempStore();
        await using (var weakened = temp.Store.OpenConnection())
        {
            await using var command = weakened.CreateCommand();
            command.CommandText = "PRAGMA synchronous=OFF; PRAGMA history.synchronous=OFF";
            await command.ExecuteNonQueryAsync();
            Assert.Equal(0L, Pragma(weakened, "synchronous"));
            Assert.Equal(0L, Pragma(weakened, "history.synchronous"));
        }

        // synchronous is per connection and survives in the pool (security.md V7): OpenConnection must set it again.
        await using var reused = temp.Store.OpenConnection();
        AssertDurable(reused);
    }

    [Trait("Security", "21")]
    [Fact]
    public async Task OpenConnection_AfterReopeningTheFile_WalWithSynchronousFull()
    {
        await using var temp = new TempStore();
        await temp.CreateUsersAsync("alice");
        await temp.ReopenAsync();

        await using var connection = temp.Store.OpenConnection();
        AssertDurable(connection);
    }

    [Trait("Security", "21")]
    [Fact]
    public async Task OpenMergeConnection_HistoryFileItWrites_WalWithSynchronousFull()
    {
        await using var temp = new TempStore();
        using var connection = temp.Store.OpenMergeConnection();

        // The merge connection writes the history file as its main one and only reads the store's main file.
        Assert.Equal("wal", Pragma(connection, "journal_mode"));
        Assert.Equal(2L, Pragma(connection, "synchronous"));
        Assert.Equal("wal", Pragma(connection, "stage.journal_mode"));
        Assert.Equal(2L, Pragma(connection, "stage.synchronous"));
    }

    private static void AssertDurable(SqliteConnection connection)
    {
        Assert.Equal("wal", Pragma(connection, "journal_mode"));
        Assert.Equal(2L, Pragma(connection, "synchronous"));
        Assert.Equal("wal", Pragma(connection, "history.journal_mode"));
        Assert.Equal(2L, Pragma(connection, "history.synchronous"));
    }

    private static object? Pragma(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name}";
        return command.ExecuteScalar();
    }
}
