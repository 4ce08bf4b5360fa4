using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Security;

namespace Parley.Client.P2P;

/// <summary>
/// A device in P2P mode (docs/p2p.md). It registers its listening endpoint and device-key fingerprint with the
/// server's directory, then holds no connection to the server: heartbeats (one short connection each) keep the
/// entry alive and say when something is parked on the server, which it then fetches. It sends directly over
/// mutually authenticated TLS links, checked against the directory and confirmed by PEER_HELLO/PEER_HELLO_ACK, and
/// reused while in use; a message counts as delivered only when the peer acknowledges it, and otherwise goes to
/// the server with the same id. Everything it shows passes through one gate that drops (sender, id) pairs already
/// shown, so a message appears once whichever path wins.
/// </summary>
public sealed class PeerNode : IAsyncDisposable
{
    private readonly DeviceSession _session;
    private readonly DeviceHome _home;
    private readonly PeerOptions _options;
    private readonly Func<PeerMessage, ValueTask>? _onMessage;
    private readonly X509Certificate2 _certificate;
    private readonly byte[] _fingerprint;
    private readonly ServerChannel _server;
    private readonly SeenMessages? _seen;
    private readonly IncomingFiles? _files;
    private readonly SemaphoreSlim _show = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<string, PeerLink> _links = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _dialing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _directBlockedUntil = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<PeerLink, byte> _inbound = new();
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;
    private Task _heartbeatLoop = Task.CompletedTask;
    private byte[] _secret = [];
    private TimeSpan _interval;

    private PeerNode(DeviceSession session, DeviceHome home, PeerOptions options, Func<PeerMessage, ValueTask>? onMessage)
    {
        _session = session;
        _home = home;
        _options = options;
        _onMessage = onMessage;
        _certificate = DeviceCertificate.LoadOrCreate(home.Path, session.Device);
        _fingerprint = DeviceCertificate.Fingerprint(_certificate);
        _server = new ServerChannel(session, home, options, onMessage is null ? null : OnServerEntryAsync, Report);
        _seen = onMessage is null ? null : new SeenMessages(Path.Combine(home.Path, $"p2p-seen-{session.Device}"), options.MaxRememberedIds);
        _files = onMessage is null ? null : new IncomingFiles(Path.Combine(home.Path, "p2p-partial"),
            options.DownloadsFolder ?? Path.Combine(home.Path, "downloads"), options.MaxFileBytes);
    }

    /// <summary>Status lines (registered, link up, fell back to the server, ...), for stderr or a status bar.</summary>
    public event Action<string>? StatusChanged;

    public string User => _session.Profile.User;

    public string Device => _session.Device;

    /// <summary>This device's key fingerprint (hex), as registered in the directory.</summary>
    public string Fingerprint => Convert.ToHexStringLower(_fingerprint);

    /// <summary>Where direct links are accepted; null for a device that only dials out.</summary>
    public IPEndPoint? ListenEndPoint => (IPEndPoint?)_listener?.LocalEndpoint;

    /// <summary>The endpoint registered in the directory ("" when dialling out only).</summary>
    public string RegisteredEndpoint { get; private set; } = string.Empty;

    /// <summary>Direct links open now.</summary>
    public int OpenLinks => _links.Values.Count(l => l.IsOpen);

    /// <summary>True while the connection to the server is open (it is closed soon after each use).</summary>
    public bool IsConnectedToServer => _server.IsConnected;

    /// <summary>
    /// Starts the device in P2P mode: listens (unless <see cref="PeerOptions.Listen"/> is null), logs in to the server
    /// (fetching what is parked, when <paramref name="onMessage"/> is given), registers in the directory and starts
    /// the heartbeats. <paramref name="onMessage"/> is called once per message, one at a time, from either path.
    /// </summary>
    public static async Task<PeerNode> StartAsync(DeviceSession session, DeviceHome home, PeerOptions options, Func<PeerMessage, ValueTask>? onMessage,
        Action<string>? status = null, CancellationToken cancellationToken = default)
    {
        var node = new PeerNode(session, home, options, onMessage);
        if (status is not null)
        {
            node.StatusChanged += status;
        }

        try
        {
            if (options.Listen is { } listen)
            {
                node._listener = new TcpListener(listen);
                node._listener.Start(backlog: 128);
                node._acceptLoop = node.AcceptLoopAsync();
            }

            await node.RegisterAsync(cancellationToken).ConfigureAwait(false);
            if (onMessage is not null)
            {
                await node._server.CatchUpAsync(cancellationToken).ConfigureAwait(false);
            }

            node._heartbeatLoop = node.HeartbeatLoopAsync();
            return node;
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Sends a message: directly when the peer is in the directory, reachable, presents the key the directory lists and
    /// acknowledges within <see cref="PeerOptions.AckTimeout"/>; otherwise through the server under the same id.
    /// Completes when one of the two has acknowledged it. Throws <see cref="ParleyErrorException"/> when the server
    /// refuses it (unknown user, quota), <see cref="IOException"/> when neither path is available.
    /// </summary>
    public async Task<SendOutcome> SendAsync(string to, string text, CancellationToken cancellationToken = default) =>
        await SendAsync(MessageId.NewTimeOrdered(), to, text, cancellationToken).ConfigureAwait(false);

    /// <inheritdoc cref="SendAsync(string, string, CancellationToken)"/>
    public async Task<SendOutcome> SendAsync(MessageId id, string to, string text, CancellationToken cancellationToken = default)
    {
        var peer = Names.NormalizeUser(to);
        var time = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        string reason;
        if (_directBlockedUntil.TryGetValue(peer, out var until) && Environment.TickCount64 < until)
        {
            reason = "recently unreachable";
        }
        else
        {
            try
            {
                var link = await GetLinkAsync(peer, cancellationToken).ConfigureAwait(false);
                if (link is null)
                {
                    reason = "not in the directory";
                }
                else if (await link.SendAsync(id, time, text, _options.AckTimeout, cancellationToken).ConfigureAwait(false))
                {
                    _directBlockedUntil.TryRemove(peer, out _);
                    return new SendOutcome(DeliveryPath.Direct, null);
                }
                else
                {
                    reason = $"no acknowledgement within {_options.AckTimeout.TotalSeconds:0.#} s";
                }
            }
            catch (Exception exception) when (exception is IOException or SocketException or AuthenticationException or TimeoutException
                or PeerRefusedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                reason = exception.Message;
            }

            _directBlockedUntil[peer] = Environment.TickCount64 + (long)_options.RetryDirectAfter.TotalMilliseconds;
            Report($"direct to {peer} failed ({reason}); using the server");
        }

        await _server.UseAsync(connection => connection.SendAsync(id, peer, text, cancellationToken), cancellationToken).ConfigureAwait(false);
        return new SendOutcome(DeliveryPath.Server, reason);
    }

    /// <summary>
    /// Sends a file: directly when a link to the peer can be had (UPLOAD_START, UPLOAD_READY with the offset the peer
    /// already has, UPLOAD_CHUNKs, UPLOAD_DONE after the peer checked the SHA-256), resuming from where the peer's
    /// partial file ends when run again with the same file; through the server (upload, resumable there too) when
    /// the peer is not reachable or the link fails mid-way. Reads one chunk at a time.
    /// </summary>
    public async Task<SendOutcome> SendFileAsync(string path, string to, string? name = null, CancellationToken cancellationToken = default)
    {
        var peer = Names.NormalizeUser(to);
        var state = await Files.UploadStateFiles.LoadOrCreateAsync(Path.Combine(_home.Path, "uploads-p2p"), Path.GetFullPath(path), peer, name, cancellationToken).ConfigureAwait(false);
        string reason;
        try
        {
            var link = await GetLinkAsync(peer, cancellationToken).ConfigureAwait(false);
            if (link is null)
            {
                reason = "not in the directory";
            }
            else
            {
                var refusal = await OutgoingFiles.SendAsync(link, state, Files.FileUploader.ChunkBytes, _options.FileAnswerTimeout, cancellationToken).ConfigureAwait(false);
                if (refusal is null)
                {
                    Files.UploadStateFiles.Forget(Path.Combine(_home.Path, "uploads-p2p"), state);
                    return new SendOutcome(DeliveryPath.Direct, null);
                }

                reason = refusal;
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or AuthenticationException or TimeoutException
            or PeerRefusedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            reason = exception.Message;
        }

        Report($"p2p: file to {peer} not sent directly ({reason}); uploading to the server");
        await _server.UseAsync(async connection =>
        {
            var uploader = new Files.FileUploader(_ => connection.Completion.IsCompleted
                ? throw new IOException("the connection to the server closed during the upload; run the command again to resume")
                : Task.FromResult(connection), Path.Combine(_home.Path, "uploads"));
            return await uploader.UploadAsync(path, peer, name, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        return new SendOutcome(DeliveryPath.Server, reason);
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _listener?.Stop();
        try
        {
            await Task.WhenAll(_acceptLoop, _heartbeatLoop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var link in _links.Values.Concat(_inbound.Keys).Distinct())
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }

        await _server.DisposeAsync().ConfigureAwait(false);
        _seen?.Dispose();
        _files?.Dispose();
        _certificate.Dispose();
    }

    private void Report(string status) => StatusChanged?.Invoke(status);

    private async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var endpoint = _options.Advertise
            ?? (ListenEndPoint is { } local ? new IPEndPoint(local.Address, local.Port).ToString() : string.Empty);
        var registered = await _server.RequestAsync(
            connection => connection.RegisterInDirectoryAsync(User, Device, endpoint, _fingerprint, cancellationToken), cancellationToken).ConfigureAwait(false);
        _secret = registered.Secret;
        _interval = _options.HeartbeatInterval ?? TimeSpan.FromMilliseconds(registered.IntervalMs);
        RegisteredEndpoint = endpoint;
        Report($"p2p: registered {User}/{Device} at {(endpoint.Length == 0 ? "(dials out only)" : endpoint)}, key {Fingerprint[..16]}…, heartbeat every {_interval.TotalSeconds:0.###} s");
    }

    /// <summary>
    /// Every interval: one short connection, HEARTBEAT, HEARTBEAT_OK, closed by the server. When the answer says
    /// something is parked, fetch it; when the directory has forgotten us (server restart, long sleep), register again.
    /// </summary>
    private async Task HeartbeatLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(_interval, token).ConfigureAwait(false);
                ulong pending;
                await using (var connection = await ParleyConnection.ConnectAsync(ServerAddress.Parse(_session.Profile.Server),
                    ServerTrust.Pinned(_home.KnownServers, acceptNew: false), cancellationToken: token).ConfigureAwait(false))
                {
                    pending = (await connection.HeartbeatAsync(User, Device, _secret, token).WaitAsync(_options.HandshakeTimeout, token).ConfigureAwait(false)).Pending;
                }

                if (pending > 0 && _onMessage is not null)
                {
                    Report($"p2p: {pending} waiting on the server; fetching");
                    await _server.CatchUpAsync(token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (ParleyErrorException error) when (error.Code is ErrorCode.UnknownDevice or ErrorCode.AuthFailed)
            {
                Report($"p2p: the directory forgot this device ({error.Message}); registering again");
                await TryAsync(() => RegisterAsync(token)).ConfigureAwait(false);
            }
            catch (Exception exception) when (DeviceSession.IsTransient(exception) || exception is ParleyErrorException)
            {
                Report($"p2p: heartbeat failed ({exception.Message}); retrying");
            }
        }
    }

    private async Task TryAsync(Func<Task> action)
    {
        try
        {
            await action().ConfigureAwait(false);
        }
        catch (Exception exception) when (DeviceSession.IsTransient(exception) || exception is ParleyErrorException or OperationCanceledException)
        {
            Report($"p2p: {exception.Message}");
        }
    }

    /// <summary>The open link to <paramref name="peer"/>, or a new one dialled from the directory; null when the peer has no reachable entry.</summary>
    private async Task<PeerLink?> GetLinkAsync(string peer, CancellationToken cancellationToken)
    {
        if (_links.TryGetValue(peer, out var existing) && existing.IsOpen)
        {
            return existing;
        }

        var gate = _dialing.GetOrAdd(peer, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_links.TryGetValue(peer, out existing) && existing.IsOpen)
            {
                return existing;
            }

            var peers = await _server.RequestAsync(connection => connection.LookupAsync(peer, cancellationToken), cancellationToken).ConfigureAwait(false);
            var reachable = peers.Entries.Where(e => e.Endpoint.Length > 0).ToList();
            if (reachable.Count == 0)
            {
                return null;
            }

            Exception? last = null;
            foreach (var entry in reachable)
            {
                try
                {
                    var link = await DialAsync(peers.User, entry, cancellationToken).ConfigureAwait(false);
                    Track(link);
                    return link;
                }
                catch (Exception exception) when (exception is IOException or SocketException or AuthenticationException or TimeoutException
                    or PeerRefusedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    last = exception;
                    Report($"p2p: cannot link to {peer}/{entry.Device} at {entry.Endpoint}: {exception.Message}");
                }
            }

            throw last!;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Dials one directory entry: TCP, then TLS where the peer's key must hash to the entry's fingerprint (and ours is
    /// presented for it to check), then PEER_HELLO and a PEER_HELLO_ACK naming that very user and device.
    /// </summary>
    private async Task<PeerLink> DialAsync(string user, PeerEntry entry, CancellationToken cancellationToken)
    {
        var address = ServerAddress.Parse(entry.Endpoint);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        deadline.CancelAfter(_options.ConnectTimeout);
        var client = new TcpClient { NoDelay = true };
        SslStream? tls = null;
        try
        {
            try
            {
                await client.ConnectAsync(address.Host, address.Port, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"no TCP connection within {_options.ConnectTimeout.TotalSeconds:0.#} s");
            }

            deadline.CancelAfter(_options.HandshakeTimeout);
            var expected = entry.Fingerprint;
            string? presented = null;
            tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false);
            try
            {
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "parley-peer",
                    ClientCertificates = [_certificate],
                    AllowRenegotiation = false,
                    EnabledSslProtocols = SslProtocols.Tls13, // V3: mutual TLS 1.3 between devices we build, both ends
                    CertificateChainPolicy = PinnedChainPolicy.Create(),
                    // The pin is the whole check: the device certificate is self-signed, its key is what the directory vouches for.
                    RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    {
                        if (certificate is null)
                        {
                            return false;
                        }

                        var actual = DeviceCertificate.Fingerprint(certificate);
                        presented = Convert.ToHexStringLower(actual);
                        return CryptographicOperations.FixedTimeEquals(actual, expected);
                    },
                }, deadline.Token).ConfigureAwait(false);
            }
            catch (AuthenticationException) when (presented is not null)
            {
                throw new PeerRefusedException(
                    $"{user}/{entry.Device} at {entry.Endpoint} presented key {presented[..16]}…, not the {Convert.ToHexStringLower(expected)[..16]}… the directory lists; refused");
            }

            // V3: TLS may "succeed" here before the peer has checked our certificate; only PEER_HELLO_ACK makes the link up.
            await PeerFraming.WriteAsync(tls, new PeerHelloFrame(ProtocolVersion.V1, User, Device), deadline.Token).ConfigureAwait(false);
            var answer = await PeerFraming.ReadAsync(tls, _options.MaxHelloFrameLength, deadline.Token).ConfigureAwait(false);
            switch (answer)
            {
                case PeerHelloAckFrame ack when ack.User == user && ack.Device == entry.Device:
                    break;
                case PeerHelloAckFrame ack:
                    throw new PeerRefusedException($"the peer at {entry.Endpoint} says it is {ack.User}/{ack.Device}, not {user}/{entry.Device}");
                case ErrorFrame error:
                    throw new PeerRefusedException($"{user}/{entry.Device} refused the link: {error.Message}");
                case null:
                    throw new IOException($"{user}/{entry.Device} closed the link during the handshake");
                default:
                    throw new PeerRefusedException($"{user}/{entry.Device} answered PEER_HELLO with {answer.Type}");
            }

            var link = new PeerLink(tls, user, entry.Device, _options, OnDirectMessageAsync, OnFileFrameAsync);
            link.Start();
            Report($"p2p: direct link to {user}/{entry.Device} at {entry.Endpoint}");
            return link;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(tls, client).ConfigureAwait(false);
            throw new TimeoutException($"no handshake with {user}/{entry.Device} within {_options.HandshakeTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            await DisposeQuietlyAsync(tls, client).ConfigureAwait(false);
            throw;
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptSocketAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            socket.NoDelay = true;
            if (_inbound.Count >= _options.MaxInboundLinks)
            {
                socket.Dispose();
                continue;
            }

            _ = AcceptAsync(socket);
        }
    }

    /// <summary>
    /// One incoming link: TLS with a client certificate required; the first frame must be PEER_HELLO; the directory
    /// must list that (user, device) with the fingerprint of the certificate presented. Then PEER_HELLO_ACK.
    /// </summary>
    private async Task AcceptAsync(Socket socket)
    {
        var remote = socket.RemoteEndPoint?.ToString() ?? "?";
        var tls = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        deadline.CancelAfter(_options.HandshakeTimeout);
        try
        {
            await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = _certificate,
                ClientCertificateRequired = true,
                AllowRenegotiation = false,
                EnabledSslProtocols = SslProtocols.Tls13,
                CertificateChainPolicy = PinnedChainPolicy.Create(),
                // Any key may knock; who it belongs to is decided below, against the directory, once PEER_HELLO names it.
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null,
            }, deadline.Token).ConfigureAwait(false);
            var presented = tls.RemoteCertificate is { } certificate ? DeviceCertificate.Fingerprint(certificate) : null;
            if (await PeerFraming.ReadAsync(tls, _options.MaxHelloFrameLength, deadline.Token).ConfigureAwait(false) is not PeerHelloFrame hello
                || presented is null || !Names.TryNormalizeUser(hello.User, out var user))
            {
                await RefuseAsync(tls, "the first frame must be PEER_HELLO").ConfigureAwait(false);
                return;
            }

            var peers = await _server.RequestAsync(connection => connection.LookupAsync(user, deadline.Token), deadline.Token).ConfigureAwait(false);
            var entry = peers.Entries.FirstOrDefault(e => e.Device == hello.Device);
            if (entry is null || !CryptographicOperations.FixedTimeEquals(entry.Fingerprint, presented))
            {
                Report($"p2p: refused a link from {remote} claiming {user}/{hello.Device}: {(entry is null ? "not in the directory" : "its key is not the one the directory lists")}");
                await RefuseAsync(tls, "your key is not the one the directory lists for you").ConfigureAwait(false);
                return;
            }

            await PeerFraming.WriteAsync(tls, new PeerHelloAckFrame(User, Device), deadline.Token).ConfigureAwait(false);
            var link = new PeerLink(tls, user, hello.Device, _options, OnDirectMessageAsync, OnFileFrameAsync);
            _inbound[link] = 0;
            link.Start();
            Track(link);
            _ = link.Completion.ContinueWith(_ =>
            {
                _inbound.TryRemove(link, out byte _);
                // Why a link ended (the peer left, a flood, a file that could not be opened) is worth a line to the user.
                Report($"p2p: direct link from {user}/{hello.Device} closed ({link.CloseReason ?? "closed"})");
            }, TaskScheduler.Default);
            Report($"p2p: direct link from {user}/{hello.Device} ({remote})");
        }
        catch (ProtocolException exception)
        {
            // An oversized or malformed first frame (security.md 27): say why, as the server does, and close.
            await RefuseAsync(tls, exception.Message, exception.Code).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or AuthenticationException or OperationCanceledException or SocketException
            or ParleyErrorException or ObjectDisposedException or InvalidOperationException)
        {
            await DisposeQuietlyAsync(tls, null).ConfigureAwait(false);
        }
    }

    /// <summary>A link (dialled or accepted) becomes the way to send to its user; an older one is replaced.</summary>
    private void Track(PeerLink link)
    {
        _links.AddOrUpdate(link.User, link, (_, old) => old.IsOpen && old != link && _inbound.ContainsKey(link) ? old : link);
        _ = link.Completion.ContinueWith(_ =>
        {
            if (_links.TryGetValue(link.User, out var current) && current == link)
            {
                _links.TryRemove(new KeyValuePair<string, PeerLink>(link.User, link));
            }
        }, TaskScheduler.Default);
    }

    /// <summary>A file frame from a peer; a finished file is shown once, like a message, under its file id.</summary>
    private async Task<Frame?> OnFileFrameAsync(PeerLink link, Frame frame)
    {
        if (_files is null)
        {
            return new ErrorFrame(ErrorCode.ProtocolError, frame is UploadStartFrame start ? start.FileId : ((FileChunkFrame)frame).FileId,
                "this device does not take files");
        }

        var (reply, finished) = frame is UploadStartFrame upload
            ? await _files.StartAsync(link.User, User, upload).ConfigureAwait(false)
            : await _files.ChunkAsync(link.User, User, (FileChunkFrame)frame).ConfigureAwait(false);
        if (finished is not null)
        {
            await ShowAsync(finished).ConfigureAwait(false);
        }

        return reply;
    }

    /// <summary>
    /// A message on a link. A device that shows nothing (one-shot send) must not acknowledge what it cannot show:
    /// it closes the link, and the peer's message goes to the server for this user's other devices.
    /// </summary>
    private ValueTask OnDirectMessageAsync(PeerLink link, PeerMessageFrame message) =>
        _onMessage is null
            ? throw new IOException("this device does not receive messages")
            : ShowAsync(new PeerMessage(message.Id, link.User, User, message.Time, message.Text, DeliveryPath.Direct, 0));

    /// <summary>Entries of this user's log from the server: messages from others are shown (once); our own copies are not.</summary>
    private ValueTask OnServerEntryAsync(DeliverFrame entry) =>
        entry.From == User
            ? ValueTask.CompletedTask
            : ShowAsync(new PeerMessage(entry.Id, entry.From, entry.To, entry.Time, entry.Text, DeliveryPath.Server, entry.Sequence));

    /// <summary>
    /// The one gate to the user: each (sender, id) is shown once, then remembered, before either path acknowledges.
    /// One message at a time, so the check and the remembering cannot interleave between the two paths.
    /// </summary>
    private async ValueTask ShowAsync(PeerMessage message)
    {
        await _show.WaitAsync(_stopping.Token).ConfigureAwait(false);
        try
        {
            if (!_seen!.Contains(message.From, message.Id))
            {
                await _onMessage!(message).ConfigureAwait(false);
                _seen.Remember(message.From, message.Id);
            }
        }
        finally
        {
            _show.Release();
        }
    }

    private static async Task RefuseAsync(SslStream tls, string reason, ErrorCode code = ErrorCode.PeerNotTrusted)
    {
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await PeerFraming.WriteAsync(tls, new ErrorFrame(code, MessageId.None, reason), deadline.Token).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }

        await DisposeQuietlyAsync(tls, null).ConfigureAwait(false);
    }

    private static async Task DisposeQuietlyAsync(SslStream? tls, TcpClient? client)
    {
        try
        {
            if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is IOException or ObjectDisposedException or NotSupportedException)
        {
        }

        client?.Dispose();
    }
}
