using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Fuzz;

/// <summary>
/// The seed corpus (test/Parley.Fuzz/corpus): one valid encoded frame of every frame type, the same frames behind a
/// control byte that cuts them at varied places for the split variant, and one stream of all of them back to back.
/// Deterministic, so regenerating gives the same files.
/// </summary>
internal static class Seeds
{
    private static readonly MessageId Id = MessageId.Parse("00112233445566778899aabbccddeeff");

    public static IReadOnlyList<Frame> OnePerType { get; } =
    [
        new HelloFrame(ProtocolVersion.Min, ProtocolVersion.Max, "parley-cli/0.1 ✓"),
        new CredentialsFrame(FrameType.Register, "Alice", "pässwörd 🔑", "laptop-1"),
        new CredentialsFrame(FrameType.Login, "alice", "correct horse", "phone"),
        new ResumeFrame("alice", [.. Enumerable.Range(0, 32).Select(i => (byte)(i * 7))], "phone"),
        EmptyFrame.Logout,
        new SendFrame(Id, "bob", "héllo, 世界 👋"),
        new SequenceFrame(FrameType.Ack, 42),
        new SequenceFrame(FrameType.Sync, 0),
        EmptyFrame.Who,
        new SequenceFrame(FrameType.Ping, 0xDEADBEEFCAFEF00D),
        new SequenceFrame(FrameType.Pong, ulong.MaxValue),
        new WelcomeFrame(ProtocolVersion.V1, "parley-server/0.1"),
        new AuthOkFrame("alice", "phone", [.. Enumerable.Range(0, 32).Select(i => (byte)(255 - i))], 1234),
        new SendOkFrame(Id, 7, 1_767_225_600_000),
        new DeliverFrame(8, Id, "alice", "bob", -1, "multi\nline\ttext ☃"),
        new SequenceFrame(FrameType.Synced, 8),
        new WhoListFrame([new OnlineUser("alice", 2), new OnlineUser("echo", 1), new OnlineUser("zoë", ushort.MaxValue)]),
        new PresenceFrame("bob", Online: true),
        new WatchFrame(Add: true, ["bob", "~guest", "zoë"]),
        new ReceiptFrame("bob", 77),
        new HistoryFrame(100, 50, "bob"),
        new ChangePasswordFrame("correct horse", "battery staple ✓"),
        new HistoryPageFrame(100, [new DeliverFrame(98, Id, "alice", "bob", 5, "older ✓"), new DeliverFrame(99, Id, "bob", "alice", 6, "")]),
        new UploadStartFrame(Id, "bob", "../ré sumé.pdf", 1 << 20, new byte[32]),
        new FileChunkFrame(FrameType.UploadChunk, Id, 65536, new byte[] { 0, 1, 2, 255 }),
        new FileOffsetFrame(FrameType.Download, Id, 4096),
        new FileOffsetFrame(FrameType.UploadReady, Id, 0),
        new UploadDoneFrame(Id, 9, 1_767_225_600_000),
        new FileInfoFrame(Id, "alice", "bob", "ré sumé.pdf", 1 << 20, new byte[32]),
        new FileChunkFrame(FrameType.FileChunk, Id, 0, Array.Empty<byte>()),
        new FileOffsetFrame(FrameType.FileEnd, Id, 1 << 20),
        new DeliverFileFrame(10, Id, "alice", "bob", 7, new FileOffer(Id, "CON.txt", ulong.MaxValue, new byte[32])),
        new ErrorFrame(ErrorCode.IdReused, Id, "message id reused for different content"),
        new DirectoryRegisterFrame("alice", "d01", "0.0.0.0:7979", new byte[32]),
        new DirectoryRegisteredFrame([.. Enumerable.Range(0, 32).Select(i => (byte)i)], 30_000, 90_000),
        new HeartbeatFrame("alice", "d01", [.. Enumerable.Range(0, 32).Select(i => (byte)i)]),
        new HeartbeatOkFrame(3, 30_000),
        new LookupFrame("bob"),
        new PeersFrame("bob", [new PeerEntry("d02", "10.1.2.3:7979", new byte[32]), new PeerEntry("d02-cli", "", new byte[32])]),
        new PeerHelloFrame(ProtocolVersion.V1, "alice", "d01"),
        new PeerHelloAckFrame("bob", "d02"),
        new PeerMessageFrame(Id, 1_767_225_600_000, "direct ✓"),
        new PeerAckFrame(Id),
        new UploadEndFrame(Id, [.. Enumerable.Range(0, 32).Select(i => (byte)(255 - i))]), // last: the split cuts of the others stay as they were
    ];

    public static int Write(string directory)
    {
        if (OnePerType.Select(f => f.Type).Distinct().Count() != Enum.GetValues<FrameType>().Length)
        {
            throw new InvalidOperationException("the seed list must hold every frame type exactly once");
        }

        Directory.CreateDirectory(directory);
        var count = 0;
        var stream = new List<byte>();
        for (var i = 0; i < OnePerType.Count; i++)
        {
            var frame = OnePerType[i];
            var bytes = FrameCodec.Encode(frame);
            var name = $"{(byte)frame.Type:x2}-{frame.Type.ToString().ToLowerInvariant()}";
            File.WriteAllBytes(Path.Combine(directory, $"{name}.bin"), bytes);

            // Cut positions: inside the length prefix, at and after the type byte, mid-payload, last byte, at the end.
            int[] cuts = [1, 2, 3, 4, 5, 6, bytes.Length / 2, bytes.Length - 1, bytes.Length];
            var cut = Math.Min(cuts[i % cuts.Length], 255);
            File.WriteAllBytes(Path.Combine(directory, $"split-{name}.bin"), [(byte)cut, .. bytes]);

            stream.AddRange(bytes);
            count += 2;
        }

        File.WriteAllBytes(Path.Combine(directory, "stream-all-types.bin"), [.. stream]);
        return count + 1;
    }
}
