using System.Collections.Concurrent;
using System.Security.Cryptography;
using Parley.IO;
using Parley.Protocol;
using Parley.Storage;

namespace Parley.Server.Files;

/// <summary>
/// The server's uploaded files (docs/architecture.md, "Files"): the limits (size, quota, retention), the uploads in
/// progress, and an <see cref="IBlobStorage"/> that keeps the verified blobs and their records (a folder, or NATS in
/// cluster mode). An upload is written to PARTS/&lt;hex id&gt;.part in this node's own folder and handed to the storage
/// only once its SHA-256 matched, so the storage never holds half a file. Names on disk are the ids the server
/// validated (32 hex digits), never the name that came over the wire.
/// </summary>
internal sealed class BlobStore
{
    private readonly string _partFolder;
    private readonly IBlobStorage _storage;
    private readonly ServerOptions _options;
    private readonly ConcurrentDictionary<MessageId, UploadState> _active = new();

    /// <param name="partFolder">This node's folder for uploads in progress.</param>
    /// <param name="storage">Where verified blobs and records live.</param>
    /// <param name="options">The limits.</param>
    public BlobStore(string partFolder, IBlobStorage storage, ServerOptions options)
    {
        _partFolder = Path.GetFullPath(partFolder);
        _storage = storage;
        _options = options;
        Directory.CreateDirectory(_partFolder);
    }

    /// <summary>The record of <paramref name="id"/> as the storage has it now (another node may have written it).</summary>
    public Task<BlobRecord?> FindAsync(MessageId id, CancellationToken cancellationToken) =>
        _storage.FindAsync(id.ToString(), cancellationToken);

    public string PartPath(MessageId id) => Path.Combine(_partFolder, id.ToString() + ".part");

    /// <summary>
    /// Registers a new upload after the size and quota checks, writing only its record; or null with the refusal.
    /// Called before any byte of the file is accepted.
    /// </summary>
    public async Task<(BlobRecord? Record, ErrorCode Error, string Message)> CreateAsync(MessageId id, string sender, string recipient, string name,
        ulong size, byte[] sha256, CancellationToken cancellationToken)
    {
        if (size > (ulong)_options.MaxFileBytes)
        {
            return (null, ErrorCode.FileTooLarge, $"file of {size} bytes is over this server's limit of {_options.MaxFileBytes} bytes");
        }

        var wanted = new BlobRecord
        {
            Id = id.ToString(), Sender = sender, Recipient = recipient, Name = name, Size = (long)size,
            Sha256 = Convert.ToHexStringLower(sha256), Created = _options.Time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        var (record, used) = await _storage.CreateAsync(wanted, _options.FileQuotaBytesPerUser, cancellationToken).ConfigureAwait(false);
        return record is null
            ? (null, ErrorCode.QuotaExceeded,
                $"{used} bytes of your files are waiting to be fetched; this one would pass your quota of {_options.FileQuotaBytesPerUser} bytes")
            : (record, ErrorCode.None, string.Empty);
    }

    /// <summary>
    /// Opens the .part file of an upload for appending, re-hashing what it already holds (so resume works after a
    /// restart, when no hash state survived). Takes the upload over from any other connection. Through another node
    /// than the one that received the first bytes there is no .part yet: the upload restarts from 0.
    /// </summary>
    public async Task<UploadState> OpenUploadAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        var id = MessageId.Parse(record.Id);
        if (_active.TryRemove(id, out var previous))
        {
            await previous.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            previous.Dispose();
            previous.Gate.Release();
        }

        var part = new FileStream(PartPath(id), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0, useAsync: true);
        try
        {
            if (part.Length > record.Size)
            {
                part.SetLength(0);
            }

            var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            part.Position = 0;
            // A one-time pass (a resumed 1 GiB upload reads it all): out of the page cache behind it.
            await FileHashing.AppendAsync(hash, part, part.Length, dropBehind: true, cancellationToken).ConfigureAwait(false);

            var state = new UploadState(record, part, hash);
            _active[id] = state;
            return state;
        }
        catch
        {
            await part.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Hands a verified .part to the storage, which records it complete.</summary>
    public async Task CompleteAsync(UploadState state, CancellationToken cancellationToken)
    {
        var id = MessageId.Parse(state.Record.Id);
        _active.TryRemove(new KeyValuePair<MessageId, UploadState>(id, state));
        state.Dispose();
        await _storage.StoreAsync(state.Record, PartPath(id), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The blob of a complete record from <paramref name="offset"/> on, or null when it is gone.</summary>
    public Task<Stream?> OpenReadAsync(BlobRecord record, long offset, CancellationToken cancellationToken) =>
        _storage.OpenReadAsync(record, offset, cancellationToken);

    /// <summary>Forgets an upload or a file: partial file here, blob and record in the storage.</summary>
    public async Task DeleteAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        var id = MessageId.Parse(record.Id);
        if (_active.TryRemove(id, out var state))
        {
            state.Dispose();
        }

        File.Delete(PartPath(id));
        await _storage.DeleteAsync(record, cancellationToken).ConfigureAwait(false);
    }

    public void Detach(UploadState state)
    {
        _active.TryRemove(new KeyValuePair<MessageId, UploadState>(MessageId.Parse(state.Record.Id), state));
        state.Dispose();
    }

    public Task MarkFetchedAsync(BlobRecord record, CancellationToken cancellationToken) =>
        record.Fetched ? Task.CompletedTask : _storage.MarkFetchedAsync(record, cancellationToken);

    /// <summary>
    /// Deletes files older than the retention setting, fetched or not (their offers then answer UnknownFile), and
    /// this node's .part files not written to for as long (uploads abandoned, or whose record another node swept).
    /// </summary>
    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        var now = _options.Time.GetUtcNow();
        await _storage.SweepAsync(now.ToUnixTimeMilliseconds() - (long)_options.FileRetention.TotalMilliseconds, cancellationToken).ConfigureAwait(false);
        var partCutoff = now.UtcDateTime - _options.FileRetention;
        foreach (var part in Directory.EnumerateFiles(_partFolder, "*.part"))
        {
            if (File.GetLastWriteTimeUtc(part) < partCutoff &&
                !_active.Keys.Any(id => string.Equals(PartPath(id), part, StringComparison.Ordinal)))
            {
                File.Delete(part);
            }
        }
    }
}
