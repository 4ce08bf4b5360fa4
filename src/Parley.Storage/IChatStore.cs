namespace Parley.Storage;

/// <summary>
/// The durable state of a Parley server. All methods are safe to call concurrently. A write method's task completes
/// only after the write is durable (for SQLite: committed with synchronous=FULL), which is what lets the server
/// acknowledge a message to its sender.
/// </summary>
public interface IChatStore : IAsyncDisposable
{
    /// <summary>
    /// Called after every durable commit that appended log entries, with those entries in commit order, before the
    /// corresponding write tasks complete. Called from one thread at a time, so a router sees each user's entries in
    /// sequence order. It must not block.
    /// </summary>
    Action<IReadOnlyList<LogEntry>>? Committed { get; set; }

    /// <summary>
    /// Called after a commit in which a user's most advanced device cursor moved past messages from others, with one
    /// receipt per (sender, recipient) pair: the router turns them into RECEIPT frames for the senders' devices. Same
    /// thread rules as <see cref="Committed"/>.
    /// </summary>
    Action<IReadOnlyList<DeliveryReceipt>>? Delivered { get; set; }

    /// <summary>Creates an account. False when the name is taken.</summary>
    Task<bool> CreateUserAsync(string user, string passwordHash, CancellationToken cancellationToken = default);

    /// <summary>The stored password hash of <paramref name="user"/>, or null for an unknown user.</summary>
    Task<string?> GetPasswordHashAsync(string user, CancellationToken cancellationToken = default);

    /// <summary>Replaces a password hash (rehash with stronger parameters, password change).</summary>
    Task SetPasswordHashAsync(string user, string passwordHash, CancellationToken cancellationToken = default);

    /// <summary>Stores the hash of a new resume token.</summary>
    Task AddTokenAsync(ResumeTokenRecord token, CancellationToken cancellationToken = default);

    /// <summary>Removes and returns the token with this hash, or null when there is none. Used once: tokens rotate.</summary>
    Task<ResumeTokenRecord?> TakeTokenAsync(byte[] tokenHash, CancellationToken cancellationToken = default);

    /// <summary>
    /// A resume: removes and returns the token with hash <paramref name="presentedHash"/> (null when there is none), and
    /// stores <paramref name="replacement"/> only if the token taken belongs to the replacement's user and device and
    /// has not expired at <paramref name="now"/>. One write where the store allows it, so a crash never leaves the
    /// device with neither token.
    /// </summary>
    Task<ResumeTokenRecord?> ExchangeTokenAsync(byte[] presentedHash, ResumeTokenRecord replacement, DateTimeOffset now,
        CancellationToken cancellationToken = default);

    /// <summary>Revokes the tokens of one device, or of every device of the user when <paramref name="device"/> is null.</summary>
    Task RevokeTokensAsync(string user, string? device, CancellationToken cancellationToken = default);

    /// <summary>Appends a message to the recipient's log (and a copy to the sender's), deduplicated on (sender, id).</summary>
    Task<AppendResult> AppendAsync(Submission submission, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends like <see cref="AppendAsync"/> and calls <paramref name="completed"/> once with the outcome, when it is
    /// durable, or with the exception when the append failed. A store may call it on its own writer thread, at the
    /// commit, so it must only queue work (a reply frame) and must not block or throw. It spares the thread-pool hop
    /// between the commit and the reply (docs/performance.md, session 10).
    /// </summary>
    void Append(Submission submission, Action<AppendResult, Exception?> completed) =>
        AppendAsync(submission).ContinueWith(
            static (task, state) => ((Action<AppendResult, Exception?>)state!)(
                task.IsCompletedSuccessfully ? task.Result : default,
                task.IsCompletedSuccessfully ? null : task.Exception?.InnerException ?? new OperationCanceledException()),
            completed, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    /// <summary>Entries of <paramref name="owner"/>'s log with a sequence above <paramref name="after"/>, oldest first, at most <paramref name="max"/>.</summary>
    Task<IReadOnlyList<LogEntry>> ReadLogAsync(string owner, ulong after, int max, CancellationToken cancellationToken = default);

    /// <summary>
    /// The newest entries of <paramref name="owner"/>'s log with a sequence below <paramref name="before"/>, at most
    /// <paramref name="max"/>, returned oldest first; only the conversation with <paramref name="peer"/> when given.
    /// </summary>
    Task<IReadOnlyList<LogEntry>> ReadHistoryAsync(string owner, ulong before, int max, string? peer, CancellationToken cancellationToken = default);

    /// <summary>The last sequence number of <paramref name="owner"/>'s log (0 when empty).</summary>
    Task<ulong> GetHeadAsync(string owner, CancellationToken cancellationToken = default);

    /// <summary>Records that a device has everything up to <paramref name="acknowledged"/> (never moves backwards).</summary>
    Task SaveCursorAsync(string user, string device, ulong acknowledged, CancellationToken cancellationToken = default);

    /// <summary>What a device acknowledged last (0 when never).</summary>
    Task<ulong> GetCursorAsync(string user, string device, CancellationToken cancellationToken = default);
}
