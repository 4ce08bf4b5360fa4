using System.Text.Json;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Parley.Storage.Nats.Internal;

namespace Parley.Storage.Nats;

/// <summary>
/// The P2P directory of a cluster, in the KV bucket NS_directory (docs/p2p.md, "The directory in cluster mode"):
/// <list type="bullet">
/// <item>One key per (user, device), <c>hex(user).hex(device)</c>, so a lookup finds a user's keys with one stream
/// request filtered on <c>$KV.NS_directory.hex(user).*</c> (no consumer: 2.9 has single-filter consumers, but creating
/// one per lookup would cost more than the reads), then reads each from the stream leader.</item>
/// <item>A heartbeat is a compare-and-set (update at the read revision) of the entry with a new last-seen time; any
/// node may take it. The bucket's MaxAge is the entry lifetime, so NATS drops an entry that no node refreshed.</item>
/// <item>The per-user limit is checked before and after a new device's write, because two nodes may add devices of
/// one user at once: a write that finds the user over the limit afterwards takes itself back and is refused. Both
/// racers may then be refused (each sees the other), never both accepted; a second try succeeds.</item>
/// </list>
/// Created by <see cref="NatsChatStore.OpenDirectoryAsync"/>; uses that store's connection.
/// </summary>
public sealed class NatsPeerDirectoryStore : IPeerDirectoryStore
{
    private readonly NatsJSContext _js;
    private readonly INatsKVStore _bucket;
    private readonly string _stream;
    private readonly string _subjectPrefix;
    private int _count;

    internal NatsPeerDirectoryStore(NatsJSContext js, INatsKVStore bucket, string stream, string bucketName)
    {
        _js = js;
        _bucket = bucket;
        _stream = stream;
        _subjectPrefix = $"$KV.{bucketName}.";
    }

    /// <summary>Entries in the whole cluster's directory as of the last <see cref="SweepAsync"/> (one per key: deletes leave no marker).</summary>
    public int Count => Volatile.Read(ref _count);

    /// <inheritdoc />
    public async Task<bool> TryPutAsync(DirectoryEntry entry, int maxPerUser, CancellationToken cancellationToken = default)
    {
        var key = Key(entry.User, entry.Device);
        var before = await KeysOfAsync(entry.User, cancellationToken).ConfigureAwait(false);
        var isNew = !before.Contains(key);
        if (isNew && before.Count >= maxPerUser)
        {
            return false;
        }

        var revision = await _bucket.PutAsync(key, Serialize(entry), cancellationToken: cancellationToken).ConfigureAwait(false);
        if (isNew && (await KeysOfAsync(entry.User, cancellationToken).ConfigureAwait(false)).Count > maxPerUser)
        {
            await DeleteRevisionAsync(revision, cancellationToken).ConfigureAwait(false);
            return false;
        }

        return true;
    }

    /// <inheritdoc />
    public async Task<StoredDirectoryEntry?> GetAsync(string user, string device, CancellationToken cancellationToken = default)
    {
        var value = await NatsChatStore.GetEntryAsync<byte[]>(_bucket, Key(user, device), cancellationToken).ConfigureAwait(false);
        return value is null || Deserialize(value.Value) is not { } entry ? null : new StoredDirectoryEntry(entry, value.Revision);
    }

    /// <inheritdoc />
    public async Task<bool> TryReplaceAsync(DirectoryEntry entry, ulong revision, CancellationToken cancellationToken = default)
    {
        var updated = await _bucket.TryUpdateAsync(Key(entry.User, entry.Device), Serialize(entry), revision, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (updated.Success)
        {
            return true;
        }

        return updated.Error is NatsKVWrongLastRevisionException ? false : throw updated.Error;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DirectoryEntry>> ListAsync(string user, CancellationToken cancellationToken = default)
    {
        var entries = new List<DirectoryEntry>();
        foreach (var key in await KeysOfAsync(user, cancellationToken).ConfigureAwait(false))
        {
            var value = await NatsChatStore.GetEntryAsync<byte[]>(_bucket, key, cancellationToken).ConfigureAwait(false);
            if (value is not null && Deserialize(value.Value) is { } entry)
            {
                entries.Add(entry);
            }
        }

        return entries;
    }

    /// <inheritdoc />
    public async Task RemoveAsync(string user, string? device, CancellationToken cancellationToken = default)
    {
        var keys = device is null ? await KeysOfAsync(user, cancellationToken).ConfigureAwait(false) : [Key(user, device)];
        foreach (var key in keys)
        {
            await DeleteKeyAsync(key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>NATS drops expired entries itself (MaxAge), silently; this only refreshes <see cref="Count"/>.</summary>
    public async Task<IReadOnlyList<DirectoryEntry>> SweepAsync(DateTimeOffset now, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        var stream = await _js.GetStreamAsync(_stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _count, (int)Math.Min(int.MaxValue, stream.Info.State.Messages));
        return [];
    }

    private static string Key(string user, string device) => Keys.Hex(user) + "." + Keys.Hex(device);

    private static byte[] Serialize(DirectoryEntry entry) => JsonSerializer.SerializeToUtf8Bytes(
        new DirectoryBody(entry.User, entry.Device, entry.Endpoint, entry.Fingerprint, entry.SecretHash, entry.LastSeen.ToUnixTimeMilliseconds()),
        JsonContext.Default.DirectoryBody);

    private static DirectoryEntry? Deserialize(byte[] value)
    {
        try
        {
            return JsonSerializer.Deserialize(value, JsonContext.Default.DirectoryBody) is { } body
                ? new DirectoryEntry(body.User, body.Device, body.Endpoint, body.Fingerprint, body.SecretHash, DateTimeOffset.FromUnixTimeMilliseconds(body.LastSeen))
                : null;
        }
        catch (JsonException)
        {
            return null; // not Parley's: as good as absent
        }
    }

    /// <summary>The keys of <paramref name="user"/>'s entries: the subjects that hold a message, from one stream-info request to the leader.</summary>
    private async Task<HashSet<string>> KeysOfAsync(string user, CancellationToken cancellationToken)
    {
        var stream = await _js.GetStreamAsync(_stream, new StreamInfoRequest { SubjectsFilter = _subjectPrefix + Keys.Hex(user) + ".*" }, cancellationToken)
            .ConfigureAwait(false);
        return stream.Info.State.Subjects is { } subjects
            ? subjects.Where(s => s.Value > 0).Select(s => s.Key[_subjectPrefix.Length..]).ToHashSet(StringComparer.Ordinal)
            : [];
    }

    /// <summary>
    /// Deletes the key's message. When a heartbeat or a registration replaced it between the read and the delete, the
    /// delete misses (that revision is gone) and the key is read and deleted again, so a removal is never undone by a
    /// heartbeat that was already under way.
    /// </summary>
    private async Task DeleteKeyAsync(string key, CancellationToken cancellationToken)
    {
        ulong? failed = null;
        while (await NatsChatStore.GetEntryAsync<byte[]>(_bucket, key, cancellationToken).ConfigureAwait(false) is { } value)
        {
            try
            {
                await DeleteRevisionAsync(value.Revision, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (NatsJSApiException) when (failed != value.Revision)
            {
                failed = value.Revision; // replaced meanwhile: read again; the same revision failing twice is a real error
            }
        }
    }

    private async Task DeleteRevisionAsync(ulong revision, CancellationToken cancellationToken) =>
        await _js.DeleteMessageAsync(_stream, new StreamMsgDeleteRequest { Seq = revision, NoErase = true }, cancellationToken).ConfigureAwait(false);
}
