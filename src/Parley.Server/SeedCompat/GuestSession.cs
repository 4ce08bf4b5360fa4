using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Parley.Protocol;
using Parley.Server.Connections;
using Parley.Storage;

namespace Parley.Server.SeedCompat;

/// <summary>
/// One connection of the design note's old client (docs/seed-compat.md): its user is a guest, "~name" to everyone
/// else, with a durable log like any user's (a store account nobody can log into). Reading: the name, then frames,
/// reassembled by <see cref="SeedFrameReader"/>, checked (the sender must be the guest: no spoofing) and stored
/// through the same store calls as a SEND, under the same limits. Delivery: like a device, pulled from the guest's
/// log after a cursor, written one frame per write, and the cursor advanced only after the write succeeded.
/// </summary>
internal sealed class GuestSession
{
    /// <summary>The device id of a guest's cursor: a guest has one connection at a time, so one cursor.</summary>
    public const string Device = "seed-compat";
    private const int ReadBatch = 64;
    private static readonly UTF8Encoding s_strictUtf8 = new(false, throwOnInvalidBytes: true);

    private readonly ConnectionServices _services;
    private readonly Socket _socket;
    private readonly string _address;
    private readonly SeedFrameReader _reader;
    private readonly byte[] _receiveBuffer = new byte[8192];
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _lifetime = new();
    private readonly InboundRateLimiter _rateLimiter;
    private Task<int>? _pendingRead;
    private string _name = string.Empty;
    private ulong _delivered;
    private SeedFileUpload? _upload;
    private string _closeReason = "the client closed the connection";

    // Set as soon as each step is taken, so that a failure half-way through joining still undoes it.
    private bool _registered;
    private bool _authenticated;

    public GuestSession(ConnectionServices services, Socket socket, string address)
    {
        _services = services;
        _socket = socket;
        _address = address;
        _reader = new SeedFrameReader(services.Options.SeedCompatMaxFrameBytes);
        _rateLimiter = new InboundRateLimiter(services.Options);
    }

    /// <summary>The guest's name in Parley: "~" and the name it gave, normalised. Empty until the name is known.</summary>
    public string User { get; private set; } = string.Empty;

    private ServerOptions Options => _services.Options;

    /// <summary>Called by the router when the guest's log grew. Never blocks.</summary>
    public void OnAppended() => _wake.Writer.TryWrite(true);

    /// <summary>Closes the connection (shutdown): the guest is told why, best effort.</summary>
    public void Close(string reason)
    {
        _closeReason = reason;
        _ = NoticeAsync(reason).AsTask().ContinueWith(
            _ => _lifetime.Cancel(), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        try
        {
            _lifetime.CancelAfter(TimeSpan.FromSeconds(1));
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Runs the connection until either side closes it. Never throws.</summary>
    public async Task RunAsync()
    {
        try
        {
            if (await JoinAsync().ConfigureAwait(false))
            {
                _delivered = await _services.Store.GetCursorAsync(User, Device, _lifetime.Token).ConfigureAwait(false);
                _ = Task.Run(DeliveryLoopAsync, CancellationToken.None);
                _wake.Writer.TryWrite(true);
                await ReadLoopAsync().ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException or ObjectDisposedException or TimeoutException)
        {
            _closeReason = exception is TimeoutException ? "the client stopped reading" : _closeReason;
        }
        catch (ProtocolException exception)
        {
            _closeReason = exception.Message;
            await NoticeAsync(exception.Message).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.GuestFailed(_services.Logger, User, exception);
            _closeReason = "internal error";
        }
        finally
        {
            await _lifetime.CancelAsync().ConfigureAwait(false);
            if (_registered)
            {
                _services.Registry.RemoveGuest(this);
                Log.GuestLeft(_services.Logger, User, _closeReason);
            }

            await _rateLimiter.DisposeAsync().ConfigureAwait(false);
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }

            _socket.Dispose();
            _services.Limiter.Closed(_address, wasAuthenticated: _authenticated);
        }
    }

    /// <summary>
    /// Reads the name and admits the guest, or refuses with a notice: a name that is not a valid user name, that an
    /// account owns, or that a connected guest holds (the first keeps its messages).
    /// </summary>
    private async Task<bool> JoinAsync()
    {
        var deadline = Options.Time.GetUtcNow() + Options.LoginTimeout;
        string? name;
        try
        {
            name = null;
            var quiet = false;
            while (name is null)
            {
                var left = deadline - Options.Time.GetUtcNow();
                if (left <= TimeSpan.Zero)
                {
                    return await RefuseAsync("no user name within " + Options.LoginTimeout.TotalSeconds + " s").ConfigureAwait(false);
                }

                var wait = _reader.Buffered > 0 ? Min(Options.SeedCompatNameSettle, left) : left;
                var read = await ReceiveAsync(wait).ConfigureAwait(false);
                if (read == 0)
                {
                    return false; // closed before giving a name
                }

                if (read is null)
                {
                    quiet = _reader.Buffered > 0;
                }

                name = _reader.TryReadName(quiet, Names.MaxLength);
            }
        }
        catch (FormatException exception)
        {
            return await RefuseAsync(exception.Message).ConfigureAwait(false);
        }

        _name = name;
        if (!Names.TryNormalizeUser(name, out var bare))
        {
            return await RefuseAsync($"bad user name \"{name}\": use 1-{Names.MaxLength} of a-z 0-9 . _ -").ConfigureAwait(false);
        }

        if (await _services.Store.GetPasswordHashAsync(bare, _lifetime.Token).ConfigureAwait(false) is not null)
        {
            return await RefuseAsync($"the name {bare} belongs to a Parley account; guests must pick a name no account owns").ConfigureAwait(false);
        }

        User = Names.GuestPrefix + bare;
        if (!_services.Registry.TryAddGuest(this))
        {
            return await RefuseAsync($"a guest named {bare} is already connected; this connection is refused and that one keeps its messages").ConfigureAwait(false);
        }

        _registered = true;

        // The guest's durable log: an account under a name no one can log into or register, with a hash no password matches.
        await _services.Store.CreateUserAsync(User, BuiltInAccounts.LockedPasswordHash, _lifetime.Token).ConfigureAwait(false);
        _services.Limiter.Authenticated(_address);
        _authenticated = true;
        Log.GuestJoined(_services.Logger, User, _address);
        return true;
    }

    private async Task<bool> RefuseAsync(string reason)
    {
        Log.GuestRefused(_services.Logger, _address, reason);
        _closeReason = reason;
        await NoticeAsync("refused: " + reason).ConfigureAwait(false);
        return false;
    }

    private async Task ReadLoopAsync()
    {
        while (true)
        {
            while (true)
            {
                var status = _reader.TryRead(out var frame, out var problem);
                if (status == SeedReadStatus.NeedMore)
                {
                    break;
                }

                if (status != SeedReadStatus.Frame)
                {
                    await RefuseFrameAsync(problem + "; that frame was dropped, the ones before and after it are not affected").ConfigureAwait(false);
                    continue;
                }

                if (frame!.IsExit)
                {
                    _closeReason = "said goodbye (EXIT)";
                    return;
                }

                await HandleAsync(frame).ConfigureAwait(false);
            }

            var read = await ReceiveAsync(Timeout.InfiniteTimeSpan).ConfigureAwait(false);
            if (read is null or 0)
            {
                if (_reader.Buffered > 0)
                {
                    _closeReason = $"closed in the middle of a frame ({_reader.Buffered} bytes dropped)";
                }

                return;
            }
        }
    }

    private async Task HandleAsync(SeedFrame frame)
    {
        string? text;
        try
        {
            text = s_strictUtf8.GetString(Convert.FromBase64String(frame.Payload));
        }
        catch (Exception exception) when (exception is FormatException or DecoderFallbackException)
        {
            text = null;
        }

        // Every frame counts against the rate limit, refused ones too, except the chunks of a file being received:
        // as for Parley clients, file data is bounded by the file size limit instead.
        var isChunk = _upload is not null && text is not null && text.StartsWith("@FILE:", StringComparison.Ordinal) && frame.Sender == _name;
        if (!isChunk)
        {
            var length = Encoding.UTF8.GetByteCount(frame.Payload) + frame.Sender.Length + frame.Receiver.Length + frame.Timestamp.Length + 5;
            await _rateLimiter.AcquireAsync(length, morePending: _reader.Buffered > 0, _lifetime.Token).ConfigureAwait(false);
        }

        if (frame.Sender != _name)
        {
            await RefuseFrameAsync($"a frame from \"{frame.Sender}\" was refused: you are {_name}").ConfigureAwait(false);
            return;
        }

        if (frame.Receiver == SeedFrame.Server)
        {
            await RefuseFrameAsync($"{SeedFrame.Server} only understands {SeedFrame.Exit}").ConfigureAwait(false);
            return;
        }

        if (text is null)
        {
            await RefuseFrameAsync($"a message to {frame.Receiver} was not valid base64 of UTF-8 text and was not delivered").ConfigureAwait(false);
            return;
        }

        if (!Names.TryNormalizeRecipient(frame.Receiver, out var to))
        {
            await RefuseFrameAsync($"bad recipient name \"{frame.Receiver}\"; the message was not delivered").ConfigureAwait(false);
            return;
        }

        if (text.StartsWith("@FILENAME:", StringComparison.Ordinal))
        {
            await StartFileAsync(to, text["@FILENAME:".Length..]).ConfigureAwait(false);
        }
        else if (text.StartsWith("@FILEEND:", StringComparison.Ordinal) && _upload is not null)
        {
            await FinishFileAsync().ConfigureAwait(false);
        }
        else if (isChunk)
        {
            var upload = _upload!;
            if (!upload.Refused && !upload.TryAppend(text["@FILE:".Length..]))
            {
                await RefuseFrameAsync($"the file {upload.Name} is over this server's limit of {Options.SeedCompatMaxFileBytes} bytes for this client; it was not sent").ConfigureAwait(false);
            }
        }
        else
        {
            await SendMessageAsync(to, text).ConfigureAwait(false);
        }
    }

    private async Task SendMessageAsync(string to, string text)
    {
        if (Encoding.UTF8.GetByteCount(text) > Options.Limits.MaxTextBytes)
        {
            await RefuseFrameAsync($"a message is at most {Options.Limits.MaxTextBytes} bytes; that one was not delivered").ConfigureAwait(false);
            return;
        }

        var id = MessageId.NewTimeOrdered();
        var (status, recipient) = await AppendAsync(to, resolved => new Submission(User, id, resolved, text,
            resolved == BuiltInAccounts.Echo ? BuiltInAccounts.EchoReply(text) : null)).ConfigureAwait(false);
        if (status is AppendStatus.Stored)
        {
            _services.Metrics.MessageStored();
        }
        else
        {
            await RefuseAppendAsync(status, recipient, "the message").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Appends to <paramref name="to"/>; a plain name that no account owns is tried as a guest's ("~name"), since the
    /// old client addresses everyone by a plain name.
    /// </summary>
    private async Task<(AppendStatus Status, string To)> AppendAsync(string to, Func<string, Submission> submission)
    {
        var result = await _services.Store.AppendAsync(submission(to), _lifetime.Token).ConfigureAwait(false);
        if (result.Status == AppendStatus.UnknownRecipient && !Names.IsGuest(to))
        {
            var guest = Names.GuestPrefix + to;
            var second = await _services.Store.AppendAsync(submission(guest), _lifetime.Token).ConfigureAwait(false);
            if (second.Status != AppendStatus.UnknownRecipient)
            {
                return (second.Status, guest);
            }
        }

        return (result.Status, to);
    }

    private Task RefuseAppendAsync(AppendStatus status, string to, string what) => status switch
    {
        AppendStatus.Stored or AppendStatus.Duplicate => Task.CompletedTask,
        AppendStatus.QueueFull => RefuseFrameAsync($"{to} has too many unread messages; {what} was not delivered, try later"),
        AppendStatus.UnknownRecipient => RefuseFrameAsync($"there is no user {to}; {what} was not delivered"),
        _ => RefuseFrameAsync($"{what} to {to} was not stored ({status})"),
    };

    private async Task StartFileAsync(string to, string name)
    {
        if (_upload is { } unfinished)
        {
            await RefuseFrameAsync($"the file {unfinished.Name} did not end before the next one began; it was not sent").ConfigureAwait(false);
        }

        _upload = new SeedFileUpload(to, name, Options.SeedCompatMaxFileBytes);
        if (_services.Blobs is null)
        {
            _upload.Refuse();
            await RefuseFrameAsync("file transfer is not enabled on this server; the file was not sent").ConfigureAwait(false);
        }
    }

    /// <summary>Stores a complete file from the old client as a Parley file offer, through the same blob store as uploads.</summary>
    private async Task FinishFileAsync()
    {
        var upload = _upload!;
        _upload = null;
        var blobs = _services.Blobs;
        if (upload.Refused || blobs is null)
        {
            return;
        }

        var to = upload.To;
        if (await _services.Store.GetPasswordHashAsync(to, _lifetime.Token).ConfigureAwait(false) is null)
        {
            to = Names.IsGuest(to) ? to : Names.GuestPrefix + to;
            if (await _services.Store.GetPasswordHashAsync(to, _lifetime.Token).ConfigureAwait(false) is null)
            {
                await RefuseFrameAsync($"there is no user {upload.To}; the file {upload.Name} was not sent").ConfigureAwait(false);
                return;
            }
        }

        var data = upload.ToArray();
        var sha256 = SHA256.HashData(data);
        var id = MessageId.NewTimeOrdered();
        var name = upload.OfferedName();
        var (record, _, message) = await blobs.CreateAsync(id, User, to, name, (ulong)data.Length, sha256, _lifetime.Token).ConfigureAwait(false);
        if (record is null)
        {
            await RefuseFrameAsync($"the file {upload.Name} was not sent: {message}").ConfigureAwait(false);
            return;
        }

        var state = await blobs.OpenUploadAsync(record, _lifetime.Token).ConfigureAwait(false);
        await state.AppendAsync(data, _lifetime.Token).ConfigureAwait(false);
        state.Finish();
        await blobs.CompleteAsync(state, _lifetime.Token).ConfigureAwait(false);
        var offer = new FileOffer(id, name, (ulong)data.Length, sha256);
        var result = await _services.Store.AppendAsync(new Submission(User, id, to, offer.Describe(), File: offer), _lifetime.Token).ConfigureAwait(false);
        await RefuseAppendAsync(result.Status, to, $"the file {upload.Name}").ConfigureAwait(false);
    }

    /// <summary>Pulls the guest's log after its cursor, as a device's delivery loop does, until the connection ends.</summary>
    private async Task DeliveryLoopAsync()
    {
        var token = _lifetime.Token;
        try
        {
            while (await _wake.Reader.WaitToReadAsync(token).ConfigureAwait(false))
            {
                _wake.Reader.TryRead(out _);
                while (true)
                {
                    var batch = await _services.Store.ReadLogAsync(User, _delivered, ReadBatch, token).ConfigureAwait(false);
                    if (batch.Count == 0)
                    {
                        break;
                    }

                    foreach (var entry in batch)
                    {
                        // The guest's own messages are in its log too (for history); the old client never showed them.
                        if (entry.To == User)
                        {
                            await DeliverAsync(entry, token).ConfigureAwait(false);
                            _services.Metrics.MessagesOut.Add(1);
                        }

                        // Only after the write succeeded: a connection lost before it means the entry comes again.
                        _delivered = entry.Sequence;
                        await _services.Store.SaveCursorAsync(User, Device, entry.Sequence, token).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
        }
        catch (TimeoutException)
        {
            _closeReason = "slow consumer: the client did not read for " + Options.WriteTimeout.TotalSeconds + " s";
            await _lifetime.CancelAsync().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.GuestFailed(_services.Logger, User, exception);
            await _lifetime.CancelAsync().ConfigureAwait(false);
        }
    }

    private async Task DeliverAsync(LogEntry entry, CancellationToken token)
    {
        var time = SeedFrameWriter.Timestamp(entry.Time);
        if (entry.File is not { } offer)
        {
            foreach (var frame in SeedFrameWriter.EncodeSplit(entry.From, _name, time, string.Empty, entry.Text, Options.SeedCompatMaxOutgoingFrameBytes))
            {
                await WriteAsync(frame, token).ConfigureAwait(false);
            }

            return;
        }

        var text = await ReadTextFileAsync(offer, token).ConfigureAwait(false);
        if (text is null)
        {
            await NoticeAsync($"{entry.From} offered you a file, {offer.Name} ({offer.Size} bytes), that this client cannot receive: " +
                $"only UTF-8 text files up to {Options.SeedCompatMaxFileBytes} bytes, still on the server, are sent to it").ConfigureAwait(false);
            return;
        }

        // The note's own form: the name, the text in pieces, the end. The client writes NAME.txt in its folder.
        var safe = SeedFrameWriter.SafeFileName(offer.Name);
        var max = Options.SeedCompatMaxOutgoingFrameBytes;
        await WriteAsync(SeedFrameWriter.Encode(entry.From, _name, time, "@FILENAME:" + safe), token).ConfigureAwait(false);
        foreach (var frame in SeedFrameWriter.EncodeSplit(entry.From, _name, time, "@FILE:", text, max))
        {
            await WriteAsync(frame, token).ConfigureAwait(false);
        }

        await WriteAsync(SeedFrameWriter.Encode(entry.From, _name, time, "@FILEEND:" + safe), token).ConfigureAwait(false);
        if (_services.Blobs is { } blobs && await blobs.FindAsync(offer.FileId, token).ConfigureAwait(false) is { } record)
        {
            await blobs.MarkFetchedAsync(record, token).ConfigureAwait(false);
        }
    }

    /// <summary>The offered file's content when it is UTF-8 text within the limit and still stored; else null.</summary>
    private async Task<string?> ReadTextFileAsync(FileOffer offer, CancellationToken token)
    {
        if (_services.Blobs is not { } blobs ||
            await blobs.FindAsync(offer.FileId, token).ConfigureAwait(false) is not { Complete: true } record || record.Size > Options.SeedCompatMaxFileBytes)
        {
            return null;
        }

        try
        {
            var blob = await blobs.OpenReadAsync(record, 0, token).ConfigureAwait(false);
            if (blob is null)
            {
                return null;
            }

            var bytes = new byte[record.Size];
            await using (blob.ConfigureAwait(false))
            {
                await blob.ReadExactlyAsync(bytes, token).ConfigureAwait(false);
            }

            var text = s_strictUtf8.GetString(bytes);
            // The client writes in text mode; a NUL means this is not text even if it decodes.
            return text.Contains('\0', StringComparison.Ordinal) ? null : text;
        }
        catch (Exception exception) when (exception is IOException or DecoderFallbackException)
        {
            return null;
        }
    }

    /// <summary>Tells the guest why one frame was not used; logged too. The connection stays open.</summary>
    private Task RefuseFrameAsync(string problem)
    {
        Log.GuestFrameRefused(_services.Logger, User, problem);
        return NoticeAsync(problem).AsTask();
    }

    /// <summary>A message to the guest from the note's server name (no Parley account can be called "SEVER": names are lower case).</summary>
    private async ValueTask NoticeAsync(string text)
    {
        var time = SeedFrameWriter.Timestamp(Options.Time.GetUtcNow().ToUnixTimeMilliseconds());
        var receiver = _name.Length > 0 ? _name : "guest";
        try
        {
            foreach (var frame in SeedFrameWriter.EncodeSplit(SeedFrame.Server, receiver, time, string.Empty, text, Options.SeedCompatMaxOutgoingFrameBytes))
            {
                await WriteAsync(frame, CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is IOException or SocketException or ObjectDisposedException or TimeoutException or OperationCanceledException)
        {
            // the guest is gone; nothing to tell
        }
    }

    /// <summary>
    /// Writes one frame in one send, then pauses (<see cref="ServerOptions.SeedCompatWritePacing"/>) so that the
    /// client's next recv(1024) is unlikely to hold more than one. Throws TimeoutException for a client that does not read.
    /// </summary>
    private async Task WriteAsync(byte[] frame, CancellationToken token)
    {
        await _writeLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            var sent = 0;
            while (sent < frame.Length)
            {
                sent += await _socket.SendAsync(frame.AsMemory(sent), SocketFlags.None, token).AsTask()
                    .WaitAsync(Options.WriteTimeout, Options.Time, token).ConfigureAwait(false);
            }

            await Task.Delay(Options.SeedCompatWritePacing, Options.Time, token).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Reads from the socket into the reader: the byte count, 0 when the client closed, null when <paramref name="wait"/> passed first.</summary>
    private async Task<int?> ReceiveAsync(TimeSpan wait)
    {
        // One receive is kept pending across timeouts, so no bytes are lost to a cancelled read.
        _pendingRead ??= _socket.ReceiveAsync(_receiveBuffer.AsMemory(), SocketFlags.None, _lifetime.Token).AsTask();
        if (wait != Timeout.InfiniteTimeSpan)
        {
            var finished = await Task.WhenAny(_pendingRead, Task.Delay(wait, Options.Time, _lifetime.Token)).ConfigureAwait(false);
            if (finished != _pendingRead)
            {
                _lifetime.Token.ThrowIfCancellationRequested();
                return null;
            }
        }

        var read = await _pendingRead.ConfigureAwait(false);
        _pendingRead = null;
        _reader.Append(_receiveBuffer.AsSpan(0, read));
        return read;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
