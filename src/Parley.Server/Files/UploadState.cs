using System.Security.Cryptography;
using Parley.IO;
using Parley.Storage;

namespace Parley.Server.Files;

/// <summary>
/// An upload being written: the open .part file, the hash of every byte in it so far, and the next offset. One
/// connection owns it at a time; a new UPLOAD_START for the same id (a client that reconnected before the server saw
/// the old connection drop) takes it over and the old owner's chunks are refused.
/// </summary>
internal sealed class UploadState : IDisposable
{
    private readonly FileStream _part;
    private readonly IncrementalHash _hash;
    private readonly PageCacheWindow _cache;
    private bool _disposed;

    public UploadState(BlobRecord record, FileStream part, IncrementalHash hash)
    {
        Record = record;
        _part = part;
        _hash = hash;
        Offset = part.Length;
        _cache = new PageCacheWindow(part.SafeFileHandle, Offset);
    }

    public BlobRecord Record { get; }

    /// <summary>
    /// The SHA-256 the bytes must have (lower-case hex), as the UPLOAD_START that owns the upload now declared it; null
    /// when that UPLOAD_START left it to UPLOAD_END (protocol version 2), which then finishes the upload.
    /// </summary>
    public string? DeclaredSha256 { get; set; }

    public long Offset { get; private set; }

    /// <summary>Serialises chunk writes against a takeover from another connection.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    public bool IsDisposed => Volatile.Read(ref _disposed);

    public async ValueTask AppendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _part.WriteAsync(data, cancellationToken).ConfigureAwait(false);
        _hash.AppendData(data.Span);
        Offset += data.Length;
        _cache.Wrote(Offset);
    }

    /// <summary>Makes the bytes durable and returns the SHA-256 of the whole file.</summary>
    public byte[] Finish()
    {
        _part.Flush(flushToDisk: true);
        return _hash.GetHashAndReset();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        Volatile.Write(ref _disposed, true);
        _part.Dispose();
        _hash.Dispose();
    }
}
