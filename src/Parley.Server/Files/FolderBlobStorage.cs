using System.Collections.Concurrent;
using System.Text.Json;
using Parley.Protocol;
using Parley.Storage;

namespace Parley.Server.Files;

/// <summary>
/// The default <see cref="IBlobStorage"/>: FOLDER/&lt;hex id&gt; for a verified blob and FOLDER/&lt;hex id&gt;.json
/// for its record (the layout Parley always had, so existing folders keep working). Names on disk are ids the server
/// validated, never the name that came over the wire. Records are cached in memory for the quota sum; one not cached,
/// or cached but not complete, is read again from its file, because in cluster mode several nodes may share the
/// folder and another node may have created or finished it.
/// </summary>
internal sealed class FolderBlobStorage : IBlobStorage
{
    private readonly string _folder;
    private readonly ConcurrentDictionary<string, BlobRecord> _records = new(StringComparer.Ordinal);
    private readonly Lock _quotaLock = new();

    public FolderBlobStorage(string folder)
    {
        _folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(_folder);
        foreach (var file in Directory.EnumerateFiles(_folder, "*.json"))
        {
            try
            {
                var record = JsonSerializer.Deserialize<BlobRecord>(File.ReadAllText(file));
                if (record is not null && Path.GetFileNameWithoutExtension(file) == record.Id)
                {
                    _records[MessageId.Parse(record.Id).ToString()] = record;
                }
            }
            catch (Exception exception) when (exception is JsonException or IOException or FormatException)
            {
                // A torn metadata file (crash while writing it): its upload is lost, the client starts it again.
                File.Delete(file);
            }
        }
    }

    public Task<BlobRecord?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (_records.TryGetValue(id, out var record) && record.Complete)
        {
            return Task.FromResult<BlobRecord?>(record);
        }

        try
        {
            var stored = JsonSerializer.Deserialize<BlobRecord>(File.ReadAllText(MetaPath(id)));
            if (stored is not null && stored.Id == id)
            {
                _records[id] = stored;
                return Task.FromResult<BlobRecord?>(stored);
            }
        }
        catch (Exception exception) when (exception is JsonException or IOException or UnauthorizedAccessException)
        {
            // not there (or being written by another node): what this node knows
        }

        return Task.FromResult(record);
    }

    public Task<(BlobRecord? Record, long UsedBytes)> CreateAsync(BlobRecord record, long quotaBytes, CancellationToken cancellationToken)
    {
        lock (_quotaLock)
        {
            var used = _records.Values.Where(r => r.Sender == record.Sender && !r.Fetched).Sum(r => r.Size);
            if (used + record.Size > quotaBytes)
            {
                return Task.FromResult<(BlobRecord?, long)>((null, used));
            }

            Save(record);
            _records[record.Id] = record;
            return Task.FromResult<(BlobRecord?, long)>((record, used));
        }
    }

    public Task StoreAsync(BlobRecord record, string verifiedFile, CancellationToken cancellationToken)
    {
        File.Move(verifiedFile, BlobPath(record.Id), overwrite: true);
        record.Complete = true;
        Save(record);
        return Task.CompletedTask;
    }

    public Task<Stream?> OpenReadAsync(BlobRecord record, long offset, CancellationToken cancellationToken)
    {
        try
        {
            var blob = new FileStream(BlobPath(record.Id), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, useAsync: true);
            blob.Position = offset;
            return Task.FromResult<Stream?>(blob);
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task MarkFetchedAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        if (!record.Fetched)
        {
            record.Fetched = true;
            Save(record);
        }

        return Task.CompletedTask;
    }

    public Task DeleteAsync(BlobRecord record, CancellationToken cancellationToken)
    {
        _records.TryRemove(record.Id, out _);
        File.Delete(BlobPath(record.Id));
        File.Delete(MetaPath(record.Id));
        return Task.CompletedTask;
    }

    public async Task SweepAsync(long cutoffUnixMilliseconds, CancellationToken cancellationToken)
    {
        foreach (var record in _records.Values.Where(r => r.Created < cutoffUnixMilliseconds).ToList())
        {
            await DeleteAsync(record, cancellationToken).ConfigureAwait(false);
        }
    }

    private string BlobPath(string id) => Path.Combine(_folder, id);

    private string MetaPath(string id) => Path.Combine(_folder, id + ".json");

    /// <summary>Written to a temporary file and renamed, so a crash leaves the old or the new metadata, never half.</summary>
    private void Save(BlobRecord record)
    {
        var path = MetaPath(record.Id);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(record));
        File.Move(temporary, path, overwrite: true);
    }
}
