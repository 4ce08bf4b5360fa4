using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// A statement prepared once on the writer's connection and driven through SQLite's C API, for the few statements
/// every message runs. Through <see cref="SqliteCommand"/> each execution builds a data reader, boxes every
/// parameter and re-inspects its type; that overhead was most of an append's managed time (docs/performance.md).
/// It runs inside whatever transaction the connection has open, like any other statement on it. Errors surface as
/// <see cref="SqliteException"/>, so a failing batch is handled exactly as before. Prepared and finalized through
/// SQLitePCL; bound, stepped and read through <see cref="NativeSqlite"/> on the raw pointer, which stays valid until
/// <see cref="Dispose"/> (only one thread, the writer, ever uses a statement).
/// </summary>
internal sealed unsafe class RawStatement : IDisposable
{
    /// <summary>Text up to this many UTF-8 bytes is encoded on the stack; longer text into a pooled buffer.</summary>
    private const int StackTextBytes = 1024;

    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;
    private readonly IntPtr _handle;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _database = connection.Handle!;
        Check(raw.sqlite3_prepare_v2(_database, sql, out _statement));
        _handle = _statement.DangerousGetHandle();
    }

    /// <remarks>Without zeroing the stack buffer first: only the bytes the encoder wrote are bound.</remarks>
    [SkipLocalsInit]
    public void Bind(int index, string value)
    {
        var most = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        var buffer = most <= StackTextBytes ? stackalloc byte[StackTextBytes] : (rented = ArrayPool<byte>.Shared.Rent(most));
        try
        {
            var length = Encoding.UTF8.GetBytes(value, buffer);
            fixed (byte* text = buffer)
            {
                Check(NativeSqlite.BindText(_handle, index, text, length, NativeSqlite.Transient));
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public void Bind(int index, long value) => Check(NativeSqlite.BindInt64(_handle, index, value));

    public void Bind(int index, ReadOnlySpan<byte> value)
    {
        // SQLite reads a NULL pointer as SQL NULL; an empty blob needs a non-NULL one.
        byte empty = 0;
        fixed (byte* bytes = value)
        {
            Check(NativeSqlite.BindBlob(_handle, index, value.IsEmpty ? &empty : bytes, value.Length, NativeSqlite.Transient));
        }
    }

    public void BindNull(int index) => Check(NativeSqlite.BindNull(_handle, index));

    /// <summary>Runs a statement that returns no rows, then resets it for the next use.</summary>
    public void Execute()
    {
        var result = NativeSqlite.Step(_handle);
        NativeSqlite.Reset(_handle);
        if (result != raw.SQLITE_DONE)
        {
            Check(result);
        }
    }

    /// <summary>Steps to the first row; true if there is one. Call <see cref="Reset"/> when done reading it.</summary>
    public bool Read()
    {
        var result = NativeSqlite.Step(_handle);
        if (result == raw.SQLITE_ROW)
        {
            return true;
        }

        NativeSqlite.Reset(_handle);
        if (result != raw.SQLITE_DONE)
        {
            Check(result);
        }

        return false;
    }

    /// <summary>A blob column of the current row; valid until the next step, reset or read of that column.</summary>
    public ReadOnlySpan<byte> Blob(int column)
    {
        // Pointer first, then length: the order SQLite's documentation asks for.
        var bytes = NativeSqlite.ColumnBlob(_handle, column);
        return new ReadOnlySpan<byte>(bytes, NativeSqlite.ColumnBytes(_handle, column));
    }

    public long Int64(int column) => NativeSqlite.ColumnInt64(_handle, column);

    /// <summary>Ends a read, so the statement holds no lock and can be bound again.</summary>
    public void Reset() => NativeSqlite.Reset(_handle);

    public void Dispose() => _statement.Dispose();

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK && result != raw.SQLITE_ROW && result != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(result, _database);
        }
    }
}
