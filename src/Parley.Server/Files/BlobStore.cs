using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using Parley.Protocol;

namespace Parley.Server.Files;

/// <summary>
/// The server's uploaded files (docs/architecture.md, "Files"): FOLDER/&lt;hex id&gt;.part while uploading,
/// FOLDER/&lt;hex id&gt; once verified, FOLDER/&lt;hex id&gt;.json for the metadata. Names on disk are the ids the
/// server validated (32 hex digits), never the name that came over the wire. Limits (size, quota, retention) are
/// checked here before anything is written.
/// </summary>
internal sealed class BlobStore
{
    private const int HashBufferBytes = 1 << 20;
    private readonly string _folder;
    private readonly ServerOptions _options;
    private readonly ConcurrentDictionary<MessageId, BlobRecord> _records = new();
    private readonly ConcurrentDictionary<MessageId, UploadState> _active = new();
    private readonly Lock _quotaLock = new();

    public BlobStore(string folder, ServerOptions options)
    {
        _folder = Path.GetFullPath(folder);
        _options = options;
        Directory.CreateDirectory(_folder);
        foreach (var file in Directory.EnumerateFiles(_folder, "*.json"))
        {
            try
            {
                var record = JsonSerializer.Deserialize<BlobRecord>(File.ReadAllText(file));
                if (record is not null && Path.GetFileNameWithoutExtension(file) == record.Id)
                {
                    _records[MessageId.Parse(record.Id)] = record;
                }
            }
            catch (Exception exception) when (exception is JsonException or IOException or FormatException)
            {
                // A torn metadata file (crash while writing it): its upload is lost, the client starts it again.
                File.Delete(file);
            }
        }

        Sweep();
    }

    public string Folder => _folder;

    /// <summary>
    /// The record of <paramref name="id"/>. One not known here, or known but not complete, is read again from its
    /// metadata file: in cluster mode several nodes may share the files folder (`serve --files` on shared storage),
    /// and another node may have received or finished the upload. With one node the file is never there when the
    /// record is unknown, so this costs one failed open for unknown ids only.
    /// </summary>
    public BlobRecord? Find(MessageId id)
    {
        if (_records.TryGetValue(id, out var record) && (record.Complete || _active.ContainsKey(id)))
        {
            return record;
        }

        try
        {
            var stored = JsonSerializer.Deserialize<BlobRecord>(File.ReadAllText(MetaPath(id)));
            if (stored is not null && stored.Id == id.ToString())
            {
                _records[id] = stored;
                return stored;
            }
        }
        catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException)
        {
            // not there (or being written by another node): what this node knows
        }

        return record;
    }

    public string BlobPath(MessageId id) => Path.Combine(_folder, id.ToString());

    public string PartPath(MessageId id) => Path.Combine(_folder, id.ToString() + ".part");

    /// <summary>
    /// Registers a new upload after the size and quota checks, writing only its metadata; or null with the refusal.
    /// Called before any byte of the file is accepted.
    /// </summary>
    public (BlobRecord? Record, ErrorCode Error, string Message) Create(MessageId id, string sender, string recipient, string name, ulong size, byte[] sha256)
    {
        if (size > (ulong)_options.MaxFileBytes)
        {
            return (null, ErrorCode.FileTooLarge, $"file of {size} bytes is over this server's limit of {_options.MaxFileBytes} bytes");
        }

        lock (_quotaLock)
        {
            var used = _records.Values.Where(r => r.Sender == sender && !r.Fetched).Sum(r => r.Size);
            if (used + (long)size > _options.FileQuotaBytesPerUser)
            {
                return (null, ErrorCode.QuotaExceeded,
                    $"{used} bytes of your files are waiting to be fetched; this one would pass your quota of {_options.FileQuotaBytesPerUser} bytes");
            }

            var record = new BlobRecord
            {
                Id = id.ToString(), Sender = sender, Recipient = recipient, Name = name, Size = (long)size,
                Sha256 = Convert.ToHexStringLower(sha256), Created = _options.Time.GetUtcNow().ToUnixTimeMilliseconds(),
            };
            Save(record);
            _records[id] = record;
            return (record, ErrorCode.None, string.Empty);
        }
    }

    /// <summary>
    /// Opens the .part file of an upload for appending, re-hashing what it already holds (so resume works after a
    /// restart, when no hash state survived). Takes the upload over from any other connection.
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
            var buffer = new byte[HashBufferBytes];
            int read;
            part.Position = 0;
            while ((read = await part.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, read);
            }

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

    /// <summary>Renames a verified .part into place and records it complete.</summary>
    public void Complete(UploadState state)
    {
        var id = MessageId.Parse(state.Record.Id);
        _active.TryRemove(new KeyValuePair<MessageId, UploadState>(id, state));
        state.Dispose();
        File.Move(PartPath(id), BlobPath(id), overwrite: true);
        state.Record.Complete = true;
        Save(state.Record);
    }

    /// <summary>Forgets an upload or a file: blob, partial file and metadata.</summary>
    public void Delete(BlobRecord record)
    {
        var id = MessageId.Parse(record.Id);
        if (_active.TryRemove(id, out var state))
        {
            state.Dispose();
        }

        _records.TryRemove(id, out _);
        File.Delete(PartPath(id));
        File.Delete(BlobPath(id));
        File.Delete(MetaPath(id));
    }

    public void Detach(UploadState state)
    {
        _active.TryRemove(new KeyValuePair<MessageId, UploadState>(MessageId.Parse(state.Record.Id), state));
        state.Dispose();
    }

    public void MarkFetched(BlobRecord record)
    {
        if (!record.Fetched)
        {
            record.Fetched = true;
            Save(record);
        }
    }

    /// <summary>Deletes files older than the retention setting, fetched or not (their offers then answer UnknownFile).</summary>
    public void Sweep()
    {
        var cutoff = _options.Time.GetUtcNow().ToUnixTimeMilliseconds() - (long)_options.FileRetention.TotalMilliseconds;
        foreach (var record in _records.Values.Where(r => r.Created < cutoff).ToList())
        {
            Delete(record);
        }
    }

    private string MetaPath(MessageId id) => Path.Combine(_folder, id.ToString() + ".json");

    /// <summary>Written to a temporary file and renamed, so a crash leaves the old or the new metadata, never half.</summary>
    private void Save(BlobRecord record)
    {
        var path = MetaPath(MessageId.Parse(record.Id));
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(record));
        File.Move(temporary, path, overwrite: true);
    }
}
