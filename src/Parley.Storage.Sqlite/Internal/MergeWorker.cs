using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Runs the staged log's merges (<see cref="StagedMerge.Run"/>) on its own thread and connection, one at a time, so
/// that the writer's commits do not wait for them (docs/architecture.md, "The history file"). The connection has the
/// history file as <c>main</c> and the store's main file attached read-only in use as <see cref="StageSchema"/>; its
/// transactions write only the history file, so they never hold the main file's write lock. Each finished (or failed)
/// job is handed to the callback, which the writer then completes (<see cref="StagedMerge.DeleteMerged"/>).
/// </summary>
internal sealed class MergeWorker : IDisposable
{
    /// <summary>The name the store's main file is attached under on the merge connection.</summary>
    public const string StageSchema = "stage";

    private readonly SqliteConnection _connection;
    private readonly BlockingCollection<MergeJob> _jobs = new();
    private readonly Action<MergeJob, Exception?> _done;
    private readonly Thread _thread;
    private volatile bool _stopping;

    public MergeWorker(SqliteConnection connection, Action<MergeJob, Exception?> done)
    {
        _connection = connection;
        _done = done;
        _thread = new Thread(Run) { IsBackground = true, Name = "parley-store-merge" };
        _thread.Start();
    }

    public void Post(MergeJob job) => _jobs.Add(job);

    private void Run()
    {
        foreach (var job in _jobs.GetConsumingEnumerable())
        {
            if (_stopping)
            {
                return; // what is still staged is merged by the shutdown's RunAll, or at the next start
            }

            Exception? failure = null;
            try
            {
                StagedMerge.Run(_connection, job);
            }
            catch (SqliteException exception)
            {
                // A full disk, say: the rows stay staged (and durable) and the writer tries the partition again later.
                failure = exception;
            }

            _done(job, failure);
        }
    }

    /// <summary>Finishes the merge in hand, drops the queued ones, and closes the connection.</summary>
    public void Dispose()
    {
        _stopping = true;
        _jobs.CompleteAdding();
        _thread.Join();
        _connection.Dispose();
        _jobs.Dispose();
    }
}
