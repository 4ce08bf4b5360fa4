using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>One representative frame of every type, with non-ASCII text where a field allows it.</summary>
internal static class SampleFrames
{
    public static readonly MessageId Id = MessageId.Parse("00112233445566778899aabbccddeeff");

    private static readonly byte[] Sha = [.. Enumerable.Range(0, 32).Select(i => (byte)(i * 3))];

    public static IReadOnlyDictionary<FrameType, Frame> ByType { get; } = new Dictionary<FrameType, Frame>
    {
        [FrameType.Hello] = new HelloFrame(1, 3, "parley-cli/0.1 ✓"),
        [FrameType.Register] = new CredentialsFrame(FrameType.Register, "Alice", "pässwörd 🔑", "laptop-1"),
        [FrameType.Login] = new CredentialsFrame(FrameType.Login, "alice", "correct horse", "phone"),
        [FrameType.Resume] = new ResumeFrame("alice", Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray(), "phone"),
        [FrameType.Logout] = EmptyFrame.Logout,
        [FrameType.Send] = new SendFrame(Id, "bob", "héllo, 世界 👋"),
        [FrameType.Ack] = new SequenceFrame(FrameType.Ack, 42),
        [FrameType.Sync] = new SequenceFrame(FrameType.Sync, 0),
        [FrameType.Who] = EmptyFrame.Who,
        [FrameType.Ping] = new SequenceFrame(FrameType.Ping, 0xDEADBEEFCAFEF00D),
        [FrameType.Pong] = new SequenceFrame(FrameType.Pong, ulong.MaxValue),
        [FrameType.Welcome] = new WelcomeFrame(1, "parley-server/0.1"),
        [FrameType.AuthOk] = new AuthOkFrame("alice", "phone", Enumerable.Range(0, 32).Select(i => (byte)(255 - i)).ToArray(), 1234),
        [FrameType.SendOk] = new SendOkFrame(Id, 7, 1_767_225_600_000),
        [FrameType.Deliver] = new DeliverFrame(8, Id, "alice", "bob", -1, "multi\nline\ttext ☃"),
        [FrameType.Synced] = new SequenceFrame(FrameType.Synced, 8),
        [FrameType.WhoList] = new WhoListFrame([new OnlineUser("alice", 2), new OnlineUser("echo", 1), new OnlineUser("zoë", ushort.MaxValue)]),
        [FrameType.Presence] = new PresenceFrame("bob", Online: true),
        [FrameType.Watch] = new WatchFrame(Add: true, ["bob", "~guest", "zoë"]),
        [FrameType.Receipt] = new ReceiptFrame("bob", 77),
        [FrameType.History] = new HistoryFrame(100, 50, "bob"),
        [FrameType.ChangePassword] = new ChangePasswordFrame("old pässword", "new pässword 🔑"),
        [FrameType.HistoryPage] = new HistoryPageFrame(100, [new DeliverFrame(98, Id, "alice", "bob", 5, "older ✓"), new DeliverFrame(99, Id, "bob", "alice", 6, "")]),
        [FrameType.UploadStart] = new UploadStartFrame(Id, "bob", "../ré sumé.pdf", 1 << 20, Sha),
        [FrameType.UploadChunk] = new FileChunkFrame(FrameType.UploadChunk, Id, 65536, new byte[] { 0, 1, 2, 255 }),
        [FrameType.Download] = new FileOffsetFrame(FrameType.Download, Id, 4096),
        [FrameType.UploadReady] = new FileOffsetFrame(FrameType.UploadReady, Id, 0),
        [FrameType.UploadDone] = new UploadDoneFrame(Id, 9, 1_767_225_600_000),
        [FrameType.UploadEnd] = new UploadEndFrame(Id, Sha),
        [FrameType.FileInfo] = new FileInfoFrame(Id, "alice", "bob", "ré sumé.pdf", 1 << 20, Sha),
        [FrameType.FileChunk] = new FileChunkFrame(FrameType.FileChunk, Id, 0, Array.Empty<byte>()),
        [FrameType.FileEnd] = new FileOffsetFrame(FrameType.FileEnd, Id, 1 << 20),
        [FrameType.DeliverFile] = new DeliverFileFrame(10, Id, "alice", "bob", 7, new FileOffer(Id, "CON.txt", ulong.MaxValue, Sha)),
        [FrameType.Error] = new ErrorFrame(ErrorCode.IdReused, Id, "message id reused for different content"),
        [FrameType.DirectoryRegister] = new DirectoryRegisterFrame("alice", "d01", "0.0.0.0:7979", Sha),
        [FrameType.DirectoryRegistered] = new DirectoryRegisteredFrame(Sha, 30_000, 90_000),
        [FrameType.Heartbeat] = new HeartbeatFrame("alice", "d01", Sha),
        [FrameType.HeartbeatOk] = new HeartbeatOkFrame(3, 30_000),
        [FrameType.Lookup] = new LookupFrame("bob"),
        [FrameType.Peers] = new PeersFrame("bob", [new PeerEntry("d02", "10.1.2.3:7979", Sha), new PeerEntry("d02-cli", "", Sha)]),
        [FrameType.PeerHello] = new PeerHelloFrame(ProtocolVersion.V1, "alice", "d01"),
        [FrameType.PeerHelloAck] = new PeerHelloAckFrame("bob", "d02"),
        [FrameType.PeerMessage] = new PeerMessageFrame(Id, 1_767_225_600_000, "direct ✓"),
        [FrameType.PeerAck] = new PeerAckFrame(Id),
    };

    public static TheoryData<FrameType> Types()
    {
        var data = new TheoryData<FrameType>();
        foreach (var type in ByType.Keys)
        {
            data.Add(type);
        }

        return data;
    }
}
