using System.Buffers.Binary;
using System.Text;
using Parley.Protocol;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 8: strict UTF-8 at the server, before and after login.</summary>
public sealed class EncodingTests
{
    public static TheoryData<byte[]> BadUtf8 => new()
    {
        new byte[] { 0xC0, 0x80 }, // overlong U+0000
        new byte[] { 0xED, 0xA0, 0x80 }, // encoded surrogate U+D800
        new byte[] { 0xF4, 0x90, 0x80, 0x80 }, // above U+10FFFF
        new byte[] { 0x68, 0x80, 0x69 }, // stray continuation byte
        new byte[] { 0x68, 0xE2, 0x82 }, // cut short
    };

    [Trait("Security", "8")]
    [Theory]
    [MemberData(nameof(BadUtf8))]
    public async Task Send_TextNotStrictUtf8_BadEncodingClosedAndNothingStored(byte[] bad)
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        await server.CreateOfflineUserAsync(bob);
        var (connection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));

        await connection.WriteRawAsync(RawSend(bob, bad));

        Assert.Equal(ErrorCode.BadEncoding, (await connection.ClosedAsync()).Error?.Code);
        Assert.Empty(await server.Store.ReadLogAsync(bob, 0, 100));
    }

    [Trait("Security", "8")]
    [Theory]
    [MemberData(nameof(BadUtf8))]
    public async Task Login_UserNameNotStrictUtf8_BadEncodingAndClosed(byte[] bad)
    {
        await using var server = await TestServer.StartAsync();
        var connection = await server.ConnectAsync();

        await connection.WriteRawAsync(RawLogin([.. "al"u8, .. bad], TestServer.Password, "phone"));

        Assert.Equal(ErrorCode.BadEncoding, (await connection.ClosedAsync()).Error?.Code);
    }

    [Trait("Security", "8")]
    [Fact]
    public async Task Send_ValidUtf8WithNulAndBom_DeliveredUnchanged()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var (bobConnection, _) = await server.RegisterAsync(bob);
        await bobConnection.SyncAllAsync(0);
        var (alice, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        const string Text = "\uFEFFnul:\0 emoji:\U0001F600 e\u0301";

        await alice.SendAsync(MessageId.NewRandom(), bob, Text).WaitAsync(Events.Timeout);

        Assert.Equal(Text, (await bobConnection.NextMessageAsync()).Text);
    }

    private static byte[] RawSend(string to, byte[] text)
    {
        var toBytes = Encoding.UTF8.GetBytes(to);
        var frame = new List<byte>();
        frame.AddRange(U32(0)); // length, patched below
        frame.Add((byte)FrameType.Send);
        frame.AddRange(MessageId.NewRandom().ToArray());
        frame.AddRange(U16(toBytes.Length));
        frame.AddRange(toBytes);
        frame.AddRange(U32(text.Length));
        frame.AddRange(text);
        return WithLength(frame);
    }

    private static byte[] RawLogin(byte[] user, string password, string device)
    {
        var passwordBytes = Encoding.UTF8.GetBytes(password);
        var deviceBytes = Encoding.UTF8.GetBytes(device);
        var frame = new List<byte>();
        frame.AddRange(U32(0));
        frame.Add((byte)FrameType.Login);
        frame.AddRange(U16(user.Length));
        frame.AddRange(user);
        frame.AddRange(U16(passwordBytes.Length));
        frame.AddRange(passwordBytes);
        frame.AddRange(U16(deviceBytes.Length));
        frame.AddRange(deviceBytes);
        return WithLength(frame);
    }

    private static byte[] WithLength(List<byte> frame)
    {
        var bytes = frame.ToArray();
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)(bytes.Length - 4));
        return bytes;
    }

    private static byte[] U16(int value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        return bytes;
    }

    private static byte[] U32(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)value);
        return bytes;
    }
}
