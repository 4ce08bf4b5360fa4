using System.Security.Cryptography;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.IntegrationTests.P2P;

/// <summary>
/// Direct file transfer rules at the receiving device (security.md 29 over a link): a broken transfer resumes from
/// where the partial file ends; bytes that do not hash to the declared SHA-256 leave no file; a declared size over
/// the limit is refused before any byte is written.
/// </summary>
public sealed class PeerFileResumeTests
{
    private const int Chunk = 256 * 1024;

    [Trait("Security", "29")]
    [Fact]
    public async Task BrokenDirectTransfer_ResumesFromThePartialFile_AndIsSavedWhole()
    {
        await using var setup = await P2PSetup.StartAsync();
        await setup.RegisterAliceKeyAsync();
        var bytes = RandomNumberGenerator.GetBytes((2 * Chunk) + 1000);
        var start = new UploadStartFrame(MessageId.NewRandom(), "bob", "report.bin", (ulong)bytes.Length, SHA256.HashData(bytes));

        await using (var first = await ConnectAsAliceAsync(setup))
        {
            await first.WriteAsync(start);
            Assert.Equal(0ul, Assert.IsType<FileOffsetFrame>(await first.ReadAsync()).Offset);
            await first.WriteAsync(new FileChunkFrame(FrameType.UploadChunk, start.FileId, 0, bytes.AsMemory(0, Chunk)));
            // the link breaks once the chunk is on bob's disk
            await PeerToPeerTests.WaitUntilAsync(() => Task.FromResult(
                Directory.EnumerateFiles(Path.Combine(setup.BobHome, "p2p-partial")).Any(f => new FileInfo(f).Length == Chunk)), "the first chunk on disk");
        }

        await using var second = await ConnectAsAliceAsync(setup);
        await second.WriteAsync(start);
        var answer = await second.ReadAsync();
        if (answer is not FileOffsetFrame ready)
        {
            Assert.Fail($"bob answered the resumed UPLOAD_START with {answer?.Type.ToString() ?? "a close"}; its output:\n{BobsOutput(setup)}");
            return;
        }

        Assert.Equal((ulong)Chunk, ready.Offset); // what reached bob's partial file
        for (var offset = Chunk; offset < bytes.Length; offset += Chunk)
        {
            var length = Math.Min(Chunk, bytes.Length - offset);
            await second.WriteAsync(new FileChunkFrame(FrameType.UploadChunk, start.FileId, (ulong)offset, bytes.AsMemory(offset, length)));
        }

        Assert.IsType<UploadDoneFrame>(await second.ReadAsync());
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Path.Combine(setup.BobHome, "downloads", "report.bin")));
        await setup.Bob.WaitForAsync((o, _) => o.Any(l => l.Contains("report.bin", StringComparison.Ordinal)), "the file shown at bob");
        // bob tells its user why the first link ended
        await setup.Bob.WaitForAsync((_, e) => e.Any(l => l.Contains("direct link from alice/", StringComparison.Ordinal) &&
            l.Contains("closed (the peer closed the link)", StringComparison.Ordinal)), "the broken link reported at bob");
    }

    [Trait("Security", "29")]
    [Fact]
    public async Task DirectTransfer_HashMismatchOrOversized_LeavesNoFile()
    {
        await using var setup = await P2PSetup.StartAsync();
        await setup.RegisterAliceKeyAsync();
        await using var alice = await ConnectAsAliceAsync(setup);
        var bytes = RandomNumberGenerator.GetBytes(5000);
        var wrongHash = new UploadStartFrame(MessageId.NewRandom(), "bob", "forged.bin", (ulong)bytes.Length, new byte[32]);
        var huge = new UploadStartFrame(MessageId.NewRandom(), "bob", "huge.bin", 10UL << 40, new byte[32]);

        await alice.WriteAsync(wrongHash);
        Assert.IsType<FileOffsetFrame>(await alice.ReadAsync());
        await alice.WriteAsync(new FileChunkFrame(FrameType.UploadChunk, wrongHash.FileId, 0, bytes));
        var mismatch = Assert.IsType<ErrorFrame>(await alice.ReadAsync());
        await alice.WriteAsync(huge);
        var tooLarge = Assert.IsType<ErrorFrame>(await alice.ReadAsync());

        Assert.Equal((ErrorCode.HashMismatch, wrongHash.FileId), (mismatch.Code, mismatch.Id));
        Assert.Equal((ErrorCode.FileTooLarge, huge.FileId), (tooLarge.Code, tooLarge.Id));
        Assert.False(Directory.Exists(Path.Combine(setup.BobHome, "downloads")) &&
            Directory.EnumerateFiles(Path.Combine(setup.BobHome, "downloads")).Any());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(setup.BobHome, "p2p-partial")));
    }

    private static string BobsOutput(P2PSetup setup) => string.Join('\n', setup.Bob.Stdout.Concat(setup.Bob.Stderr));

    private static async Task<RawPeer> ConnectAsAliceAsync(P2PSetup setup)
    {
        var device = setup.DeviceOf(setup.AliceHome);
        using var key = RawPeer.KeyOf(setup.AliceHome, device);
        var peer = await RawPeer.ConnectAsync(setup.BobEndpoint, key);
        await peer.WriteAsync(new PeerHelloFrame(ProtocolVersion.V1, "alice", device));
        Assert.IsType<PeerHelloAckFrame>(await peer.ReadAsync());
        return peer;
    }
}
