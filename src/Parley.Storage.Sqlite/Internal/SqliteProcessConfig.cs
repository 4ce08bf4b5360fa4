using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Process-wide SQLite settings, applied once before the first connection opens (sqlite3_config is refused once
/// SQLite has initialised; then the defaults simply stay, which is correct, only slower).
/// <list type="bullet">
/// <item>Multi-thread mode instead of serialized: no mutex around every call on a connection. Safe because no
/// connection is ever used by two threads at once: the writer's and the checkpointer's each belong to one thread, and a
/// pooled reader belongs to one operation at a time (Microsoft.Data.Sqlite connections are not thread-safe anyway).</item>
/// <item>No memory statistics: SQLite otherwise takes a global mutex on every allocation and free to count them, and
/// nothing reads the counts.</item>
/// </list>
/// </summary>
internal static class SqliteProcessConfig
{
    private const int ConfigMemStatus = 9; // SQLITE_CONFIG_MEMSTATUS

    private static readonly Lazy<bool> Applied = new(Apply);

    /// <summary>Whether the settings took effect (false when SQLite was already in use in this process).</summary>
    public static bool EnsureApplied() => Applied.Value;

    private static bool Apply()
    {
        // The provider Microsoft.Data.Sqlite uses is registered by its static constructor; opening nothing yet.
        _ = new SqliteConnection();
        return raw.sqlite3_config(raw.SQLITE_CONFIG_MULTITHREAD) == raw.SQLITE_OK
            & raw.sqlite3_config(ConfigMemStatus, 0) == raw.SQLITE_OK;
    }
}
