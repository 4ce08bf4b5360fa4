using System.Security.Cryptography;
using Parley.Client;
using Parley.Client.Files;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.IntegrationTests.Cluster;

/// <summary>
/// Files in cluster mode (issue 8): blobs live in the NATS Object Store and their records in a KV bucket, so a file
/// uploaded through node A is downloaded through node B, resumes there at an offset, survives node A, and the size
/// and quota limits hold across nodes.
/// </summary>
public sealed class ClusterFileTests(NatsFixture nats) : IClassFixture<NatsFixture>, IDisposable
{
    /// <summary>Bigger than one object-store chunk (128 KiB) many times over, and not a multiple of it.</summary>
    private const int MultiChunkBytes = (5 << 20) + 777;

    private readonly TempDirectory _dir = new();

    [Fact]
    public async Task Upload_ThroughNodeA_DownloadedThroughNodeB_ByteIdenticalAndHashVerified()
    {
        await using var cluster = await StartWithUsersAsync(nats.Server.Url);
        var content = RandomBytes(MultiChunkBytes, seed: 81);
        var id = await UploadAsync(cluster, node: 0, content);

        var saved = await DownloadAsync(cluster, node: 1, id, "downloads");

        Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(saved)));
        // Nothing of the file went to node A's or B's folder but the upload's own .part, since deleted.
        Assert.Empty(Directory.GetFiles(Path.Combine(cluster.Nodes[0].DataDirectory, "files")));
        Assert.Empty(Directory.GetFiles(Path.Combine(cluster.Nodes[1].DataDirectory, "files")));
    }

    [Fact]
    public async Task Download_ResumedAtAnOffsetInsideAChunk_ThroughTheOtherNode_ByteIdentical()
    {
        await using var cluster = await StartWithUsersAsync(nats.Server.Url);
        var content = RandomBytes(MultiChunkBytes, seed: 82);
        var id = await UploadAsync(cluster, node: 0, content);
        // An interrupted download: the client's partial file holds the first bytes, ending mid-chunk.
        var downloads = _dir.Sub("resumed");
        var partial = Path.Combine(downloads, FileDownloader.PartialFolderName);
        Directory.CreateDirectory(partial);
        const int Have = (3 << 20) + 12_345;
        await File.WriteAllBytesAsync(Path.Combine(partial, id + ".part"), content.AsSpan(0, Have).ToArray());

        long? resumedFrom = null;
        var saved = await DownloadAsync(cluster, node: 1, id, "resumed", progress: (done, _) => resumedFrom ??= done);

        Assert.Equal(Have, resumedFrom);
        Assert.Equal(content, await File.ReadAllBytesAsync(saved));
    }

    [Fact]
    public async Task NodeA_Stopped_FileUploadedThroughIt_StillDownloadsThroughNodeB()
    {
        await using var cluster = await StartWithUsersAsync(nats.Server.Url);
        var content = RandomBytes(MultiChunkBytes, seed: 83);
        var id = await UploadAsync(cluster, node: 0, content);

        await cluster.Nodes[0].KillAsync();
        var saved = await DownloadAsync(cluster, node: 1, id, "after-kill");

        Assert.Equal(content, await File.ReadAllBytesAsync(saved));
    }

    [Fact]
    public async Task Upload_ResumedThroughTheOtherNode_RestartsFromZero_AndCompletesThere()
    {
        await using var cluster = await StartWithUsersAsync(nats.Server.Url);
        var content = RandomBytes(600_000, seed: 85);
        var id = MessageId.NewRandom();
        var start = new UploadStartFrame(id, "bob", "moved.bin", (ulong)content.Length, SHA256.HashData(content));
        await using (var onA = await cluster.LoginAsync("alice", "a1", register: false, 0))
        {
            using var frames = onA.OpenFileStream(id);
            await onA.SendFileFrameAsync(start);
            Assert.Equal(0UL, Assert.IsType<FileOffsetFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Parley.Timeout)).Offset);
            await onA.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, content.AsMemory(0, 200_000)));
        }

        // Node B has no .part of this upload: it answers 0 (docs/topology.md, "Files in a cluster"), and completes it.
        await using (var onB = await cluster.LoginAsync("alice", "a1", register: false, 1))
        {
            using var frames = onB.OpenFileStream(id);
            await onB.SendFileFrameAsync(start);
            Assert.Equal(0UL, Assert.IsType<FileOffsetFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Parley.Timeout)).Offset);
            for (var offset = 0; offset < content.Length; offset += 60_000)
            {
                await onB.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, (ulong)offset,
                    content.AsMemory(offset, Math.Min(60_000, content.Length - offset))));
            }

            Assert.IsType<UploadDoneFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Parley.Timeout));
        }

        Assert.Equal(content, await File.ReadAllBytesAsync(await DownloadAsync(cluster, node: 0, id, "moved")));
    }

    [Fact]
    public async Task Limits_SizeOnOneNode_QuotaAcrossNodes_RefusedWithTheirErrors()
    {
        await using var cluster = await ClusterNodes.StartAsync(nats.Server.Url, 2, "--max-file-bytes", "400000", "--file-quota-bytes", "500000");
        await using var alice = await cluster.LoginAsync("alice", "a1", register: true, 0);
        await using var bob = await cluster.LoginAsync("bob", "b1", register: true, 1);

        var tooLarge = await StartUploadAsync(alice, 400_001);
        Assert.Equal(ErrorCode.FileTooLarge, tooLarge?.Code);

        // 300,000 bytes waiting through node A: a second 300,000 through node B would pass the 500,000 quota.
        var first = await UploadAsync(cluster, node: 0, RandomBytes(300_000, seed: 84));
        await using var aliceOnB = await cluster.LoginAsync("alice", "a2", register: false, 1);
        var overQuota = await StartUploadAsync(aliceOnB, 300_000);
        Assert.Equal(ErrorCode.QuotaExceeded, overQuota?.Code);
        Assert.Contains("300000 bytes of your files are waiting", overQuota!.Message, StringComparison.Ordinal);

        // Once bob fetched the first file (through node B), it no longer counts, cluster-wide. The server marks it
        // fetched just after it sent FILE_END, so the client may be a moment ahead.
        await DownloadAsync(cluster, node: 1, first, "fetched");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        ParleyErrorException? refused;
        while ((refused = await StartUploadAsync(alice, 300_000)) is not null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Null(refused);
    }

    public void Dispose() => _dir.Dispose();

    private static byte[] RandomBytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary>alice (registered on the way) sends <paramref name="content"/> to bob through one node; the file id.</summary>
    private async Task<MessageId> UploadAsync(ClusterNodes cluster, int node, byte[] content)
    {
        var path = _dir.Sub("upload-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllBytesAsync(path, content);
        await using var alice = await cluster.LoginAsync("alice", "uploader", register: false, node);
        var uploader = new FileUploader(_ => Task.FromResult(alice), _dir.Sub("alice-state"));
        var done = await uploader.UploadAsync(path, "bob", "file.bin");
        return done.FileId;
    }

    private async Task<string> DownloadAsync(ClusterNodes cluster, int node, MessageId id, string folder, Action<long, long>? progress = null)
    {
        await using var bob = await cluster.LoginAsync("bob", "downloader", register: false, node);
        var downloader = new FileDownloader(_ => Task.FromResult(bob)) { Progress = progress };
        return await downloader.DownloadAsync(id, _dir.Sub(folder)).WaitAsync(TimeSpan.FromMinutes(2));
    }

    private static async Task<ClusterNodes> StartWithUsersAsync(string natsUrl)
    {
        var cluster = await ClusterNodes.StartAsync(natsUrl, 2);
        await (await cluster.LoginAsync("alice", "setup", register: true, 0)).DisposeAsync();
        await (await cluster.LoginAsync("bob", "setup", register: true, 1)).DisposeAsync();
        return cluster;
    }

    /// <summary>Sends UPLOAD_START for a new file of <paramref name="size"/> bytes; the refusal, or null when the server is ready for bytes.</summary>
    private static async Task<ParleyErrorException?> StartUploadAsync(ParleyConnection connection, ulong size)
    {
        var id = MessageId.NewRandom();
        using var frames = connection.OpenFileStream(id);
        await connection.SendFileFrameAsync(new UploadStartFrame(id, "bob", "x.bin", size, new byte[32]));
        try
        {
            Assert.IsType<FileOffsetFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Parley.Timeout));
            return null;
        }
        catch (ParleyErrorException refused)
        {
            return refused;
        }
    }
}
