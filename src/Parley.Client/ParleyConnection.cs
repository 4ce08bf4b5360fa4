using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Threading.Channels;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Client;

/// <summary>
/// One connection to a Parley server. Requests (login, send, who) may be issued from any thread and concurrently;
/// sends are pipelined and each completes when its SEND_OK arrives. Pushed frames come out of <see cref="Events"/>
/// in arrival order. When the connection ends every pending request fails and <see cref="Events"/> yields a
/// <see cref="ClosedEvent"/>. It does not reconnect by itself; <see cref="DeviceSession"/> does.
/// </summary>
public sealed class ParleyConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly PipeWriter _writer;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Channel<ServerEvent> _events = Channel.CreateUnbounded<ServerEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly ConcurrentDictionary<MessageId, TaskCompletionSource<SendOkFrame>> _pendingSends = new();
    private readonly ConcurrentQueue<TaskCompletionSource<WhoListFrame>> _pendingWho = new();
    private readonly ConcurrentQueue<TaskCompletionSource<HistoryPageFrame>> _pendingHistory = new();
    private readonly ProtocolLimits _limits;

    /// <summary>
    /// Frames about one file (UPLOAD_READY/DONE, FILE_INFO/CHUNK/END, ERROR with that id), by file id. Bounded: when the
    /// consumer is slower than the network the read loop waits, and TCP slows the server down.
    /// </summary>
    private readonly ConcurrentDictionary<MessageId, Channel<Frame>> _fileFrames = new();
    private TaskCompletionSource<Frame>? _pendingControl;

    /// <summary>
    /// The answer awaited after <see cref="_pendingControl"/>'s, when two requests went out in one write (HELLO and
    /// RESUME, <see cref="ConnectAndResumeAsync"/>). The read loop moves it up when the first answer arrives, so the
    /// second can never arrive before it is registered.
    /// </summary>
    private TaskCompletionSource<Frame>? _queuedControl;
    private Task _readLoop = Task.CompletedTask;
    private ErrorFrame? _closeError;

    /// <summary>
    /// Set by the read loop before it fails what is pending. A request registers itself, then writes, and the write
    /// refuses once this is set: so a request is either failed by the loop's sweep or refused by the write, never left
    /// waiting for an answer that cannot come (the read loop's task is not completed yet while it sweeps).
    /// </summary>
    private volatile IOException? _closed;
    private Timer? _keepAlive;
    private ulong _pingNonce;
    private int _disposed;
    private volatile bool _controlIsDirectoryRequest;

    /// <summary>
    /// How often an otherwise quiet connection sends PING. The server closes connections that send nothing for its
    /// idle timeout (150 s by default); a client that only receives still has to show it is alive.
    /// </summary>
    public static TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(60);

    private ParleyConnection(Stream stream, ProtocolLimits limits)
    {
        _stream = stream;
        _limits = limits;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
        _writer = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }

    /// <summary>Frames pushed by the server, in order, ending with one <see cref="ClosedEvent"/>.</summary>
    public ChannelReader<ServerEvent> Events => _events.Reader;

    /// <summary>Completes when the connection has ended.</summary>
    public Task Completion => _readLoop;

    /// <summary>The version agreed in WELCOME.</summary>
    public ushort Version { get; private set; }

    /// <summary>The TLS version negotiated, for diagnostics and tests.</summary>
    public SslProtocols TlsProtocol { get; private set; }

    /// <summary>
    /// Opens TCP, runs TLS with the server's key checked against <paramref name="trust"/> before any byte of ours is
    /// sent, then HELLO/WELCOME. A key that is unknown or changed throws <see cref="ServerIdentityException"/>.
    /// </summary>
    public static Task<ParleyConnection> ConnectAsync(ServerAddress address, ServerTrust trust, ProtocolLimits? limits = null,
        CancellationToken cancellationToken = default) =>
        ConnectCoreAsync(address, trust, limits, (connection, ct) => connection.HelloAsync(ProtocolVersion.Max, ct), cancellationToken);

    /// <summary>
    /// Like <see cref="ConnectAsync"/>, then logs in with a resume token in the same round trip: HELLO, RESUME and,
    /// with <paramref name="syncAfter"/>, SYNC go out in one write, and the server answers them in order (protocol.md
    /// §5, "Pipelined login"). A reconnect then costs TCP, TLS and one round trip instead of three. A refused token
    /// throws <see cref="ParleyErrorException"/> (AuthFailed) as <see cref="ResumeAsync"/> does; the server then closes
    /// the connection, since the SYNC behind it came before any login.
    /// </summary>
    public static async Task<(ParleyConnection Connection, AuthOkFrame Ok)> ConnectAndResumeAsync(ServerAddress address, ServerTrust trust,
        string user, byte[] token, string device, ulong? syncAfter, ProtocolLimits? limits = null, CancellationToken cancellationToken = default)
    {
        AuthOkFrame? ok = null;
        var connection = await ConnectCoreAsync(address, trust, limits,
            async (connection, ct) => ok = await connection.HelloAndResumeAsync(user, token, device, syncAfter, ct).ConfigureAwait(false),
            cancellationToken).ConfigureAwait(false);
        return (connection, ok!);
    }

    private static async Task<ParleyConnection> ConnectCoreAsync(ServerAddress address, ServerTrust trust, ProtocolLimits? limits,
        Func<ParleyConnection, CancellationToken, Task> start, CancellationToken cancellationToken)
    {
        var validator = trust.CreateValidator(address.ToString());
        var client = new TcpClient { NoDelay = true };
        SslStream? tls = null;
        ParleyConnection? connection = null;
        try
        {
            await client.ConnectAsync(address.Host, address.Port, cancellationToken).ConfigureAwait(false);
            tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
            try
            {
                await tls.AuthenticateAsClientAsync(validator.CreateClientOptions(address.Host), cancellationToken).ConfigureAwait(false);
            }
            catch (AuthenticationException) when (validator.LastDecision is { } decision and not (Security.PinDecision.Trusted or Security.PinDecision.AcceptedNew))
            {
                throw new ServerIdentityException(decision, address.ToString(), validator.PresentedFingerprint,
                    trust.KnownServers?.Lookup(address.ToString()) ?? trust.Fingerprint);
            }

            // A reconnect may resume a TLS session (security.md 2): the pin must hold for it too, even on a runtime
            // that would not call the validation callback for a resumed session.
            if (!validator.ConfirmPinned(tls))
            {
                throw new ServerIdentityException(validator.LastDecision ?? Security.PinDecision.Changed, address.ToString(),
                    validator.PresentedFingerprint, trust.KnownServers?.Lookup(address.ToString()) ?? trust.Fingerprint);
            }

            connection = new ParleyConnection(tls, limits ?? ProtocolLimits.Default) { TlsProtocol = tls.SslProtocol };
            await start(connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            // A failed HELLO (or login) must not leave the read loop or the keep-alive timer behind (one per failed attempt).
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            else if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }

            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// <see cref="ConnectAndResumeAsync"/> over an existing stream (in-memory tests; no TLS): HELLO, RESUME and SYNC
    /// in one write.
    /// </summary>
    public static async Task<(ParleyConnection Connection, AuthOkFrame Ok)> ResumeOverStreamAsync(Stream stream, string user, byte[] token,
        string device, ulong? syncAfter, ProtocolLimits? limits = null, CancellationToken cancellationToken = default)
    {
        var connection = new ParleyConnection(stream, limits ?? ProtocolLimits.Default);
        try
        {
            return (connection, await connection.HelloAndResumeAsync(user, token, device, syncAfter, cancellationToken).ConfigureAwait(false));
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs the protocol over an existing stream (in-memory tests; no TLS), offering versions up to
    /// <paramref name="maxVersion"/> (tests of what an older client sees offer 1).
    /// </summary>
    public static async Task<ParleyConnection> OverStreamAsync(Stream stream, ProtocolLimits? limits = null, ushort maxVersion = ProtocolVersion.Max,
        CancellationToken cancellationToken = default)
    {
        var connection = new ParleyConnection(stream, limits ?? ProtocolLimits.Default);
        try
        {
            await connection.HelloAsync(maxVersion, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return connection;
    }

    public Task<AuthOkFrame> RegisterAsync(string user, string password, string device, CancellationToken cancellationToken = default) =>
        AuthenticateAsync(new CredentialsFrame(FrameType.Register, user, password, device), cancellationToken);

    public Task<AuthOkFrame> LoginAsync(string user, string password, string device, CancellationToken cancellationToken = default) =>
        AuthenticateAsync(new CredentialsFrame(FrameType.Login, user, password, device), cancellationToken);

    /// <summary>
    /// Changes the account's password (logged in only). Every token of the user is revoked and their other sessions
    /// closed; the returned AUTH_OK carries this device's new token.
    /// </summary>
    public Task<AuthOkFrame> ChangePasswordAsync(string current, string replacement, CancellationToken cancellationToken = default) =>
        AuthenticateAsync(new ChangePasswordFrame(current, replacement), cancellationToken);

    public Task<AuthOkFrame> ResumeAsync(string user, byte[] token, string device, CancellationToken cancellationToken = default) =>
        AuthenticateAsync(new ResumeFrame(user, token, device), cancellationToken);

    /// <summary>
    /// Sends a message and completes when the server has stored it durably. Throws <see cref="ParleyErrorException"/>
    /// when the server refuses it (unknown user, queue full, id reused), <see cref="IOException"/> when the
    /// connection ends first (then the message may or may not be stored: send it again with the same id).
    /// </summary>
    public async Task<SendOkFrame> SendAsync(MessageId id, string to, string text, CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<SendOkFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pendingSends.TryAdd(id, completion))
        {
            throw new InvalidOperationException($"message {id} is already being sent on this connection");
        }

        try
        {
            await WriteAsync(new SendFrame(id, to, text), cancellationToken).ConfigureAwait(false);
            return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pendingSends.TryRemove(id, out _);
        }
    }

    /// <summary>Asks for every log entry after <paramref name="after"/>; they arrive as events, then a <see cref="SyncedEvent"/>.</summary>
    public Task SyncAsync(ulong after, CancellationToken cancellationToken = default)
    {
        SyncSent = true;
        return WriteAsync(new SequenceFrame(FrameType.Sync, after), cancellationToken);
    }

    /// <summary>Whether this connection has sent its SYNC (a session sends one; <see cref="ConnectAndResumeAsync"/> may have).</summary>
    public bool SyncSent { get; private set; }

    /// <summary>Tells the server this device has everything up to <paramref name="upTo"/>.</summary>
    public Task AckAsync(ulong upTo, CancellationToken cancellationToken = default) =>
        WriteAsync(new SequenceFrame(FrameType.Ack, upTo), cancellationToken);

    /// <summary>
    /// Starts (or, with <paramref name="add"/> false, stops) following the presence of <paramref name="users"/>: the
    /// server answers an add with a PRESENCE per user giving their state now, then pushes their changes (§5.6).
    /// Sent as one WATCH frame per <see cref="WatchFrame.MaxUsers"/> users.
    /// </summary>
    public async Task WatchAsync(IEnumerable<string> users, bool add = true, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(users);
        var names = users.ToList();
        if (names.Find(user => !Names.TryNormalizeRecipient(user, out _)) is { } bad)
        {
            throw new ArgumentException($"'{bad}' is not a user name", nameof(users));
        }

        foreach (var chunk in names.Chunk(WatchFrame.MaxUsers))
        {
            await WriteAsync(new WatchFrame(add, chunk), cancellationToken).ConfigureAwait(false);
        }
    }

    public async Task<IReadOnlyList<OnlineUser>> WhoAsync(CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<WhoListFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingWho.Enqueue(completion);
        await WriteAsync(EmptyFrame.Who, cancellationToken).ConfigureAwait(false);
        var list = await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return list.Users;
    }

    /// <summary>
    /// Up to <paramref name="max"/> entries of the user's log below <paramref name="before"/> (0: from the end), oldest
    /// first, only the conversation with <paramref name="peer"/> when given. History is not acknowledged.
    /// </summary>
    public async Task<IReadOnlyList<DeliverFrame>> HistoryAsync(ulong before, int max, string? peer = null, CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<HistoryPageFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingHistory.Enqueue(completion);
        await WriteAsync(new HistoryFrame(before, (ushort)Math.Clamp(max, 0, HistoryFrame.MaxEntries), peer ?? string.Empty), cancellationToken).ConfigureAwait(false);
        var page = await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        return page.Entries;
    }

    /// <summary>
    /// Starts receiving the frames about file <paramref name="fileId"/> (see <see cref="Files.FileUploader"/>,
    /// <see cref="Files.FileDownloader"/>); dispose the result to stop. One transfer per file id at a time.
    /// </summary>
    public FileFrameStream OpenFileStream(MessageId fileId)
    {
        var channel = Channel.CreateBounded<Frame>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
        if (!_fileFrames.TryAdd(fileId, channel))
        {
            throw new InvalidOperationException($"file {fileId} is already being transferred on this connection");
        }

        if (_readLoop.IsCompleted)
        {
            channel.Writer.TryComplete(new IOException("the connection is closed"));
        }

        return new FileFrameStream(channel.Reader, () => _fileFrames.TryRemove(fileId, out _));
    }

    /// <summary>Sends a file-transfer frame (UPLOAD_START, UPLOAD_CHUNK, DOWNLOAD).</summary>
    public Task SendFileFrameAsync(Frame frame, CancellationToken cancellationToken = default) => WriteAsync(frame, cancellationToken);

    /// <summary>
    /// Puts this device in the server's P2P directory (logged in only) with the endpoint it accepts direct links on
    /// ("" to only dial out) and its device-key fingerprint; the answer carries the heartbeat secret and interval.
    /// </summary>
    public async Task<DirectoryRegisteredFrame> RegisterInDirectoryAsync(string user, string device, string endpoint, byte[] fingerprint,
        CancellationToken cancellationToken = default) =>
        (DirectoryRegisteredFrame)await RequestAsync(new DirectoryRegisterFrame(user, device, endpoint, fingerprint), cancellationToken).ConfigureAwait(false);

    /// <summary>The live directory entries of <paramref name="user"/> (logged in only).</summary>
    public async Task<PeersFrame> LookupAsync(string user, CancellationToken cancellationToken = default) =>
        (PeersFrame)await RequestAsync(new LookupFrame(user), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Keeps a directory entry alive; allowed without logging in (the secret is the credential). Before login the
    /// server closes the connection once it has answered.
    /// </summary>
    public async Task<HeartbeatOkFrame> HeartbeatAsync(string user, string device, byte[] secret, CancellationToken cancellationToken = default) =>
        (HeartbeatOkFrame)await RequestAsync(new HeartbeatFrame(user, device, secret), cancellationToken).ConfigureAwait(false);

    public Task PingAsync(ulong nonce, CancellationToken cancellationToken = default) =>
        WriteAsync(new SequenceFrame(FrameType.Ping, nonce), cancellationToken);

    /// <summary>Revokes this device's resume token on the server and closes.</summary>
    public async Task LogoutAsync(CancellationToken cancellationToken = default)
    {
        await WriteAsync(EmptyFrame.Logout, cancellationToken).ConfigureAwait(false);
        await Completion.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes raw bytes (tests of hostile input only).</summary>
    public async Task WriteRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _writer.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Idempotent: a connection may be disposed by its user and again by the session that made it.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        if (_keepAlive is not null)
        {
            await _keepAlive.DisposeAsync().ConfigureAwait(false);
        }

        await _lifetime.CancelAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _readLoop.ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or ObjectDisposedException)
        {
        }

        _writeLock.Dispose();
        _lifetime.Dispose();
    }

    private async Task HelloAsync(ushort maxVersion, CancellationToken cancellationToken)
    {
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
        _keepAlive = new Timer(_ => _ = KeepAliveAsync(), null, KeepAliveInterval, KeepAliveInterval);
        var reply = await RequestAsync(new HelloFrame(ProtocolVersion.Min, maxVersion, "parley-dotnet"), cancellationToken).ConfigureAwait(false);
        Version = ((WelcomeFrame)reply).Version;
    }

    /// <summary>
    /// HELLO, RESUME and optionally SYNC in one write; WELCOME is awaited as the first answer and AUTH_OK as the second
    /// (<see cref="_queuedControl"/>). SYNC's own answers (DELIVERs, SYNCED) arrive as events, as after
    /// <see cref="SyncAsync"/>.
    /// </summary>
    private async Task<AuthOkFrame> HelloAndResumeAsync(string user, byte[] token, string device, ulong? syncAfter, CancellationToken cancellationToken)
    {
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
        var welcome = new TaskCompletionSource<Frame>(TaskCreationOptions.RunContinuationsAsynchronously);
        var authenticated = new TaskCompletionSource<Frame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _queuedControl = authenticated; // before the write: the read loop must find it when WELCOME arrives
        _controlIsDirectoryRequest = false;
        Volatile.Write(ref _pendingControl, welcome);
        try
        {
            List<Frame> frames = [new HelloFrame(ProtocolVersion.Min, ProtocolVersion.Max, "parley-dotnet"), new ResumeFrame(user, token, device)];
            if (syncAfter is { } after)
            {
                frames.Add(new SequenceFrame(FrameType.Sync, after));
                SyncSent = true;
            }

            await WriteAsync(frames, cancellationToken).ConfigureAwait(false);
            Version = ((WelcomeFrame)await welcome.Task.WaitAsync(cancellationToken).ConfigureAwait(false)).Version;
            _keepAlive = new Timer(_ => _ = KeepAliveAsync(), null, KeepAliveInterval, KeepAliveInterval);
            return (AuthOkFrame)await authenticated.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.CompareExchange(ref _queuedControl, null, authenticated);
            Interlocked.CompareExchange(ref _pendingControl, null, welcome);
            Interlocked.CompareExchange(ref _pendingControl, null, authenticated);
        }
    }

    /// <summary>Completes the awaited control answer and moves the queued one up (read loop only).</summary>
    private void AnswerControl(Frame? answer, Exception? error)
    {
        var current = _pendingControl;
        if (current is null)
        {
            return;
        }

        Interlocked.CompareExchange(ref _pendingControl, Interlocked.Exchange(ref _queuedControl, null), current);
        if (error is null)
        {
            current.TrySetResult(answer!);
        }
        else
        {
            current.TrySetException(error);
        }
    }

    private async Task KeepAliveAsync()
    {
        try
        {
            await PingAsync(Interlocked.Increment(ref _pingNonce)).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // the read loop reports the closed connection
        }
    }

    private async Task<AuthOkFrame> AuthenticateAsync(Frame request, CancellationToken cancellationToken) =>
        (AuthOkFrame)await RequestAsync(request, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// One control request at a time (HELLO, login, directory requests): its answer is the next WELCOME, AUTH_OK,
    /// DIRECTORY_REGISTERED, PEERS or HEARTBEAT_OK, or an id-less ERROR.
    /// </summary>
    private async Task<Frame> RequestAsync(Frame request, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<Frame>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (Interlocked.CompareExchange(ref _pendingControl, completion, null) is not null)
        {
            throw new InvalidOperationException("another login or hello is in progress");
        }

        _controlIsDirectoryRequest = request is DirectoryRegisterFrame or LookupFrame or HeartbeatFrame;
        try
        {
            await WriteAsync(request, cancellationToken).ConfigureAwait(false);
            return await completion.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.CompareExchange(ref _pendingControl, null, completion);
        }
    }

    private Task WriteAsync(Frame frame, CancellationToken cancellationToken) => WriteAsync([frame], cancellationToken);

    /// <summary>Writes <paramref name="frames"/> with one flush: one TLS record and one send when they fit.</summary>
    private async Task WriteAsync(IReadOnlyList<Frame> frames, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_closed is not null || _readLoop.IsCompleted)
            {
                throw new IOException("the connection is closed", _closeError is null ? null : new ParleyErrorException(_closeError.Code, _closeError.Message));
            }

            foreach (var frame in frames)
            {
                FrameCodec.Write(_writer, frame, _limits.MaxFrameLength);
            }

            var flush = await _writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (flush.IsCompleted)
            {
                throw new IOException("the connection is closed");
            }
        }
        catch (ObjectDisposedException exception)
        {
            throw new IOException("the connection is closed", exception);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync(_lifetime.Token).ConfigureAwait(false);
                var buffer = result.Buffer;
                try
                {
                    while (FrameCodec.TryRead(ref buffer, _limits.MaxFrameLength, _limits, out var frame))
                    {
                        if (FileChannelFor(frame!) is { } files)
                        {
                            await files.Writer.WriteAsync(frame!, _lifetime.Token).ConfigureAwait(false);
                        }
                        else if (!IsFileFrame(frame!))
                        {
                            Dispatch(frame!);
                        }
                    }
                }
                finally
                {
                    _reader.AdvanceTo(buffer.Start, buffer.End);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            failure = exception;
        }
        finally
        {
            var closed = new IOException(_closeError is null ? "connection closed" : $"server closed the connection: {_closeError.Message}",
                _closeError is null ? failure : new ParleyErrorException(_closeError.Code, _closeError.Message));
            _closed = closed;
            var controlError = _closeError is null ? (Exception)closed : new ParleyErrorException(_closeError.Code, _closeError.Message);
            _pendingControl?.TrySetException(controlError);
            _queuedControl?.TrySetException(controlError);
            foreach (var pending in _pendingSends.Values)
            {
                pending.TrySetException(closed);
            }

            while (_pendingWho.TryDequeue(out var who))
            {
                who.TrySetException(closed);
            }

            while (_pendingHistory.TryDequeue(out var history))
            {
                history.TrySetException(closed);
            }

            foreach (var files in _fileFrames.Values)
            {
                files.Writer.TryComplete(closed);
            }

            _events.Writer.TryWrite(new ClosedEvent(_closeError, failure));
            _events.Writer.TryComplete();
            await _reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private void Dispatch(Frame frame)
    {
        switch (frame)
        {
            case DeliverFrame deliver:
                _events.Writer.TryWrite(new MessageEvent(deliver));
                break;
            case DeliverFileFrame offer:
                _events.Writer.TryWrite(new MessageEvent(offer.AsMessage(), offer.Offer));
                break;
            case SendOkFrame ok:
                if (_pendingSends.TryGetValue(ok.Id, out var send))
                {
                    send.TrySetResult(ok);
                }

                break;
            case ErrorFrame error when !error.Id.IsNone:
                if (_pendingSends.TryGetValue(error.Id, out var failed))
                {
                    failed.TrySetException(new ParleyErrorException(error.Code, error.Message));
                }

                break;
            case ErrorFrame error:
                // An id-less error answers the pending login, or announces why the server is closing.
                // Malformed answers a directory request (a bad endpoint) without closing; otherwise it is a closing error.
                if (_pendingControl is not null && (IsAuthAnswer(error.Code) || (error.Code == ErrorCode.Malformed && _controlIsDirectoryRequest)))
                {
                    AnswerControl(null, new ParleyErrorException(error.Code, error.Message));
                }
                else if (error.Code is ErrorCode.TooManyWatched || (error.Code is ErrorCode.BadId && _pendingControl is null))
                {
                    // A refused WATCH: the connection stays open, so this is no reason for a close.
                    _events.Writer.TryWrite(new RefusedEvent(error.Code, error.Message));
                }
                else
                {
                    _closeError = error;
                }

                break;
            case WelcomeFrame or AuthOkFrame or DirectoryRegisteredFrame or PeersFrame or HeartbeatOkFrame:
                AnswerControl(frame, null);
                break;
            case WhoListFrame who:
                if (_pendingWho.TryDequeue(out var pendingWho))
                {
                    pendingWho.TrySetResult(who);
                }

                break;
            case HistoryPageFrame page:
                if (_pendingHistory.TryDequeue(out var pendingHistory))
                {
                    pendingHistory.TrySetResult(page);
                }

                break;
            case PresenceFrame presence:
                _events.Writer.TryWrite(new PresenceEvent(presence.User, presence.Online));
                break;
            case ReceiptFrame receipt:
                _events.Writer.TryWrite(new ReceiptEvent(receipt.Peer, receipt.UpTo));
                break;
            case SequenceFrame { Kind: FrameType.Synced } synced:
                _events.Writer.TryWrite(new SyncedEvent(synced.Value));
                break;
            case SequenceFrame { Kind: FrameType.Ping } ping:
                _ = WriteAsync(new SequenceFrame(FrameType.Pong, ping.Value), CancellationToken.None);
                break;
            case SequenceFrame { Kind: FrameType.Pong }:
                break;
            default:
                throw new ProtocolException(ErrorCode.ProtocolError, $"unexpected {frame.Type} from the server");
        }
    }

    private Channel<Frame>? FileChannelFor(Frame frame)
    {
        var id = frame switch
        {
            FileOffsetFrame offset => offset.FileId,
            FileChunkFrame chunk => chunk.FileId,
            UploadDoneFrame done => done.FileId,
            FileInfoFrame info => info.FileId,
            ErrorFrame { Id.IsNone: false } error => error.Id,
            _ => MessageId.None,
        };
        return !id.IsNone && _fileFrames.TryGetValue(id, out var channel) ? channel : null;
    }

    /// <summary>File frames nobody waits for any more (a cancelled transfer) are dropped.</summary>
    private static bool IsFileFrame(Frame frame) => frame is FileOffsetFrame or FileChunkFrame or UploadDoneFrame or FileInfoFrame;

    private static bool IsAuthAnswer(ErrorCode code) => code is ErrorCode.AuthFailed or ErrorCode.Throttled or ErrorCode.UserExists
        or ErrorCode.RegistrationClosed or ErrorCode.WeakPassword or ErrorCode.BadId or ErrorCode.UnsupportedVersion or ErrorCode.TooManySessions or ErrorCode.Timeout
        or ErrorCode.NotYourDevice or ErrorCode.UnknownDevice;
}
