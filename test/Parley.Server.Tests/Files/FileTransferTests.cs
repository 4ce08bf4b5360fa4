using System.Security.Cryptography;
using Parley.Client;
using Parley.Client.Files;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Files;

/// <summary>The file-transfer rules of docs/protocol.md over in-memory pipes (security.md 29).</summary>
public sealed class FileTransferTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Trait("Security", "29")]
    [Fact]
    public async Task UploadStart_TenTebibytes_FileTooLargeAndNothingWritten()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice");
        var id = MessageId.NewRandom();
        using var frames = alice.OpenFileStream(id);

        await alice.SendFileFrameAsync(new UploadStartFrame(id, "bob", "huge.bin", 10UL << 40, new byte[32]));
        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.FileTooLarge, error.Code);
        Assert.Empty(Directory.GetFiles(server.FilesPath));
    }

    [Trait("Security", "29")]
    [Fact]
    public async Task Upload_BytesDoNotMatchHash_HashMismatchAndPartialDeleted()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice");
        var id = MessageId.NewRandom();
        using var frames = alice.OpenFileStream(id);

        await alice.SendFileFrameAsync(new UploadStartFrame(id, "bob", "x.bin", 4, SHA256.HashData([1, 2, 3, 4])));
        Assert.IsType<FileOffsetFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));
        await alice.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, new byte[] { 1, 2, 3, 5 }));
        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.HashMismatch, error.Code);
        Assert.Empty(Directory.GetFiles(server.FilesPath));
    }

    [Trait("Security", "29")]
    [Fact]
    public async Task Upload_ChunkPastDeclaredSize_FileTooLargeAndPartialDeleted()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice");
        var id = MessageId.NewRandom();
        using var frames = alice.OpenFileStream(id);

        await alice.SendFileFrameAsync(new UploadStartFrame(id, "bob", "x.bin", 1024, new byte[32]));
        await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout);
        await alice.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, new byte[64 * 1024]));
        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.FileTooLarge, error.Code);
        Assert.Empty(Directory.GetFiles(server.FilesPath));
    }

    [Trait("Security", "29")]
    [Fact]
    public async Task Upload_InterruptedAndServerRestarted_ResumesAtStoredOffsetAndRecipientGetsIdenticalBytes()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        await server.CreateOfflineUserAsync("mallory");
        var (alice, _) = await server.RegisterAsync("alice");
        var content = new byte[300_000];
        new Random(4).NextBytes(content);
        var id = MessageId.NewRandom();
        var start = new UploadStartFrame(id, "bob", "data.bin", (ulong)content.Length, SHA256.HashData(content));
        using (var frames = alice.OpenFileStream(id))
        {
            await alice.SendFileFrameAsync(start);
            Assert.Equal(0UL, ((FileOffsetFrame)await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout)).Offset);
            await alice.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, content.AsMemory(0, 100_000)));
        }

        await alice.DisposeAsync();
        await server.WaitForServerConnectionsAsync();
        await server.RestartAsync();

        var (again, _) = await server.LoginAsync("alice", "laptop");
        using (var frames = again.OpenFileStream(id))
        {
            await again.SendFileFrameAsync(start);
            Assert.Equal(100_000UL, ((FileOffsetFrame)await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout)).Offset);
            await again.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 100_000, content.AsMemory(100_000)));
            Assert.IsType<UploadDoneFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));
        }

        var (mallory, _) = await server.LoginAsync("mallory");
        var refused = await Assert.ThrowsAsync<ParleyErrorException>(() =>
            new FileDownloader(_ => Task.FromResult(mallory)).DownloadAsync(id, _dir.Combine("mallory")).WaitAsync(Events.Timeout));
        Assert.Equal(ErrorCode.UnknownFile, refused.Code);

        var (bob, _) = await server.LoginAsync("bob");
        await bob.SyncAsync(0);
        var offer = Assert.IsType<MessageEvent>(await bob.Events.ReadAsync().AsTask().WaitAsync(Events.Timeout));
        Assert.Equal(new FileOffer(id, "data.bin", (ulong)content.Length, start.Sha256), offer.File);
        var saved = await new FileDownloader(_ => Task.FromResult(bob)).DownloadAsync(id, _dir.Combine("bob")).WaitAsync(Events.Timeout);
        Assert.Equal(content, await File.ReadAllBytesAsync(saved));
        Assert.Equal(_dir.Combine("bob/data.bin"), saved);
    }

    public void Dispose() => _dir.Dispose();
}
