using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Copies the WAL back into the database file on its own thread and connection, so that the writer's commits do not
/// wait for it. With SQLite's automatic checkpoint the commit that crossed 1,000 WAL pages ran the whole checkpoint
/// (read every page back, write it into the file, fsync), and after each merge of the staged log that was most of the
/// writer's time (docs/performance.md). A PASSIVE checkpoint runs beside the writer in WAL mode and never blocks it.
/// Durability is unchanged: a commit is durable once its WAL frames are synced; the checkpoint only moves them.
/// </summary>
internal sealed class Checkpointer : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly Thread _thread;
    private volatile bool _stopping;

    public Checkpointer(SqliteConnection connection)
    {
        _connection = connection;
        _thread = new Thread(Run) { IsBackground = true, Name = "parley-store-checkpoint" };
        _thread.Start();
    }

    /// <summary>Asks for a checkpoint soon; signals that arrive while one runs are folded into the next.</summary>
    public void Request()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    private void Run()
    {
        using var checkpoint = _connection.CreateCommand();
        checkpoint.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
        while (true)
        {
            _signal.Wait();
            if (_stopping)
            {
                return;
            }

            try
            {
                checkpoint.ExecuteNonQuery();
            }
            catch (SqliteException)
            {
                // A failed checkpoint (a full disk, say) leaves the frames in the WAL, where they stay durable; the
                // next request tries again, and the writer's own automatic checkpoint remains as a backstop.
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _signal.Release();
        _thread.Join();
        _connection.Dispose();
        _signal.Dispose();
    }
}
