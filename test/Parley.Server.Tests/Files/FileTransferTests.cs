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

    [Fact]
    public async Task Upload_HashInUploadEnd_StoredOfferedAndDownloadedWithThatHash()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice");
        Assert.Equal(ProtocolVersion.V2, alice.Version);
        var content = RandomBytes(200_000, seed: 5);
        var id = MessageId.NewRandom();
        using (var frames = alice.OpenFileStream(id))
        {
            await alice.SendFileFrameAsync(new UploadStartFrame(id, "bob", "later.bin", (ulong)content.Length, new byte[32]));
            Assert.Equal(0UL, ((FileOffsetFrame)await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout)).Offset);
            await alice.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, content));
            await alice.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData(content)));
            Assert.IsType<UploadDoneFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));
        }

        var (bob, _) = await server.LoginAsync("bob");
        await bob.SyncAsync(0);
        var offer = Assert.IsType<MessageEvent>(await bob.Events.ReadAsync().AsTask().WaitAsync(Events.Timeout));
        Assert.Equal(new FileOffer(id, "later.bin", (ulong)content.Length, SHA256.HashData(content)), offer.File);
        var saved = await new FileDownloader(_ => Task.FromResult(bob)).DownloadAsync(id, _dir.Combine("bob")).WaitAsync(Events.Timeout);
        Assert.Equal(content, await File.ReadAllBytesAsync(saved));
    }

    [Trait("Security", "29")]
    [Fact]
    public async Task Upload_UploadEndHashDoesNotMatch_HashMismatchAndPartialDeleted()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice");
        var id = MessageId.NewRandom();
        using var frames = alice.OpenFileStream(id);

        await alice.SendFileFrameAsync(new UploadStartFrame(id, "bob", "x.bin", 4, new byte[32]));
        await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout);
        await alice.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, new byte[] { 1, 2, 3, 5 }));
        await alice.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData([1, 2, 3, 4])));
        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.HashMismatch, error.Code);
        Assert.Empty(Directory.GetFiles(server.FilesPath));
    }

    [Fact]
    public async Task UploadEnd_BeforeTheLastByte_ProtocolErrorAndConnectionClosed()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice");
        var id = MessageId.NewRandom();
        using var frames = alice.OpenFileStream(id);

        await alice.SendFileFrameAsync(new UploadStartFrame(id, "bob", "x.bin", 8, new byte[32]));
        await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout);
        await alice.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, new byte[] { 1, 2, 3, 4 }));
        await alice.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData([1, 2, 3, 4])));

        var closed = await alice.ClosedAsync().WaitAsync(Events.Timeout);
        Assert.Equal(ErrorCode.ProtocolError, closed.Error?.Code);
        Assert.Contains("after 4 of 8 bytes", closed.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadEnd_OnAVersion1Connection_ProtocolErrorAndAnAllZeroHashIsAHash()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice", maxVersion: ProtocolVersion.V1);
        Assert.Equal(ProtocolVersion.V1, alice.Version);
        var id = MessageId.NewRandom();
        using var frames = alice.OpenFileStream(id);

        // Version 1: zeros are the declared hash, so the last byte finishes the upload and the bytes do not match it.
        await alice.SendFileFrameAsync(new UploadStartFrame(id, "bob", "x.bin", 4, new byte[32]));
        await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout);
        await alice.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, new byte[] { 1, 2, 3, 4 }));
        var mismatch = await Assert.ThrowsAsync<ParleyErrorException>(() => frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));
        Assert.Equal(ErrorCode.HashMismatch, mismatch.Code);

        await alice.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData([1, 2, 3, 4])));
        var closed = await alice.ClosedAsync().WaitAsync(Events.Timeout);
        Assert.Equal(ErrorCode.ProtocolError, closed.Error?.Code);
        Assert.Contains("version 2", closed.Error!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadStart_HashLastForAFileAlreadyStored_ReadyAtItsSizeThenUploadEndDecides()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice");
        var content = RandomBytes(10_000, seed: 6);
        var id = MessageId.NewRandom();
        var start = new UploadStartFrame(id, "bob", "twice.bin", (ulong)content.Length, new byte[32]);
        UploadDoneFrame first;
        using (var frames = alice.OpenFileStream(id))
        {
            await alice.SendFileFrameAsync(start);
            await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout);
            await alice.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, content));
            await alice.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData(content)));
            first = Assert.IsType<UploadDoneFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));
        }

        // A retry after a lost UPLOAD_DONE: nothing to send, the same answer for the same bytes...
        using (var frames = alice.OpenFileStream(id))
        {
            await alice.SendFileFrameAsync(start);
            Assert.Equal((ulong)content.Length, ((FileOffsetFrame)await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout)).Offset);
            await alice.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData(content)));
            Assert.Equal(first.Sequence, Assert.IsType<UploadDoneFrame>(await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout)).Sequence);
        }

        // ...and a refusal for other bytes under the same id.
        using (var frames = alice.OpenFileStream(id))
        {
            await alice.SendFileFrameAsync(start);
            await frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout);
            await alice.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData([1])));
            var error = await Assert.ThrowsAsync<ParleyErrorException>(() => frames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));
            Assert.Equal(ErrorCode.UnknownFile, error.Code);
        }
    }

    [Fact]
    public async Task UploadEnd_AfterAnotherConnectionTookTheUploadOver_UnknownFileThereAndTheNewOwnerFinishesIt()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (phone, _) = await server.RegisterAsync("alice");
        var content = RandomBytes(50_000, seed: 8);
        var id = MessageId.NewRandom();
        var start = new UploadStartFrame(id, "bob", "moved.bin", (ulong)content.Length, new byte[32]);
        using var phoneFrames = phone.OpenFileStream(id);
        await phone.SendFileFrameAsync(start);
        await phoneFrames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout);
        await phone.SendFileFrameAsync(new FileChunkFrame(FrameType.UploadChunk, id, 0, content));
        await phone.WhoAsync().WaitAsync(Events.Timeout); // answered in order: the chunk is on disk

        // The same user's other device starts the same upload: it takes it over, with every byte already there.
        var (laptop, _) = await server.LoginAsync("alice", "laptop");
        using var laptopFrames = laptop.OpenFileStream(id);
        await laptop.SendFileFrameAsync(start);
        Assert.Equal((ulong)content.Length, ((FileOffsetFrame)await laptopFrames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout)).Offset);

        await phone.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData(content)));
        var refused = await Assert.ThrowsAsync<ParleyErrorException>(() => phoneFrames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));
        Assert.Equal(ErrorCode.UnknownFile, refused.Code);
        await laptop.SendFileFrameAsync(new UploadEndFrame(id, SHA256.HashData(content)));
        Assert.IsType<UploadDoneFrame>(await laptopFrames.ReadAsync(CancellationToken.None).WaitAsync(Events.Timeout));
    }

    [Fact]
    public async Task FileUploader_CancelledAndRunAgain_HashesWhatTheServerHasAndTheRecipientGetsIdenticalBytes()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateOfflineUserAsync("bob");
        var (alice, _) = await server.RegisterAsync("alice");
        var content = RandomBytes(700_000, seed: 7);
        var path = _dir.Combine("big.bin");
        await File.WriteAllBytesAsync(path, content);
        var state = _dir.Combine("uploads");

        // The first run stops after its first chunk (256 KiB): its state file keeps the file id, and no hash yet.
        using var stop = new CancellationTokenSource();
        var first = new FileUploader(_ => Task.FromResult(alice), state) { Progress = (done, _) => { if (done > 0) { stop.Cancel(); } } };
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.UploadAsync(path, "bob", cancellationToken: stop.Token).WaitAsync(Events.Timeout));

        long resumedAt = -1;
        var second = new FileUploader(_ => Task.FromResult(alice), state) { Resuming = offset => resumedAt = offset };
        var done = await second.UploadAsync(path, "bob").WaitAsync(Events.Timeout);
        Assert.Equal(FileUploader.ChunkBytes, resumedAt);

        var (bob, _) = await server.LoginAsync("bob");
        await bob.SyncAsync(0);
        var offer = Assert.IsType<MessageEvent>(await bob.Events.ReadAsync().AsTask().WaitAsync(Events.Timeout));
        Assert.Equal(SHA256.HashData(content), offer.File!.Sha256);
        var saved = await new FileDownloader(_ => Task.FromResult(bob)).DownloadAsync(offer.File.FileId, _dir.Combine("bob")).WaitAsync(Events.Timeout);
        Assert.Equal(content, await File.ReadAllBytesAsync(saved));
    }

    public void Dispose() => _dir.Dispose();

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
