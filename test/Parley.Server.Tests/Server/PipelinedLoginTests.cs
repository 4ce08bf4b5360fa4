using System.Buffers;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Server;

/// <summary>
/// A reconnect sends HELLO, RESUME and SYNC in one write (protocol.md §5, "Pipelined login"), and the server answers
/// them in order: one round trip after TLS instead of three.
/// </summary>
public sealed class PipelinedLoginTests
{
    [Fact]
    public async Task ResumePipelined_WithSync_OneWriteThenAuthOkTheMissedMessagesAndSynced()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var bob = UniqueNames.Next("bob");
        var (aliceFirst, registered) = await server.RegisterAsync(alice, "phone");
        await aliceFirst.DisposeAsync();
        var (bobConnection, _) = await server.RegisterAsync(bob, "phone");
        await bobConnection.SendAsync(MessageId.NewRandom(), alice, "one").WaitAsync(Events.Timeout);
        await bobConnection.SendAsync(MessageId.NewRandom(), alice, "two").WaitAsync(Events.Timeout);

        WriteRecorder? recorder = null;
        var (connection, auth) = await server.ResumePipelinedAsync(alice, registered.Token, "phone", syncAfter: 0,
            stream => recorder = new WriteRecorder(stream));

        // The first write carried all three frames: had the client waited for WELCOME, RESUME would have come later.
        Assert.Equal([FrameType.Hello, FrameType.Resume, FrameType.Sync], recorder!.FramesOfFirstWrite());
        Assert.Equal((alice, "phone"), (auth.User, auth.Device));
        Assert.NotEqual(registered.Token, auth.Token);
        Assert.True(connection.SyncSent);
        Assert.Equal(["one", "two"], new[] { (await connection.NextMessageAsync()).Text, (await connection.NextMessageAsync()).Text });
        Assert.Equal(auth.Head, (await connection.NextAsync<SyncedEvent>()).Head);

        // The session goes on as any other: a live message, and the rotated token works for the next reconnect.
        await bobConnection.SendAsync(MessageId.NewRandom(), alice, "three").WaitAsync(Events.Timeout);
        Assert.Equal("three", (await connection.NextMessageAsync()).Text);
        await connection.DisposeAsync();
        var (again, _) = await server.ResumePipelinedAsync(alice, auth.Token, "phone", syncAfter: null);
        Assert.False(again.SyncSent);
        var (messages, head) = await again.SyncAllAsync(auth.Head);
        Assert.Equal(["three"], messages.Select(m => m.Text));
        Assert.Equal(auth.Head + 1, head);
    }

    [Fact]
    public async Task ResumePipelined_SpentToken_AuthFailedAndNothingDelivered()
    {
        await using var server = await TestServer.StartAsync();
        var alice = UniqueNames.Next("alice");
        var (first, registered) = await server.RegisterAsync(alice, "phone");
        await first.DisposeAsync();
        var (resumed, _) = await server.ResumePipelinedAsync(alice, registered.Token, "phone", syncAfter: 0);
        await resumed.DisposeAsync();

        // The token was used once already: AuthFailed answers the RESUME, and the SYNC behind it is refused with the
        // connection, so no entry of the log leaks to a client that did not log in.
        var error = await Assert.ThrowsAsync<ParleyErrorException>(() => server.ResumePipelinedAsync(alice, registered.Token, "phone", syncAfter: 0));
        Assert.Equal(ErrorCode.AuthFailed, error.Code);
    }

    /// <summary>Passes everything through and keeps a copy of the first write (the first flush of the client's pipe).</summary>
    private sealed class WriteRecorder(Stream inner) : Stream
    {
        private byte[]? _first;

        public FrameType[] FramesOfFirstWrite()
        {
            var rest = new ReadOnlySequence<byte>(_first ?? []);
            var types = new List<FrameType>();
            while (FrameCodec.TryRead(ref rest, ProtocolLimits.Default.MaxFrameLength, ProtocolLimits.Default, out var frame))
            {
                types.Add(frame!.Type);
            }

            Assert.True(rest.IsEmpty, "the first write ended inside a frame");
            return [.. types];
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count)
        {
            _first ??= buffer.AsSpan(offset, count).ToArray();
            inner.Write(buffer, offset, count);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _first ??= buffer.ToArray();
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
