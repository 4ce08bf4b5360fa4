using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Storage;

namespace Parley.Server.Sessions;

/// <summary>
/// Who is online: the sessions of each user, at most one per device. Routes committed log entries to the sessions
/// of their owner, replaces a device's older session, and tells everyone when a user comes or goes. With a
/// <paramref name="cluster"/> presence (cluster mode), a user counts as online while any node has one of their devices.
/// </summary>
internal sealed class SessionRegistry(ServerOptions options, ServerMetrics metrics, IClusterPresence? cluster = null)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<Session>> _byUser = new(StringComparer.Ordinal);

    /// <summary>Guests of the seed-compat listener, by their "~name": at most one connection each (docs/seed-compat.md).</summary>
    private readonly Dictionary<string, SeedCompat.GuestSession> _guests = new(StringComparer.Ordinal);

    /// <summary>
    /// Who follows whose presence (WATCH, protocol §5.6): user → the sessions watching them. A presence change goes to
    /// these sessions only, so a login costs work in proportion to that user's watchers, not to everyone online (with
    /// a broadcast to all, N logins cost N² frames: the idle-connection benchmark spent most of its time there).
    /// </summary>
    private readonly Dictionary<string, HashSet<Session>> _watchers = new(StringComparer.Ordinal);

    /// <summary>Adds a session. Returns the error code when it cannot be added; replaces an older session of the same device.</summary>
    public ErrorCode Add(Session session)
    {
        Session? replaced = null;
        var cameOnline = false;
        lock (_lock)
        {
            if (!_byUser.TryGetValue(session.User, out var sessions))
            {
                sessions = [];
                _byUser[session.User] = sessions;
                cameOnline = true;
            }

            var index = sessions.FindIndex(s => s.Device == session.Device);
            if (index >= 0)
            {
                replaced = sessions[index];
                sessions.RemoveAt(index);
            }
            else if (sessions.Count >= options.MaxDevicesPerUser)
            {
                return ErrorCode.TooManySessions;
            }

            sessions.Add(session);
            if (cameOnline && !OnlineElsewhere(session.User))
            {
                // Inside the lock, so that an online and an offline of one user reach others in the order they happened.
                BroadcastLocked(new PresenceFrame(session.User, true), session.User);
            }

            cluster?.SetLocal(session.User, sessions.Count);
        }

        metrics.SessionOpened();
        // The same device may still be online on another node: that one is closed as if it were here.
        cluster?.CloseRemote(session.User, session.Device, null, (ushort)ErrorCode.Conflict,
            "this device logged in again elsewhere; this session is closed");
        if (replaced is not null)
        {
            metrics.SessionClosed();
            replaced.Connection.Abort(ErrorCode.Conflict, "this device logged in again elsewhere; this session is closed");
        }

        return ErrorCode.None;
    }

    public void Remove(Session session)
    {
        lock (_lock)
        {
            if (!_byUser.TryGetValue(session.User, out var sessions) || !sessions.Remove(session))
            {
                return;
            }

            ForgetWatchesLocked(session);
            if (sessions.Count == 0)
            {
                _byUser.Remove(session.User);
                if (!OnlineElsewhere(session.User))
                {
                    BroadcastLocked(new PresenceFrame(session.User, false), session.User);
                }
            }

            cluster?.SetLocal(session.User, sessions.Count);
        }

        metrics.SessionClosed();
    }

    /// <summary>
    /// Adds a guest of the seed-compat listener. False when a guest of that name is already connected: the second is
    /// refused and the first keeps its messages (the note's server let the second login steal them).
    /// </summary>
    public bool TryAddGuest(SeedCompat.GuestSession guest)
    {
        lock (_lock)
        {
            if (!_guests.TryAdd(guest.User, guest))
            {
                return false;
            }

            BroadcastLocked(new PresenceFrame(guest.User, true), guest.User);
        }

        metrics.SessionOpened();
        return true;
    }

    public void RemoveGuest(SeedCompat.GuestSession guest)
    {
        lock (_lock)
        {
            if (!_guests.TryGetValue(guest.User, out var current) || current != guest)
            {
                return;
            }

            _guests.Remove(guest.User);
            BroadcastLocked(new PresenceFrame(guest.User, false), guest.User);
        }

        metrics.SessionClosed();
    }

    /// <summary>Closes every session of <paramref name="session"/>'s user except that one.</summary>
    public void CloseOthers(Session session, ErrorCode code, string reason)
    {
        List<Session> others;
        lock (_lock)
        {
            others = _byUser.TryGetValue(session.User, out var sessions) ? sessions.Where(s => s != session).ToList() : [];
        }

        foreach (var other in others)
        {
            other.Connection.Abort(code, reason);
        }

        cluster?.CloseRemote(session.User, null, session.Device, (ushort)code, reason);
    }

    /// <summary>Another node asked to close sessions of a user here (see <see cref="IClusterPresence.CloseRemote"/>).</summary>
    public void OnRemoteClose(string user, string? device, string? exceptDevice, ushort code, string reason)
    {
        List<Session> targets;
        lock (_lock)
        {
            targets = _byUser.TryGetValue(user, out var sessions)
                ? sessions.Where(s => device is null ? s.Device != exceptDevice : s.Device == device).ToList()
                : [];
        }

        foreach (var target in targets)
        {
            target.Connection.Abort((ErrorCode)code, reason);
        }
    }

    /// <summary>The router: hands each committed entry to the online sessions of its owner. Runs on the store's writer thread.</summary>
    public void OnCommitted(IReadOnlyList<LogEntry> entries)
    {
        lock (_lock)
        {
            foreach (var entry in entries)
            {
                if (_byUser.TryGetValue(entry.Owner, out var sessions))
                {
                    foreach (var session in sessions)
                    {
                        session.OnAppended(entry);
                    }
                }
                else if (_guests.TryGetValue(entry.Owner, out var guest))
                {
                    guest.OnAppended();
                }
            }
        }
    }

    /// <summary>
    /// Turns delivery receipts into RECEIPT frames for the senders' online devices. Runs on the store's writer thread;
    /// a sender who is offline gets none (receipts are a live courtesy, not part of the log).
    /// </summary>
    public void OnDelivered(IReadOnlyList<DeliveryReceipt> receipts)
    {
        lock (_lock)
        {
            foreach (var receipt in receipts)
            {
                if (_byUser.TryGetValue(receipt.Sender, out var sessions))
                {
                    var frame = new ReceiptFrame(receipt.Recipient, receipt.SenderSequence);
                    foreach (var session in sessions)
                    {
                        session.Connection.Send(frame);
                    }
                }
            }
        }
    }

    /// <summary>The users online now (on any node in cluster mode), at most <paramref name="max"/>, in name order.</summary>
    public IReadOnlyList<OnlineUser> Online(int max)
    {
        var remote = cluster?.Remote() ?? new Dictionary<string, int>();
        lock (_lock)
        {
            // Guests are listed under their "~name", which is how WHO marks them as guests.
            var counts = new Dictionary<string, int>(remote, StringComparer.Ordinal);
            foreach (var (user, sessions) in _byUser)
            {
                counts[user] = counts.GetValueOrDefault(user) + sessions.Count;
            }

            foreach (var guest in _guests.Keys)
            {
                counts[guest] = counts.GetValueOrDefault(guest) + 1;
            }

            return counts
                .OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Take(max)
                .Select(pair => new OnlineUser(pair.Key, (ushort)Math.Min(pair.Value, ushort.MaxValue)))
                .ToList();
        }
    }

    /// <summary>
    /// Cluster mode: a user came online on another node while on none before, or left the last other node. Only a
    /// user with no session here changes state for this node's clients.
    /// </summary>
    public void OnRemotePresence(string user, bool online)
    {
        lock (_lock)
        {
            if (!_byUser.ContainsKey(user))
            {
                BroadcastLocked(new PresenceFrame(user, online), user);
            }
        }
    }

    private bool OnlineElsewhere(string user) => cluster is not null && cluster.Remote().ContainsKey(user);

    /// <summary>
    /// WATCH: <paramref name="session"/> starts or stops following the presence of <paramref name="users"/> (normalised
    /// names). An add is answered at once with each added user's state now, inside the lock, so that no change can fall
    /// between that answer and the pushes that follow. Returns <see cref="ErrorCode.TooManyWatched"/>, having changed
    /// nothing, when the session would watch more than <see cref="ServerOptions.MaxWatchedUsers"/> users.
    /// </summary>
    public ErrorCode Watch(Session session, bool add, IReadOnlyList<string> users)
    {
        lock (_lock)
        {
            if (!_byUser.TryGetValue(session.User, out var sessions) || !sessions.Contains(session))
            {
                return ErrorCode.None; // closed meanwhile: nothing to follow
            }

            var watched = session.Watched;
            if (!add)
            {
                foreach (var user in users)
                {
                    if (watched.Remove(user) && _watchers.TryGetValue(user, out var followers))
                    {
                        followers.Remove(session);
                        if (followers.Count == 0)
                        {
                            _watchers.Remove(user);
                        }
                    }
                }

                return ErrorCode.None;
            }

            var added = users.Distinct(StringComparer.Ordinal).Where(user => !watched.Contains(user)).ToList();
            if (watched.Count + added.Count > options.MaxWatchedUsers)
            {
                return ErrorCode.TooManyWatched;
            }

            foreach (var user in added)
            {
                watched.Add(user);
                if (!_watchers.TryGetValue(user, out var followers))
                {
                    followers = [];
                    _watchers[user] = followers;
                }

                followers.Add(session);
            }

            foreach (var user in users.Distinct(StringComparer.Ordinal))
            {
                var online = _byUser.ContainsKey(user) || _guests.ContainsKey(user) || OnlineElsewhere(user);
                session.Connection.Send(new PresenceFrame(user, online));
            }

            return ErrorCode.None;
        }
    }

    private void ForgetWatchesLocked(Session session)
    {
        foreach (var user in session.Watched)
        {
            if (_watchers.TryGetValue(user, out var followers))
            {
                followers.Remove(session);
                if (followers.Count == 0)
                {
                    _watchers.Remove(user);
                }
            }
        }

        session.Watched.Clear();
    }

    public IReadOnlyList<Session> All()
    {
        lock (_lock)
        {
            return _byUser.Values.SelectMany(s => s).ToList();
        }
    }

    /// <summary>
    /// Queues a presence frame about <paramref name="user"/> to the sessions that watch them, except the user's own.
    /// Caller holds the lock; Send never blocks.
    /// </summary>
    private void BroadcastLocked(Frame frame, string user)
    {
        if (_watchers.TryGetValue(user, out var followers))
        {
            foreach (var follower in followers)
            {
                if (follower.User != user)
                {
                    follower.Connection.Send(frame);
                }
            }
        }
    }
}
