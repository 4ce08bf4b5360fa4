using System.Runtime.InteropServices;
using System.Text;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Terminal;

/// <summary>
/// The full-screen front end over <see cref="ChatState"/>: raw mode, the alternate screen, one UI loop that applies
/// every event (keys, messages, presence, send results, resizes) and then draws once, so a burst of messages costs
/// one redraw and typing is never interleaved with output. Idle, every thread is blocked (a read on stdin, the
/// network, an empty channel): no polling, ~0% CPU.
/// </summary>
public sealed class FullScreenChat
{
    private const int HistoryPage = 50;
    private readonly DeviceSession _session;
    private readonly IFileTransferHook? _files;
    private readonly ChatState _state;
    private readonly InputLine _input = new();
    private readonly Completer _completer = new();
    private readonly KeyDecoder _decoder = new();
    private readonly ScreenRenderer _renderer;
    private readonly Channel<Action> _ui = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<ChatEntry> _outbox = Channel.CreateUnbounded<ChatEntry>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TimeZoneInfo _zone = TimeZoneInfo.Local;
    private readonly Stream _stdout = new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, 1);
    private bool _quit;
    private bool _synced;
    private string? _exitMessage;

    public FullScreenChat(DeviceSession session, IFileTransferHook? files, bool color)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _files = files;
        _renderer = new ScreenRenderer(color);
        _state = new ChatState(session.Profile.User, session.Cursor);
        // Presence is followed per conversation (WATCH): the people you talk to, as in a buddy list.
        _state.ConversationOpened += peer => _ = _session.WatchAsync([peer]);
        _state.Info($"{session.Profile.User} on {session.Profile.Server}. /query NAME to talk to someone, /help for commands.", DateTimeOffset.Now);
    }

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var saved = TerminalNative.GetMode() ?? throw new InvalidOperationException("stdin is not a terminal");
        var restored = 0;
        void Restore()
        {
            if (Interlocked.Exchange(ref restored, 1) == 0)
            {
                // Leave the alternate screen, show the cursor, reset colours, then the saved terminal mode.
                Write("\x1b[0m\x1b[?25h\x1b[?1049l");
                TerminalNative.SetMode(saved);
            }
        }

        EventHandler onExit = (_, _) => Restore();
        AppDomain.CurrentDomain.ProcessExit += onExit;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var resize = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context =>
        {
            context.Cancel = true;
            Post(static () => { });
        });
        using var clock = new Timer(_ => Post(static () => { }), null, TimeSpan.FromSeconds(60 - DateTime.Now.Second), TimeSpan.FromMinutes(1));
        Task receive = Task.CompletedTask;
        Task sender = Task.CompletedTask;
        try
        {
            TerminalNative.EnterRaw(saved);
            Write("\x1b[?1049h\x1b[H\x1b[2J");
            StartInput();
            _session.StatusChanged += OnStatus;
            receive = _session.ReceiveAsync(message =>
            {
                Post(() => _state.Receive(message));
                return ValueTask.CompletedTask;
            }, serverEvent => Post(() => OnEvent(serverEvent, stop.Token)), follow: true, stop.Token);
            _ = receive.ContinueWith(t => Post(() =>
            {
                if (t.Exception?.GetBaseException() is { } error)
                {
                    _exitMessage = error.Message;
                    _quit = true;
                }
            }), TaskScheduler.Default);
            sender = SendLoopAsync(stop.Token);
            Draw();
            while (!_quit)
            {
                try
                {
                    if (!await _ui.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
                    {
                        break;
                    }
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                while (!_quit && _ui.Reader.TryRead(out var action))
                {
                    action();
                }

                if (!_quit)
                {
                    Draw();
                }
            }
        }
        finally
        {
            _session.StatusChanged -= OnStatus;
            Restore();
            AppDomain.CurrentDomain.ProcessExit -= onExit;
            await stop.CancelAsync().ConfigureAwait(false);
            _outbox.Writer.TryComplete();
            await Task.WhenAll(receive, sender).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        }

        if (_exitMessage is not null)
        {
            await Console.Error.WriteLineAsync("parley: " + _exitMessage).ConfigureAwait(false);
            return 1;
        }

        return 0;
    }

    private void OnStatus(string status) => Post(() =>
    {
        _state.Status = "reconnecting";
        _state.CatchingUp = true;
        _state.Info(status, DateTimeOffset.Now, _state.Conversations[0]);
    });

    private void Post(Action action) => _ui.Writer.TryWrite(action);

    private void Write(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        _stdout.Write(bytes);
        _stdout.Flush();
    }

    private void Draw()
    {
        var (width, height) = TerminalNative.Size();
        Write(_renderer.Render(_state, _input, width, height, DateTimeOffset.Now, _zone));
    }

    /// <summary>Blocking reads on their own thread: a key wakes the UI loop; nothing else ever polls.</summary>
    private void StartInput()
    {
        var thread = new Thread(() =>
        {
            using var stdin = new FileStream(new SafeFileHandle(0, ownsHandle: false), FileAccess.Read, 1);
            var decoder = Encoding.UTF8.GetDecoder();
            var bytes = new byte[1024];
            var chars = new char[2048];
            while (true)
            {
                int read;
                try
                {
                    read = stdin.Read(bytes);
                }
                catch (IOException)
                {
                    read = 0;
                }

                if (read <= 0)
                {
                    Post(() => _quit = true);
                    return;
                }

                var count = decoder.GetChars(bytes, 0, read, chars, 0);
                var keys = _decoder.Feed(chars.AsSpan(0, count));
                Post(() =>
                {
                    foreach (var key in keys)
                    {
                        OnKey(key);
                    }
                });
            }
        })
        { IsBackground = true, Name = "terminal input" };
        thread.Start();
    }

    private void OnEvent(ServerEvent serverEvent, CancellationToken cancellationToken)
    {
        switch (serverEvent)
        {
            case PresenceEvent presence:
                _state.SetPresence(presence.User, presence.Online);
                if (_state.Find(presence.User) is { } conversation)
                {
                    _state.Info($"{presence.User} is {(presence.Online ? "online" : "offline")}", DateTimeOffset.Now, conversation);
                }

                break;
            case ReceiptEvent receipt:
                _state.MarkDelivered(receipt.Peer, receipt.UpTo);
                break;
            case SyncedEvent:
                _state.CatchingUp = false;
                _state.Status = "connected";
                if (!_synced)
                {
                    _synced = true;
                    _ = LoadStartAsync(cancellationToken);
                }

                break;
        }
    }

    /// <summary>After the first catch-up: who is online, and the recent history (which fills the conversation list).</summary>
    private async Task LoadStartAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await _session.ConnectedAsync(cancellationToken).ConfigureAwait(false);
            var users = await connection.WhoAsync(cancellationToken).ConfigureAwait(false);
            Post(() => _state.SetOnline(users.Select(u => u.User)));
            if (_state.ReadUpTo > 0)
            {
                var entries = await connection.HistoryAsync(_state.ReadUpTo + 1, 200, null, cancellationToken).ConfigureAwait(false);
                Post(() => _state.AddHistory(_state.Conversations[0], entries, 0));
            }
        }
        catch (Exception error) when (error is OperationCanceledException or IOException or ParleyErrorException)
        {
            Post(() => _state.Info("could not load history: " + error.Message, DateTimeOffset.Now, _state.Conversations[0]));
        }
    }

    private void LoadOlder(Conversation conversation, CancellationToken cancellationToken = default)
    {
        if (conversation.IsStatus || conversation.HistoryLoading || conversation.HistoryExhausted)
        {
            return;
        }

        conversation.HistoryLoading = true;
        var before = conversation.OldestSequence;
        _ = Task.Run(async () =>
        {
            try
            {
                var connection = await _session.ConnectedAsync(cancellationToken).ConfigureAwait(false);
                var entries = await connection.HistoryAsync(before, HistoryPage, conversation.Name, cancellationToken).ConfigureAwait(false);
                Post(() => _state.AddHistory(conversation, entries, HistoryPage));
            }
            catch (Exception error) when (error is OperationCanceledException or IOException or ParleyErrorException)
            {
                Post(() =>
                {
                    conversation.HistoryLoading = false;
                    _state.Info("could not load history: " + error.Message, DateTimeOffset.Now, conversation);
                });
            }
        }, cancellationToken);
    }

    /// <summary>One sender, in typing order; DeviceSession retries across reconnects under the same id.</summary>
    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var entry in _outbox.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                try
                {
                    var ok = await _session.SendAsync(entry.Id, entry.To, entry.Text, cancellationToken).ConfigureAwait(false);
                    Post(() => _state.MarkStored(entry.Id, ok.Sequence, DateTimeOffset.FromUnixTimeMilliseconds(ok.Time)));
                }
                catch (ParleyErrorException error)
                {
                    Post(() => _state.MarkFailed(entry.Id, error.Message));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void OnKey(Key key)
    {
        if (key.Kind != KeyKind.Tab)
        {
            _completer.Reset();
        }

        var current = _state.Current;
        switch (key)
        {
            case { Kind: KeyKind.Char }:
                _input.Insert(key.Char.ToString());
                break;
            case { Kind: KeyKind.Enter }:
                Execute(_input.Submit());
                break;
            case { Kind: KeyKind.Backspace }:
                _input.Backspace();
                break;
            case { Kind: KeyKind.Delete }:
                _input.Delete();
                break;
            case { Kind: KeyKind.Left }:
                _input.Left();
                break;
            case { Kind: KeyKind.Right }:
                _input.Right();
                break;
            case { Kind: KeyKind.Home } or { Kind: KeyKind.Ctrl, Char: 'a' }:
                _input.Home();
                break;
            case { Kind: KeyKind.End } or { Kind: KeyKind.Ctrl, Char: 'e' }:
                _input.End();
                break;
            case { Kind: KeyKind.Up }:
                _input.HistoryUp();
                break;
            case { Kind: KeyKind.Down }:
                _input.HistoryDown();
                break;
            case { Kind: KeyKind.Tab }:
                _completer.Complete(_input, _state.KnownNames());
                break;
            case { Kind: KeyKind.PageUp }:
                current.ScrollOffset += Math.Max(1, _renderer.PaneHeight / 2);
                if (current.ScrollOffset >= _renderer.MaxScroll)
                {
                    LoadOlder(current);
                }

                break;
            case { Kind: KeyKind.PageDown }:
                current.ScrollOffset = Math.Max(0, current.ScrollOffset - Math.Max(1, _renderer.PaneHeight / 2));
                break;
            case { Kind: KeyKind.Alt, Char: >= '1' and <= '9' }:
                Switched(_state.SwitchToWindow(key.Char - '0'));
                break;
            case { Kind: KeyKind.Alt, Char: '0' }:
                Switched(_state.SwitchToWindow(10));
                break;
            case { Kind: KeyKind.Alt, Char: 'a' }:
                Switched(_state.NextWithActivity());
                break;
            case { Kind: KeyKind.Ctrl, Char: 'n' }:
                _state.Next();
                Switched(true);
                break;
            case { Kind: KeyKind.Ctrl, Char: 'p' }:
                _state.Previous();
                Switched(true);
                break;
            case { Kind: KeyKind.Ctrl, Char: 'w' }:
                _input.DeleteWordBack();
                break;
            case { Kind: KeyKind.Ctrl, Char: 'k' }:
                _input.KillToEnd();
                break;
            case { Kind: KeyKind.Ctrl, Char: 'u' }:
                _input.Clear();
                break;
            case { Kind: KeyKind.Ctrl, Char: 'l' }:
                _renderer.Invalidate();
                break;
            case { Kind: KeyKind.Ctrl, Char: 'c' }:
                _quit = true;
                break;
            case { Kind: KeyKind.Ctrl, Char: 'd' }:
                if (_input.Text.Length == 0)
                {
                    _quit = true;
                }
                else
                {
                    _input.Delete();
                }

                break;
            default:
                // Esc and unknown keys do nothing: Esc is a meta prefix to tmux/irssi users, never "quit".
                break;
        }
    }

    /// <summary>After a switch: a conversation with little on screen asks the server for its older history.</summary>
    private void Switched(bool switched)
    {
        if (switched && _state.Current.Entries.Count(e => !e.IsInfo) < _renderer.PaneHeight)
        {
            LoadOlder(_state.Current);
        }
    }

    private void Execute(string line)
    {
        var now = DateTimeOffset.Now;
        var command = CommandParser.Parse(line);
        switch (command.Kind)
        {
            case CommandKind.Empty:
                break;
            case CommandKind.Say when _state.Current.IsStatus:
                _state.Info("no conversation here: /query NAME first", now);
                break;
            case CommandKind.Say:
                Send(_state.Current.Name, command.Text!);
                break;
            case CommandKind.Query or CommandKind.Message:
                if (!Names.TryNormalizeRecipient(command.Name!, out var peer))
                {
                    _state.Info($"bad user name {command.Name}", now);
                    break;
                }

                _state.Query(peer);
                Switched(true);
                if (command is { Kind: CommandKind.Message, Text: { } text })
                {
                    Send(peer, text);
                }

                break;
            case CommandKind.Who:
                _ = WhoAsync();
                break;
            case CommandKind.Close:
                if (!_state.Close(command.Name))
                {
                    _state.Info("nothing to close (the status window stays)", now);
                }

                break;
            case CommandKind.Send:
                SendFile(command.Text!);
                break;
            case CommandKind.Get:
                GetFile(command.Text!);
                break;
            case CommandKind.Help:
                _state.Info(command.Name is null ? CommandParser.Help : CommandParser.HelpFor(command.Name) ?? $"no command {command.Name}", now);
                break;
            case CommandKind.Quit:
                _quit = true;
                break;
            case CommandKind.Invalid:
                _state.Info(command.Text!, now);
                break;
        }
    }

    private void Send(string peer, string text)
    {
        var entry = _state.AddPending(peer, text, DateTimeOffset.Now);
        _outbox.Writer.TryWrite(entry);
    }

    private void SendFile(string path)
    {
        var conversation = _state.Current;
        if (_files is null)
        {
            _state.Info("file transfer is not available in this build", DateTimeOffset.Now);
            return;
        }

        if (conversation.IsStatus)
        {
            _state.Info("no conversation here: /query NAME first", DateTimeOffset.Now);
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                await _files.SendFileAsync(conversation.Name, path, report => Post(() => _state.Info(report, DateTimeOffset.Now, conversation)), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception error) when (error is IOException or ParleyErrorException or UnauthorizedAccessException)
            {
                Post(() => _state.Info($"sending {path} failed: {error.Message}", DateTimeOffset.Now, conversation));
            }
        });
    }

    private void GetFile(string id)
    {
        if (_files is null)
        {
            _state.Info("file transfer is not available in this build", DateTimeOffset.Now);
            return;
        }

        var conversation = _state.Current;
        _ = Task.Run(async () =>
        {
            try
            {
                await _files.GetFileAsync(id, report => Post(() => _state.Info(report, DateTimeOffset.Now, conversation)), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception error) when (error is IOException or ParleyErrorException or UnauthorizedAccessException or InvalidDataException)
            {
                Post(() => _state.Info($"getting {id} failed: {error.Message}", DateTimeOffset.Now, conversation));
            }
        });
    }

    private async Task WhoAsync()
    {
        try
        {
            var connection = await _session.ConnectedAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            var users = await connection.WhoAsync().ConfigureAwait(false);
            Post(() =>
            {
                _state.SetOnline(users.Select(u => u.User));
                _state.Info("online: " + string.Join(", ", users.Select(u => u.User)), DateTimeOffset.Now);
            });
        }
        catch (Exception error) when (error is TimeoutException or IOException or ParleyErrorException)
        {
            Post(() => _state.Info("who failed: " + error.Message, DateTimeOffset.Now));
        }
    }
}
