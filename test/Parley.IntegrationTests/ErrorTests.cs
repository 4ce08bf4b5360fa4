using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Security;

namespace Parley.IntegrationTests;

/// <summary>Bad input gets one clear line and a non-zero exit code, and the server keeps serving everyone else.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Trait("Security", "15")]
    [Fact]
    public async Task Login_WrongPasswordOrUnknownUser_SameClearErrorAndServerKeepsServing()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        await Accounts.RegisterAsync(server, alice, "alice");

        var wrong = await Parley.As(_dir.Sub("x1"), "not the password\n", "login", "--server", server.Address, "--user", "alice", "--password-stdin", "--accept-new-server-key");
        var unknown = await Parley.As(_dir.Sub("x2"), "whatever123\n", "login", "--server", server.Address, "--user", "nosuchuser", "--password-stdin", "--accept-new-server-key");

        Assert.Equal(1, wrong.ExitCode);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("parley: login failed: wrong user name or password", wrong.Stderr.Trim());
        Assert.Equal(wrong.Stderr, unknown.Stderr);
        Assert.DoesNotContain("   at ", wrong.Stderr, StringComparison.Ordinal); // no stack trace
        Assert.Equal(0, (await Parley.As(alice, null, "send", "echo", "still here")).ExitCode);
    }

    [Fact]
    public async Task Send_UnknownRecipient_ClearErrorAndNonZeroExit()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        await Accounts.RegisterAsync(server, alice, "alice");

        var result = await Parley.As(alice, null, "send", "nobody", "hello?");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("parley: unknown user: there is no user nobody", result.Stderr.Trim());
    }

    [Fact]
    public async Task Send_NotLoggedIn_TellsHowToLogIn()
    {
        var result = await Parley.As(_dir.Sub("nobody"), null, "send", "bob", "hi");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("parley login", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Send_ServerDown_GivesUpAfterTimeoutWithNonZeroExit()
    {
        var alice = _dir.Sub("alice");
        await using (var server = await ServerProcess.StartAsync(_dir.Sub("data")))
        {
            await Accounts.RegisterAsync(server, alice, "alice");
        }

        var result = await Parley.As(alice, null, "send", "--timeout", "2", "echo", "anyone?");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no acknowledgement", result.Stderr, StringComparison.Ordinal);
    }

    [Trait("Security", "5")]
    [Theory]
    [InlineData(0x80000000u)]
    [InlineData(0xFFFFFFFFu)]
    public async Task Frame_Declaring2GiB_RefusedWithFrameTooLargeAndOthersUnaffected(uint declared)
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var alice = _dir.Sub("alice");
        await Accounts.RegisterAsync(server, alice, "alice");

        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.Port);
        await using var tls = new SslStream(tcp.GetStream());
        await tls.AuthenticateAsClientAsync(new ServerPinValidator(server.Fingerprint).CreateClientOptions("127.0.0.1"));
        var header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header, declared);
        header[4] = (byte)FrameType.Hello;
        await tls.WriteAsync(header);
        await tls.FlushAsync();

        var reply = await ReadAllAsync(tls);
        var buffer = new System.Buffers.ReadOnlySequence<byte>(reply);
        Assert.True(FrameCodec.TryRead(ref buffer, 1 << 20, ProtocolLimits.Default, out var frame));
        Assert.Equal(ErrorCode.FrameTooLarge, Assert.IsType<ErrorFrame>(frame).Code);
        Assert.Equal(0, (await Parley.As(alice, null, "send", "echo", "still serving")).ExitCode);
    }

    [Trait("Security", "1")]
    [Fact]
    public async Task Plaintext_HelloWithoutTls_NeverAnsweredInProtocolAndClosed()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));

        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", server.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(FrameCodec.Encode(new HelloFrame(1, 1, "plain")));

        var reply = await ReadAllAsync(stream);
        // Whatever comes back is TLS (an alert, record type 0x15) or nothing: never a Parley WELCOME.
        Assert.True(reply.Length == 0 || reply[0] == 0x15, $"first byte 0x{(reply.Length > 0 ? reply[0] : 0):x2}");
    }

    /// <summary>Reads until the server closes the connection (bounded by the test timeout).</summary>
    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        using var collected = new MemoryStream();
        var chunk = new byte[4096];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(chunk, deadline.Token)) > 0)
            {
                collected.Write(chunk, 0, read);
            }
        }
        catch (IOException)
        {
            // a reset after the error frame is a close too
        }

        return collected.ToArray();
    }

    public void Dispose() => _dir.Dispose();
}
