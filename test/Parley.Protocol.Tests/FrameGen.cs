using CsCheck;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>CsCheck generators of valid frames: every field within the limits the decoder enforces.</summary>
internal static class FrameGen
{
    /// <summary>Any Unicode scalar value (no lone surrogates), weighted towards ASCII.</summary>
    private static readonly Gen<string> CodePoint = Gen.Frequency(
        (6, Gen.Int[0x00, 0x7F]),
        (2, Gen.Int[0x80, 0x7FF]),
        (2, Gen.Int[0x800, 0xD7FF]),
        (1, Gen.Int[0xE000, 0xFFFF]),
        (1, Gen.Int[0x10000, 0x10FFFF])).Select(char.ConvertFromUtf32);

    /// <summary>Strings of at most <paramref name="maxCodePoints"/> scalars, so at most 4x that many UTF-8 bytes.</summary>
    public static Gen<string> Text(int maxCodePoints) => CodePoint.Array[0, maxCodePoints].Select(string.Concat);

    private static readonly Gen<string> Name = Text(60); // <= 240 bytes: under the 256-byte wire limit of names

    private static readonly Gen<MessageId> Id = Gen.Select(Gen.ULong, Gen.ULong, (h, l) => new MessageId(h, l));

    private static readonly Gen<byte[]> Token = Gen.Byte.Array[0, ResumeFrame.MaxTokenLength];

    public static readonly Gen<Frame> Any = Gen.OneOf<Frame>(
        Gen.Select(Gen.UShort, Gen.UShort, Name, (min, max, client) => (Frame)new HelloFrame(min, max, client)),
        Gen.Select(Gen.OneOf(FrameType.Register, FrameType.Login), Name, Text(250), Name,
            (kind, user, password, device) => (Frame)new CredentialsFrame(kind, user, password, device)),
        Gen.Select(Name, Token, Name, (user, token, device) => (Frame)new ResumeFrame(user, token, device)),
        Gen.OneOf<Frame>(EmptyFrame.Logout, EmptyFrame.Who),
        Gen.Select(Id, Name, Text(300), (id, to, text) => (Frame)new SendFrame(id, to, text)),
        Gen.Select(Gen.OneOf(FrameType.Ack, FrameType.Sync, FrameType.Synced, FrameType.Ping, FrameType.Pong), Gen.ULong,
            (kind, value) => (Frame)new SequenceFrame(kind, value)),
        Gen.Select(Gen.UShort, Name, (version, server) => (Frame)new WelcomeFrame(version, server)),
        Gen.Select(Name, Name, Token, Gen.ULong, (user, device, token, head) => (Frame)new AuthOkFrame(user, device, token, head)),
        Gen.Select(Id, Gen.ULong, Gen.Long, (id, seq, time) => (Frame)new SendOkFrame(id, seq, time)),
        Gen.Select(Gen.ULong, Id, Name, Name, Gen.Long, Text(300),
            (seq, id, from, to, time, text) => (Frame)new DeliverFrame(seq, id, from, to, time, text)),
        Gen.Select(Name, Gen.UShort, (user, devices) => new OnlineUser(user, devices)).Array[0, 8]
            .Select(users => (Frame)new WhoListFrame(users)),
        Gen.Select(Name, Gen.Bool, (user, online) => (Frame)new PresenceFrame(user, online)),
        Gen.Select(Gen.Bool, Name.Array[0, 8], (add, users) => (Frame)new WatchFrame(add, users)),
        Gen.Select(Name, Gen.ULong, (peer, upTo) => (Frame)new ReceiptFrame(peer, upTo)),
        Gen.Select(Gen.UShort, Id, Text(250), (code, id, message) => (Frame)new ErrorFrame((ErrorCode)code, id, message)));
}
