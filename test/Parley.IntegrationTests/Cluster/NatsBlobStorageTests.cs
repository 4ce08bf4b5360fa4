using System.Security.Cryptography;
using Parley.Storage;
using Parley.Storage.Nats;

namespace Parley.IntegrationTests.Cluster;

/// <summary><see cref="NatsBlobStorage"/> on a real nats-server: records, quota ledger, and chunked reads from an offset.</summary>
public sealed class NatsBlobStorageTests(NatsFixture nats) : IClassFixture<NatsFixture>, IDisposable
{
    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Store_ThenRead_FromZeroAndFromAnOffsetInsideAChunk_SameBytes()
    {
        await using var store = await NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = [nats.Server.Url], Namespace = NatsFixture.NewNamespace() });
        var blobs = await NatsBlobStorage.OpenAsync(store, TimeSpan.FromDays(7));
        var content = new byte[(3 * NatsBlobStorage.ChunkBytes) + 1001];
        new Random(5).NextBytes(content);
        var record = Record(content, "alice");
        Assert.Same(record, (await blobs.CreateAsync(record, 1 << 30, CancellationToken.None)).Record);
        var part = _dir.Sub("x.part");
        await File.WriteAllBytesAsync(part, content);

        await blobs.StoreAsync(record, part, CancellationToken.None);

        Assert.False(File.Exists(part));
        Assert.True((await blobs.FindAsync(record.Id, CancellationToken.None))!.Complete);
        Assert.Equal(content, await ReadAllAsync(blobs, record, 0));
        var offset = NatsBlobStorage.ChunkBytes + 17;
        Assert.Equal(content[offset..], await ReadAllAsync(blobs, record, offset));
    }

    [Fact]
    public async Task TwoObjectsStoredAtOnce_ReadFromChunkBoundariesAndInsideChunks_SameBytes()
    {
        await using var store = await NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = [nats.Server.Url], Namespace = NatsFixture.NewNamespace() });
        var blobs = await NatsBlobStorage.OpenAsync(store, TimeSpan.FromDays(7));
        var contents = new[] { new byte[(8 * NatsBlobStorage.ChunkBytes) + 5], new byte[(6 * NatsBlobStorage.ChunkBytes) - 3] };
        var records = new List<BlobRecord>();
        foreach (var content in contents)
        {
            new Random(content.Length).NextBytes(content);
            var record = Record(content, "alice");
            await blobs.CreateAsync(record, 1 << 30, CancellationToken.None);
            records.Add(record);
        }

        // Stored at the same time, so their chunks are likely to interleave in the stream: chunk k is not at first + k.
        await Task.WhenAll(records.Select(async (record, i) =>
        {
            var part = _dir.Sub($"{i}.part");
            await File.WriteAllBytesAsync(part, contents[i]);
            await blobs.StoreAsync(record, part, CancellationToken.None);
        }));

        for (var i = 0; i < records.Count; i++)
        {
            foreach (var offset in new[] { 1, NatsBlobStorage.ChunkBytes, (2 * NatsBlobStorage.ChunkBytes) + 99, contents[i].Length - 1 })
            {
                Assert.Equal(contents[i][offset..], await ReadAllAsync(blobs, records[i], offset));
            }
        }
    }

    [Fact]
    public async Task Create_OverQuota_RefusedWithBytesUsed_UntilFetched()
    {
        await using var store = await NatsChatStore.OpenAsync(new NatsStoreOptions { Urls = [nats.Server.Url], Namespace = NatsFixture.NewNamespace() });
        var blobs = await NatsBlobStorage.OpenAsync(store, TimeSpan.FromDays(7));
        var first = Record(new byte[600], "alice");
        Assert.NotNull((await blobs.CreateAsync(first, 1000, CancellationToken.None)).Record);

        var (refused, used) = await blobs.CreateAsync(Record(new byte[500], "alice"), 1000, CancellationToken.None);
        Assert.Null(refused);
        Assert.Equal(600, used);
        Assert.NotNull((await blobs.CreateAsync(Record(new byte[500], "bob"), 1000, CancellationToken.None)).Record);

        await blobs.MarkFetchedAsync(first, CancellationToken.None);
        Assert.NotNull((await blobs.CreateAsync(Record(new byte[500], "alice"), 1000, CancellationToken.None)).Record);
    }

    public void Dispose() => _dir.Dispose();

    private static BlobRecord Record(byte[] content, string sender) => new()
    {
        Id = Protocol.MessageId.NewRandom().ToString(), Sender = sender, Recipient = "bob", Name = "x.bin", Size = content.Length,
        Sha256 = Convert.ToHexStringLower(SHA256.HashData(content)), Created = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
    };

    private static async Task<byte[]> ReadAllAsync(IBlobStorage blobs, BlobRecord record, long offset)
    {
        var stream = await blobs.OpenReadAsync(record, offset, CancellationToken.None);
        Assert.NotNull(stream);
        await using (stream)
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy).WaitAsync(TimeSpan.FromSeconds(30));
            return copy.ToArray();
        }
    }
}
