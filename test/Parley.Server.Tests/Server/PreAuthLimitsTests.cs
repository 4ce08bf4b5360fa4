using System.Buffers.Binary;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>security.md 5 and 9: what a connection may send before it has logged in, and frame size limits.</summary>
public sealed class PreAuthLimitsTests
{
    public static TheoryData<string> PostAuthFrames => ["send", "ack", "sync", "who", "logout", "hello"];

    [Trait("Security", "9")]
    [Theory]
    [MemberData(nameof(PostAuthFrames))]
    public async Task Frame_NeedingLoginBeforeLogin_NotAuthenticatedAndClosed(string kind)
    {
        await using var server = await TestServer.StartAsync();
        var connection = await server.ConnectAsync();
        Frame frame = kind switch
        {
            "send" => new SendFrame(MessageId.NewRandom(), "bob", "hi"),
            "ack" => new SequenceFrame(FrameType.Ack, 0),
            "sync" => new SequenceFrame(FrameType.Sync, 0),
            "who" => EmptyFrame.Who,
            "logout" => EmptyFrame.Logout,
            "hello" => new HelloFrame(ProtocolVersion.Min, ProtocolVersion.Max, "again"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        await connection.WriteRawAsync(FrameCodec.Encode(frame));

        var closed = await connection.ClosedAsync();
        Assert.Equal(ErrorCode.NotAuthenticated, closed.Error?.Code);
    }

    [Trait("Security", "9")]
    [Fact]
    public async Task Send_BeforeLogin_FailsAndNotDelivered()
    {
        await using var server = await TestServer.StartAsync();
        var bob = UniqueNames.Next("bob");
        var (bobConnection, _) = await server.RegisterAsync(bob);
        var anonymous = await server.ConnectAsync();

        await Assert.ThrowsAsync<IOException>(() => anonymous.SendAsync(MessageId.NewRandom(), bob, "anonymous hello").WaitAsync(Events.Timeout));

        Assert.Equal(ErrorCode.NotAuthenticated, (await anonymous.ClosedAsync()).Error?.Code);
        Assert.Empty(await server.Store.ReadLogAsync(bob, 0, 100));
        Assert.Empty((await bobConnection.SyncAllAsync(0)).Messages);
    }

    [Trait("Security", "9")]
    [Fact]
    public async Task Ping_BeforeLogin_AllowedAndConnectionStaysUsable()
    {
        await using var server = await TestServer.StartAsync();
        var connection = await server.ConnectAsync();

        await connection.PingAsync(42);
        var auth = await connection.RegisterAsync(UniqueNames.Next("alice"), TestServer.Password, "phone").WaitAsync(Events.Timeout);

        Assert.False(string.IsNullOrEmpty(auth.User));
    }

    [Trait("Security", "5")]
    [Trait("Security", "9")]
    [Theory]
    [InlineData(0x8000_0000u)]
    [InlineData(0xFFFF_FFFFu)]
    [InlineData(4097u)]
    public async Task FrameHeader_OverPreAuthLimit_FrameTooLargeAndClosedOtherClientsUnaffected(uint declared)
    {
        await using var server = await TestServer.StartAsync();
        var (bystander, _) = await server.RegisterAsync(UniqueNames.Next("bystander"));
        var attacker = await server.ConnectAsync();

        // Only the header (and the type byte) is sent: the server must refuse from the length alone.
        var header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header, declared);
        header[4] = (byte)FrameType.Login;
        await attacker.WriteRawAsync(header);

        var closed = await attacker.ClosedAsync();
        Assert.Equal(ErrorCode.FrameTooLarge, closed.Error?.Code);
        var ok = await bystander.SendAsync(MessageId.NewRandom(), "echo", "still here").WaitAsync(Events.Timeout);
        Assert.True(ok.Sequence > 0);
    }

    [Trait("Security", "9")]
    [Fact]
    public async Task Frame_FullBodyOverFourKiBBeforeLogin_FrameTooLarge()
    {
        await using var server = await TestServer.StartAsync();
        var connection = await server.ConnectAsync();
        var password = new string('p', 1000);
        var frame = FrameCodec.Encode(new CredentialsFrame(FrameType.Login, new string('u', 256), password, new string('d', 256)));
        var padded = new byte[4 + 4097];
        BinaryPrimitives.WriteUInt32BigEndian(padded, 4097);
        frame.AsSpan(4).CopyTo(padded.AsSpan(4));

        await connection.WriteRawAsync(padded);

        Assert.Equal(ErrorCode.FrameTooLarge, (await connection.ClosedAsync()).Error?.Code);
    }

    [Trait("Security", "5")]
    [Trait("Security", "9")]
    [Fact]
    public async Task FrameHeader_OverOneMiBAfterLogin_FrameTooLargeAndClosed()
    {
        await using var server = await TestServer.StartAsync();
        var (connection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));
        var header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header, 1024 * 1024 + 1);
        header[4] = (byte)FrameType.Send;

        await connection.WriteRawAsync(header);

        Assert.Equal(ErrorCode.FrameTooLarge, (await connection.ClosedAsync()).Error?.Code);
    }

    [Trait("Security", "9")]
    [Fact]
    public async Task Frame_OverFourKiBAfterLogin_Accepted()
    {
        await using var server = await TestServer.StartAsync();
        var (connection, _) = await server.RegisterAsync(UniqueNames.Next("alice"));

        // The 4 KiB limit is for frames before AUTH_OK only.
        var ok = await connection.SendAsync(MessageId.NewRandom(), "echo", new string('x', 10_000)).WaitAsync(Events.Timeout);

        Assert.True(ok.Sequence > 0);
    }
}
