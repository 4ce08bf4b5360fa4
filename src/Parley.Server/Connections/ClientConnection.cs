using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Server.Accounts;
using Parley.Server.P2P;
using Parley.Server.Sessions;
using Parley.Storage;

namespace Parley.Server.Connections;

/// <summary>
/// One client connection: the transport, its read loop and write loop, and the protocol state before and after login.
/// The read loop decodes and dispatches frames in order; every outbound frame goes through one queue drained by the
/// write loop, so frames never interleave and writes are batched into few flushes. Anything that goes wrong costs
/// this connection only: an ERROR frame when possible, then close.
/// </summary>
internal sealed class ClientConnection
{
    /// <summary>Failed REGISTER/LOGIN/RESUME attempts one connection may make before it is closed.</summary>
    private const int MaxAuthAttempts = 3;
    private const int FlushThreshold = 64 * 1024;
    private static long s_nextId;

    private readonly ConnectionServices _services;
    private readonly Stream _stream;
    private readonly string _address;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly Channel<Frame> _outbound = Channel.CreateUnbounded<Frame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _deliveryCredits;
    private readonly SemaphoreSlim _inFlightSends;
    private readonly InboundRateLimiter _rateLimiter;
    // Created at the first file frame: most connections never transfer a file, and an idle one should cost little.
    private Files.FileTransfers? _files;

    /// <summary>
    /// The decoder lets text run to the frame limit, so that an over-long message is refused by
    /// <see cref="HandleSendAsync"/> with its id, keeping the connection, rather than closing it.
    /// </summary>
    private readonly ProtocolLimits _decodeLimits;
    private ITimer? _idleTimer;
    private ITimer? _loginTimer; // disposed at login: a logged-in connection should not keep it
    private Session? _session;
    private bool _welcomed;
    private ushort _version;
    private int _authFailures;
    private int _closing;
    private string _closeReason = "client closed the connection";

    public ClientConnection(ConnectionServices services, Stream stream, string address)
    {
        _services = services;
        _stream = stream;
        _address = address;
        _deliveryCredits = new SemaphoreSlim(services.Options.MaxQueuedDeliveriesPerConnection);
        _inFlightSends = new SemaphoreSlim(services.Options.MaxInFlightSendsPerConnection);
        _rateLimiter = new InboundRateLimiter(services.Options);
        _decodeLimits = services.Options.Limits with { MaxTextBytes = services.Options.Limits.MaxFrameLength };
        Id = Interlocked.Increment(ref s_nextId);
    }

    public long Id { get; }

    /// <summary>The protocol version WELCOME chose (0 before HELLO).</summary>
    public ushort Version => _version;

    private ServerOptions Options => _services.Options;

    /// <summary>Runs the connection until either side closes it. Never throws.</summary>
    public async Task RunAsync()
    {
        Log.ConnectionOpened(_services.Logger, Id, _address);
        // Zero-byte reads: an idle connection waits for data without holding a read buffer (SslStream, too, returns
        // its buffer while waiting), which is most of what an idle logged-in connection would otherwise cost.
        var reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true, useZeroByteReads: true));
        var writer = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        var writeLoop = WriteLoopAsync(writer);
        _loginTimer = Options.Time.CreateTimer(
            _ => { if (Volatile.Read(ref _session) is null) { Abort(ErrorCode.Timeout, "login took too long"); } },
            null, Options.LoginTimeout, Timeout.InfiniteTimeSpan);
        _idleTimer = Options.Time.CreateTimer(_ => Abort(ErrorCode.Timeout, "idle for too long"), null, Options.IdleTimeout, Timeout.InfiniteTimeSpan);
        try
        {
            await ReadLoopAsync(reader).ConfigureAwait(false);
        }
        catch (ProtocolException exception)
        {
            Log.ProtocolViolation(_services.Logger, Id, exception.Code, exception.Message);
            Abort(exception.Code, exception.Message);
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
        }
        catch (Exception exception) when (IsTransportFailure(exception))
        {
            Abort(ErrorCode.None, "connection lost");
        }
        catch (Exception exception)
        {
            Log.ConnectionFailed(_services.Logger, Id, exception);
            Abort(ErrorCode.InternalError, "internal error", exception);
        }
        finally
        {
            await _idleTimer.DisposeAsync().ConfigureAwait(false);
            _loginTimer?.Dispose();
            await _rateLimiter.DisposeAsync().ConfigureAwait(false);
            _files?.Dispose();
            if (_session is not null)
            {
                _services.Registry.Remove(_session);
                _session.Stop();
            }

            _outbound.Writer.TryComplete();
            try
            {
                // Let a final ERROR frame reach the client, but never wait long for a client that does not read.
                await writeLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }

            await _lifetime.CancelAsync().ConfigureAwait(false);
            try
            {
                await reader.CompleteAsync().ConfigureAwait(false);
                await writer.CompleteAsync().ConfigureAwait(false); // flushes: fails if the client is already gone
            }
            catch (Exception exception) when (IsTransportFailure(exception))
            {
            }
            finally
            {
                try
                {
                    await _stream.DisposeAsync().ConfigureAwait(false);
                }
                catch (Exception exception) when (IsTransportFailure(exception))
                {
                }
            }

            _services.Limiter.Closed(_address, wasAuthenticated: _session is not null);
            // _lifetime is not disposed: timers and the delivery loop may still touch it; it holds nothing to free.
            Log.ConnectionClosed(_services.Logger, Id, _closeReason);
        }
    }

    /// <summary>Queues a frame for the client; dropped silently when the connection is closing.</summary>
    public void Send(Frame frame) => _outbound.Writer.TryWrite(frame);

    /// <summary>
    /// Queues a delivery, waiting while the client has <see cref="ServerOptions.MaxQueuedDeliveriesPerConnection"/>
    /// unwritten. False when the connection is closing, or when the client has not read for
    /// <see cref="ServerOptions.WriteTimeout"/>: then it is closed as a slow consumer (the entries stay in the log).
    /// </summary>
    public async ValueTask<bool> QueueDeliveryAsync(Frame frame, CancellationToken cancellationToken)
    {
        if (!_deliveryCredits.Wait(0) &&
            !await _deliveryCredits.WaitAsync(Options.WriteTimeout, cancellationToken).ConfigureAwait(false))
        {
            if (_session is { } session)
            {
                Log.SlowConsumer(_services.Logger, session.User, session.Device);
            }

            Abort(ErrorCode.SlowConsumer, "you are not reading fast enough; reconnect to resume");
            return false;
        }

        if (!_outbound.Writer.TryWrite(frame))
        {
            _deliveryCredits.Release();
            return false;
        }

        return true;
    }

    /// <summary>
    /// Queues a delivery only if a delivery credit is free now (<see cref="Session"/>'s direct path, on the store's
    /// writer thread, which must not wait). False when none is free or the connection is closing.
    /// </summary>
    public bool TryQueueDelivery(Frame frame)
    {
        if (!_deliveryCredits.Wait(0))
        {
            return false;
        }

        if (!_outbound.Writer.TryWrite(frame))
        {
            _deliveryCredits.Release();
            return false;
        }

        return true;
    }

    /// <summary>
    /// Closes the connection: sends ERROR <paramref name="code"/> (unless None), lets it flush, then stops both loops.
    /// Safe to call from any thread, any number of times.
    /// </summary>
    public void Abort(ErrorCode code, string reason, Exception? exception = null)
    {
        if (Interlocked.Exchange(ref _closing, 1) == 1)
        {
            return;
        }

        _closeReason = exception is null ? $"{code}: {reason}" : $"{code}: {reason} ({exception.GetType().Name})";
        if (code != ErrorCode.None)
        {
            _outbound.Writer.TryWrite(new ErrorFrame(code, MessageId.None, reason));
        }

        _outbound.Writer.TryComplete();
        try
        {
            // The write loop cancels at once once it has flushed; this is the bound for a client that stopped reading.
            _lifetime.CancelAfter(TimeSpan.FromSeconds(2));
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private async Task ReadLoopAsync(PipeReader reader)
    {
        var token = _lifetime.Token;
        while (true)
        {
            var result = await reader.ReadAsync(token).ConfigureAwait(false);
            var buffer = result.Buffer;
            try
            {
                while (Volatile.Read(ref _closing) == 0)
                {
                    var limit = _session is null ? Options.Limits.MaxPreAuthFrameLength : Options.Limits.MaxFrameLength;
                    var before = buffer.Length;
                    if (!FrameCodec.TryRead(ref buffer, limit, _decodeLimits, out var frame))
                    {
                        break;
                    }

                    _idleTimer?.Change(Options.IdleTimeout, Timeout.InfiniteTimeSpan);
                    // File chunks are not chat traffic: at 64 KiB/s a 200 MiB upload would take an hour. Their volume is
                    // bounded by the file size limit and quota instead, and their pace by TCP and the disk.
                    if (_session is not null && frame is not SequenceFrame { Kind: FrameType.Ack or FrameType.Pong } and not FileChunkFrame)
                    {
                        await _rateLimiter.AcquireAsync((int)(before - buffer.Length), morePending: !buffer.IsEmpty, token).ConfigureAwait(false);
                    }

                    await HandleAsync(frame!).ConfigureAwait(false);
                }
            }
            finally
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCompleted || Volatile.Read(ref _closing) == 1)
            {
                return;
            }
        }
    }

    private async Task WriteLoopAsync(PipeWriter writer)
    {
        var reader = _outbound.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_lifetime.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    FrameCodec.Write(writer, frame, int.MaxValue);
                    if (frame is DeliverFrame or DeliverFileFrame)
                    {
                        _deliveryCredits.Release();
                        _services.Metrics.MessagesOut.Add(1);
                    }
                    else if (frame is FileChunkFrame chunk)
                    {
                        chunk.ReturnBuffer(); // its bytes are in the pipe now
                        Volatile.Read(ref _files)?.ChunkWritten();
                    }

                    if (writer.UnflushedBytes >= FlushThreshold)
                    {
                        await FlushAsync(writer).ConfigureAwait(false);
                    }
                }

                await FlushAsync(writer).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException || IsTransportFailure(exception))
        {
        }
        catch (TimeoutException)
        {
            if (_session is { } session)
            {
                Log.SlowConsumer(_services.Logger, session.User, session.Device);
            }

            Abort(ErrorCode.SlowConsumer, "write timed out");
        }
        finally
        {
            // Once the last frame is out (or cannot go out), stop the read loop too.
            try
            {
                _lifetime.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async ValueTask FlushAsync(PipeWriter writer)
    {
        var flush = writer.FlushAsync(_lifetime.Token);
        if (!flush.IsCompleted)
        {
            // A client that does not read stalls here; the deadline makes it a slow consumer instead of a leak.
            await flush.AsTask().WaitAsync(Options.WriteTimeout, Options.Time, _lifetime.Token).ConfigureAwait(false);
        }
    }

    private ValueTask HandleAsync(Frame frame)
    {
        if (!_welcomed)
        {
            if (frame is not HelloFrame hello)
            {
                throw new ProtocolException(ErrorCode.ProtocolError, "the first frame must be HELLO");
            }

            Welcome(hello);
            return ValueTask.CompletedTask;
        }

        var session = _session;
        if (session is null)
        {
            return frame switch
            {
                CredentialsFrame { Kind: FrameType.Register } register => new ValueTask(AuthenticateAsync(register.User, ct => _services.Authenticator.RegisterAsync(register, _address, ct))),
                CredentialsFrame { Kind: FrameType.Login } login => new ValueTask(AuthenticateAsync(login.User, ct => _services.Authenticator.LoginAsync(login, _address, ct))),
                ResumeFrame resume => new ValueTask(AuthenticateAsync(resume.User, ct => _services.Authenticator.ResumeAsync(resume, _address, ct))),
                SequenceFrame { Kind: FrameType.Ping } ping => Reply(new SequenceFrame(FrameType.Pong, ping.Value)),
                SequenceFrame { Kind: FrameType.Pong } => ValueTask.CompletedTask,
                HeartbeatFrame heartbeat => new ValueTask(HeartbeatAsync(heartbeat, closeAfter: true)),
                _ => throw new ProtocolException(ErrorCode.NotAuthenticated, $"{frame.Type} is not allowed before login"),
            };
        }

        switch (frame)
        {
            case SendFrame send:
                return HandleSendAsync(session, send);
            case SequenceFrame { Kind: FrameType.Ack } ack:
                session.Acknowledge(ack.Value);
                return ValueTask.CompletedTask;
            case SequenceFrame { Kind: FrameType.Sync } sync:
                return new ValueTask(session.StartSyncAsync(sync.Value, _lifetime.Token));
            case SequenceFrame { Kind: FrameType.Ping } ping:
                return Reply(new SequenceFrame(FrameType.Pong, ping.Value));
            case SequenceFrame { Kind: FrameType.Pong }:
                return ValueTask.CompletedTask;
            case EmptyFrame { Kind: FrameType.Who }:
                return Reply(new WhoListFrame(_services.Registry.Online(1000)));
            case WatchFrame watch:
                return Watch(session, watch);
            case EmptyFrame { Kind: FrameType.Logout }:
                return new ValueTask(LogoutAsync(session));
            case UploadStartFrame start:
                return Files(frame).StartUploadAsync(session, start, _lifetime.Token);
            case FileChunkFrame { Kind: FrameType.UploadChunk } chunk:
                return Files(frame).WriteChunkAsync(chunk, _lifetime.Token);
            case UploadEndFrame end:
                return Files(frame).EndUploadAsync(end, _lifetime.Token);
            case FileOffsetFrame { Kind: FrameType.Download } download:
                return Files(frame).StartDownloadAsync(session, download, _lifetime.Token);
            case HistoryFrame history:
                return new ValueTask(SendHistoryAsync(session, history));
            case ChangePasswordFrame change:
                return new ValueTask(ChangePasswordAsync(session, change));
            case DirectoryRegisterFrame register:
                return new ValueTask(RegisterInDirectoryAsync(session, register));
            case LookupFrame lookup:
                return new ValueTask(LookupAsync(lookup));
            case HeartbeatFrame heartbeat:
                return new ValueTask(HeartbeatAsync(heartbeat, closeAfter: false));
            default:
                throw new ProtocolException(ErrorCode.ProtocolError, $"{frame.Type} is not allowed here");
        }
    }

    private ValueTask Watch(Session session, WatchFrame watch)
    {
        var users = new List<string>(watch.Users.Count);
        foreach (var user in watch.Users)
        {
            if (!Names.TryNormalizeRecipient(user, out var normalized))
            {
                Send(new ErrorFrame(ErrorCode.BadId, MessageId.None, $"WATCH: '{user}' is not a user name; nothing changed"));
                return ValueTask.CompletedTask;
            }

            users.Add(normalized);
        }

        if (_services.Registry.Watch(session, watch.Add, users) == ErrorCode.TooManyWatched)
        {
            Send(new ErrorFrame(ErrorCode.TooManyWatched, MessageId.None,
                $"WATCH: a session may follow at most {Options.MaxWatchedUsers} users; nothing added"));
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Called on the read loop only; the write loop reaches <see cref="_files"/> only for chunks it started.</summary>
    private Files.FileTransfers Files(Frame frame)
    {
        if (_files is null)
        {
            var blobs = _services.Blobs ??
                throw new ProtocolException(ErrorCode.ProtocolError, $"{frame.Type}: file transfer is not enabled on this server");
            Volatile.Write(ref _files, new Files.FileTransfers(this, _services, blobs));
        }

        return _files;
    }

    private ValueTask Reply(Frame frame)
    {
        Send(frame);
        return ValueTask.CompletedTask;
    }

    private void Welcome(HelloFrame hello)
    {
        var version = Math.Min(hello.MaxVersion, ProtocolVersion.Max);
        if (version < Math.Max(hello.MinVersion, ProtocolVersion.Min))
        {
            throw new ProtocolException(ErrorCode.UnsupportedVersion,
                $"this server speaks protocol versions {ProtocolVersion.Min}-{ProtocolVersion.Max}");
        }

        _welcomed = true;
        _version = (ushort)version;
        Send(new WelcomeFrame((ushort)version, Options.ServerName));
    }

    private async Task AuthenticateAsync(string user, Func<CancellationToken, Task<AuthResult>> attempt)
    {
        var result = await attempt(_lifetime.Token).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            Log.LoginFailed(_services.Logger, user, _address, result.Error);
            Send(new ErrorFrame(result.Error, MessageId.None, result.Message));
            if (++_authFailures >= MaxAuthAttempts)
            {
                Abort(ErrorCode.ProtocolError, $"{MaxAuthAttempts} failed attempts on one connection");
            }

            return;
        }

        var session = new Session(result.User, result.Device, this, _services.Store);
        var added = _services.Registry.Add(session);
        if (added != ErrorCode.None)
        {
            // A resume already spent the device's token and stored a next one this refusal never sends: put the spent
            // one back, so the device can resume once another one leaves (nothing to undo after a password login).
            await _services.Authenticator.UndoResumeAsync(result, CancellationToken.None).ConfigureAwait(false);

            Abort(added, $"{result.User} already has {Options.MaxDevicesPerUser} devices online");
            return;
        }

        Volatile.Write(ref _session, session);
        _loginTimer?.Dispose();
        _loginTimer = null;
        _services.Limiter.Authenticated(_address);
        var token = result.Token ?? await _services.Authenticator.IssueTokenAsync(result.User, result.Device, _lifetime.Token).ConfigureAwait(false);
        var head = await _services.Store.GetHeadAsync(result.User, _lifetime.Token).ConfigureAwait(false);
        Log.LoggedIn(_services.Logger, result.User, result.Device, Id);
        Send(new AuthOkFrame(result.User, result.Device, token, head));
    }

    private async ValueTask HandleSendAsync(Session session, SendFrame send)
    {
        if (!Names.TryNormalizeRecipient(send.To, out var to))
        {
            Send(new ErrorFrame(ErrorCode.BadId, send.Id, "bad recipient name"));
            return;
        }

        if (System.Text.Encoding.UTF8.GetByteCount(send.Text) > Options.Limits.MaxTextBytes)
        {
            Send(new ErrorFrame(ErrorCode.TextTooLong, send.Id, $"message text is over {Options.Limits.MaxTextBytes} bytes"));
            return;
        }

        // Back-pressure: a connection may have a bounded number of sends waiting for the disk.
        await _inFlightSends.WaitAsync(_lifetime.Token).ConfigureAwait(false);
        var autoReply = to == BuiltInAccounts.Echo ? BuiltInAccounts.EchoReply(send.Text) : null;
        var id = send.Id;
        // The reply is queued by the store's writer thread at the commit, with no thread-pool hop in between, after
        // SessionRegistry.OnCommitted (which queues the sender's own copy itself when that session is idle).
        _services.Store.Append(new Submission(session.User, id, to, send.Text, autoReply), (result, failure) => CompleteSend(id, to, result, failure));
    }

    /// <summary>Answers a SEND once its append is durable or failed. Called on the store's writer thread: queues only.</summary>
    private void CompleteSend(MessageId id, string to, AppendResult result, Exception? failure)
    {
        try
        {
            if (failure is not null)
            {
                Log.StoreFailed(_services.Logger, failure);
                Send(new ErrorFrame(ErrorCode.InternalError, id, "the message could not be stored; send it again"));
                return;
            }

            switch (result.Status)
            {
                case AppendStatus.Stored:
                    _services.Metrics.MessageStored();
                    Send(new SendOkFrame(id, result.SenderSequence, result.Time));
                    break;
                case AppendStatus.Duplicate:
                    Send(new SendOkFrame(id, result.SenderSequence, result.Time));
                    break;
                case AppendStatus.IdReused:
                    Send(new ErrorFrame(ErrorCode.IdReused, id, "this message id was used before for another message"));
                    break;
                case AppendStatus.QueueFull:
                    Send(new ErrorFrame(ErrorCode.RecipientQueueFull, id, $"{to} has too many unread messages; try later"));
                    break;
                case AppendStatus.UnknownRecipient:
                    Send(new ErrorFrame(ErrorCode.UnknownUser, id, $"there is no user {to}"));
                    break;
            }
        }
        finally
        {
            _inFlightSends.Release();
        }
    }

    /// <summary>
    /// CHANGE_PASSWORD: checked like a login (throttled, hashed under the cap); on success every token of the user is
    /// revoked, the user's other sessions are closed, and this device gets a new token in AUTH_OK.
    /// </summary>
    private async Task ChangePasswordAsync(Session session, ChangePasswordFrame change)
    {
        var result = await _services.Authenticator.ChangePasswordAsync(session.User, change, _address, _lifetime.Token).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            Send(new ErrorFrame(result.Error, MessageId.None, result.Message));
            return;
        }

        _services.Registry.CloseOthers(session, ErrorCode.PasswordChanged, "the password was changed; log in again");
        await _services.Directory.RemoveAsync(session.User, device: null, _lifetime.Token).ConfigureAwait(false); // every device proves itself again with the new password
        var token = await _services.Authenticator.IssueTokenAsync(session.User, session.Device, _lifetime.Token).ConfigureAwait(false);
        var head = await _services.Store.GetHeadAsync(session.User, _lifetime.Token).ConfigureAwait(false);
        Send(new AuthOkFrame(session.User, session.Device, token, head));
    }

    /// <summary>HISTORY: one page of the user's log below a sequence, cut to fit one frame.</summary>
    private async Task SendHistoryAsync(Session session, HistoryFrame request)
    {
        string? peer = null;
        if (request.Peer.Length > 0)
        {
            if (!Names.TryNormalizeRecipient(request.Peer, out var normalized))
            {
                Send(new HistoryPageFrame(request.Before, [])); // no such conversation can exist
                return;
            }

            peer = normalized;
        }

        var max = Math.Clamp((int)request.Max, 0, HistoryFrame.MaxEntries);
        var entries = await _services.Store.ReadHistoryAsync(session.User, request.Before, max, peer, _lifetime.Token).ConfigureAwait(false);
        var page = new List<DeliverFrame>(entries.Count);
        var budget = Options.Limits.MaxFrameLength - 64;
        // Newest first when cutting to the frame size, so that the page always ends right below `before`.
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var entry = entries[i];
            var frame = new DeliverFrame(entry.Sequence, entry.Id, entry.From, entry.To, entry.Time, entry.Text);
            budget -= frame.PayloadLength();
            if (budget < 0)
            {
                break;
            }

            page.Add(frame);
        }

        page.Reverse();
        Send(new HistoryPageFrame(request.Before, page));
    }

    /// <summary>
    /// DIRECTORY_REGISTER: only for the session's own user and device (security.md 25); a host of 0.0.0.0 or :: is
    /// replaced by the address this connection comes from, so a device need not know its own address.
    /// </summary>
    private async Task RegisterInDirectoryAsync(Session session, DirectoryRegisterFrame register)
    {
        if (!Names.TryNormalizeUser(register.User, out var user) || user != session.User || register.Device != session.Device)
        {
            Log.DirectoryRefused(_services.Logger, session.User, register.User, register.Device);
            Send(new ErrorFrame(ErrorCode.NotYourDevice, MessageId.None, "a session can register only its own user and device"));
            return;
        }

        if (!P2P.PeerEndpoint.TryNormalize(register.Endpoint, _address, out var endpoint))
        {
            Send(new ErrorFrame(ErrorCode.Malformed, MessageId.None, "the endpoint is not HOST:PORT"));
            return;
        }

        if (await _services.Directory.TryRegisterAsync(user, session.Device, endpoint, register.Fingerprint, _lifetime.Token).ConfigureAwait(false) is not { } secret)
        {
            Send(new ErrorFrame(ErrorCode.TooManySessions, MessageId.None, $"{user} has {Options.MaxDirectoryEntriesPerUser} devices in the directory"));
            return;
        }

        Send(new DirectoryRegisteredFrame(secret, (uint)Options.DirectoryHeartbeatInterval.TotalMilliseconds, (uint)_services.Directory.Timeout.TotalMilliseconds));
    }

    /// <summary>LOOKUP: only reached when logged in (before login it is refused with NotAuthenticated like any other frame).</summary>
    private async Task LookupAsync(LookupFrame lookup)
    {
        _services.Metrics.LookupServed();
        Send(Names.TryNormalizeUser(lookup.User, out var user)
            ? new PeersFrame(user, await _services.Directory.LookupAsync(user, _lifetime.Token).ConfigureAwait(false))
            : new PeersFrame(lookup.User, []));
    }

    /// <summary>
    /// HEARTBEAT: keeps the entry alive and says how much of the user's log this device has not acknowledged. Before
    /// login the connection exists only for this request, so it is closed once the answer is out: a device in P2P
    /// mode holds no connection between heartbeats.
    /// </summary>
    private async Task HeartbeatAsync(HeartbeatFrame heartbeat, bool closeAfter)
    {
        var result = Names.TryNormalizeUser(heartbeat.User, out var user)
            ? await _services.Directory.HeartbeatAsync(user, heartbeat.Device, heartbeat.Secret, _lifetime.Token).ConfigureAwait(false)
            : HeartbeatResult.UnknownDevice;
        switch (result)
        {
            case HeartbeatResult.Alive:
                var head = await _services.Store.GetHeadAsync(user, _lifetime.Token).ConfigureAwait(false);
                var cursor = await _services.Store.GetCursorAsync(user, heartbeat.Device, _lifetime.Token).ConfigureAwait(false);
                Send(new HeartbeatOkFrame(head > cursor ? head - cursor : 0, (uint)Options.DirectoryHeartbeatInterval.TotalMilliseconds));
                break;
            case HeartbeatResult.WrongSecret:
                Send(new ErrorFrame(ErrorCode.AuthFailed, MessageId.None, "wrong heartbeat secret"));
                break;
            default:
                Send(new ErrorFrame(ErrorCode.UnknownDevice, MessageId.None, "not in the directory; register again"));
                break;
        }

        if (closeAfter)
        {
            Abort(ErrorCode.None, "heartbeat answered");
        }
    }

    private async Task LogoutAsync(Session session)
    {
        await _services.Directory.RemoveAsync(session.User, session.Device, _lifetime.Token).ConfigureAwait(false);
        await _services.Store.RevokeTokensAsync(session.User, session.Device, _lifetime.Token).ConfigureAwait(false);
        Abort(ErrorCode.None, "logged out");
    }

    private static bool IsTransportFailure(Exception exception) =>
        exception is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException;
}
