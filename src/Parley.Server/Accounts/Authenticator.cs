using Parley.Protocol;
using Parley.Protocol.Frames;
using Parley.Security;
using Parley.Storage;

namespace Parley.Server.Accounts;

/// <summary>
/// REGISTER, LOGIN and RESUME (security.md 14-16, 19). Throttling is checked before any hash is computed, hashing is
/// capped at the throttle's concurrency limit, and an unknown user costs a dummy hash and gets the same error as a
/// wrong password, so neither timing nor code tells which names exist.
/// </summary>
internal sealed class Authenticator(IChatStore store, PasswordHasher hasher, LoginThrottle throttle, ServerOptions options, ServerMetrics metrics)
{
    private const string AuthFailedMessage = "wrong user name or password";

    public async Task<AuthResult> RegisterAsync(CredentialsFrame frame, string address, CancellationToken cancellationToken)
    {
        if (!options.AllowRegistration)
        {
            return AuthResult.Fail(ErrorCode.RegistrationClosed, "this server does not accept new accounts");
        }

        if (!Names.TryNormalizeUser(frame.User, out var user))
        {
            return AuthResult.Fail(ErrorCode.BadId, $"bad user name: use 1-{Names.MaxLength} of a-z 0-9 . _ -");
        }

        if (!Names.IsValidDevice(frame.Device))
        {
            return AuthResult.Fail(ErrorCode.BadId, "bad device id: use 1-64 of A-Z a-z 0-9 . _ -");
        }

        if (frame.Password.Length < options.MinPasswordLength)
        {
            return AuthResult.Fail(ErrorCode.WeakPassword, $"password too short: at least {options.MinPasswordLength} characters");
        }

        if (throttle.IsThrottled(address, user, out var retryAfter))
        {
            return Throttled(retryAfter);
        }

        string hash;
        using (await throttle.EnterHashingAsync(cancellationToken).ConfigureAwait(false))
        {
            hash = await OffEventLoop(() => hasher.Hash(frame.Password)).ConfigureAwait(false);
        }

        if (!await store.CreateUserAsync(user, hash, cancellationToken).ConfigureAwait(false))
        {
            // Counted as a failure so registration cannot be used to probe names at hashing speed.
            throttle.RecordFailure(address, user);
            return AuthResult.Fail(ErrorCode.UserExists, $"the name {user} is taken");
        }

        return AuthResult.Ok(user, frame.Device);
    }

    public async Task<AuthResult> LoginAsync(CredentialsFrame frame, string address, CancellationToken cancellationToken)
    {
        if (!Names.TryNormalizeUser(frame.User, out var user) || !Names.IsValidDevice(frame.Device))
        {
            return AuthResult.Fail(ErrorCode.BadId, "bad user name or device id");
        }

        var (refusal, stored) = await VerifyPasswordAsync(user, frame.Password, address, AuthFailedMessage, cancellationToken).ConfigureAwait(false);
        if (refusal is { } refused)
        {
            return refused;
        }

        if (hasher.NeedsRehash(stored!))
        {
            string rehash;
            using (await throttle.EnterHashingAsync(cancellationToken).ConfigureAwait(false))
            {
                rehash = await OffEventLoop(() => hasher.Hash(frame.Password)).ConfigureAwait(false);
            }

            await store.SetPasswordHashAsync(user, rehash, cancellationToken).ConfigureAwait(false);
        }

        return AuthResult.Ok(user, frame.Device);
    }

    public async Task<AuthResult> ResumeAsync(ResumeFrame frame, string address, CancellationToken cancellationToken)
    {
        if (!Names.TryNormalizeUser(frame.User, out var user) || !Names.IsValidDevice(frame.Device))
        {
            return AuthResult.Fail(ErrorCode.BadId, "bad user name or device id");
        }

        if (throttle.IsThrottled(address, user, out var retryAfter))
        {
            return Throttled(retryAfter);
        }

        // The presented token is taken and the next one stored in one write; the store keeps the next one only if the
        // taken token is this device's and still valid, the same test as below.
        var now = options.Time.GetUtcNow();
        var (next, nextRecord) = NewToken(user, frame.Device, now);
        var record = await store.ExchangeTokenAsync(ResumeTokens.HashToken(frame.Token), nextRecord, now, cancellationToken).ConfigureAwait(false);
        if (record is null || record.User != user || record.Device != frame.Device || record.Expires < now)
        {
            throttle.RecordFailure(address, user);
            metrics.LoginFailures.Add(1);
            return AuthResult.Fail(ErrorCode.AuthFailed, "resume token not valid; log in with the password");
        }

        throttle.RecordSuccess(address, user);
        return AuthResult.Ok(user, frame.Device, next, record);
    }

    /// <summary>
    /// Undoes a successful resume that the session registry then refused (too many devices online): removes the next
    /// token, never sent, and stores the spent one again with its old expiry. Two writes: a crash between them leaves
    /// the device with no token, and it logs in with its password, as after any lost token.
    /// </summary>
    public async Task UndoResumeAsync(AuthResult result, CancellationToken cancellationToken)
    {
        if (result.Token is not { } next || result.Spent is not { } spent)
        {
            return;
        }

        await store.TakeTokenAsync(ResumeTokens.HashToken(next), cancellationToken).ConfigureAwait(false);
        await store.AddTokenAsync(spent, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Checks the current password like a login, stores the new one's hash and revokes every token of the user.</summary>
    public async Task<AuthResult> ChangePasswordAsync(string user, ChangePasswordFrame change, string address, CancellationToken cancellationToken)
    {
        if (change.Replacement.Length < options.MinPasswordLength)
        {
            return AuthResult.Fail(ErrorCode.WeakPassword, $"password too short: at least {options.MinPasswordLength} characters");
        }

        var (refusal, _) = await VerifyPasswordAsync(user, change.Current, address, "the current password is wrong", cancellationToken).ConfigureAwait(false);
        if (refusal is { } refused)
        {
            return refused;
        }

        string replacement;
        using (await throttle.EnterHashingAsync(cancellationToken).ConfigureAwait(false))
        {
            replacement = await OffEventLoop(() => hasher.Hash(change.Replacement)).ConfigureAwait(false);
        }

        await store.SetPasswordHashAsync(user, replacement, cancellationToken).ConfigureAwait(false);
        await store.RevokeTokensAsync(user, device: null, cancellationToken).ConfigureAwait(false);
        return AuthResult.Ok(user, string.Empty);
    }

    /// <summary>
    /// The one password check of LOGIN and CHANGE_PASSWORD: throttle first (no hash for a throttled attempt), then the
    /// comparison under the hashing cap, re-checking the throttle once a slot is ours (attempts that queued together
    /// must not all get through); an unknown user costs a dummy hash. Failures and successes are recorded. Returns the
    /// refusal to send, or null and the stored hash.
    /// </summary>
    private async Task<(AuthResult? Refusal, string? Stored)> VerifyPasswordAsync(string user, string password, string address,
        string failure, CancellationToken cancellationToken)
    {
        if (throttle.IsThrottled(address, user, out var retryAfter))
        {
            return (Throttled(retryAfter), null);
        }

        var stored = await store.GetPasswordHashAsync(user, cancellationToken).ConfigureAwait(false);
        bool valid;
        using (await throttle.EnterHashingAsync(cancellationToken).ConfigureAwait(false))
        {
            if (throttle.IsThrottled(address, user, out retryAfter))
            {
                return (Throttled(retryAfter), null);
            }

            valid = await OffEventLoop(() =>
            {
                if (stored is null)
                {
                    hasher.VerifyDummy(password);
                    return false;
                }

                return hasher.Verify(password, stored);
            }).ConfigureAwait(false);
        }

        if (!valid)
        {
            throttle.RecordFailure(address, user);
            metrics.LoginFailures.Add(1);
            return (AuthResult.Fail(ErrorCode.AuthFailed, failure), null);
        }

        throttle.RecordSuccess(address, user);
        return (null, stored);
    }

    /// <summary>Makes the next resume token of a device; only its hash is stored.</summary>
    public async Task<byte[]> IssueTokenAsync(string user, string device, CancellationToken cancellationToken)
    {
        var (token, record) = NewToken(user, device, options.Time.GetUtcNow());
        await store.AddTokenAsync(record, cancellationToken).ConfigureAwait(false);
        return token;
    }

    /// <summary>A new token for the device (given to the client) and the record of its hash (kept by the store).</summary>
    private (byte[] Token, ResumeTokenRecord Record) NewToken(string user, string device, DateTimeOffset now)
    {
        var token = ResumeTokens.NewToken();
        return (token, new ResumeTokenRecord(ResumeTokens.HashToken(token), user, device, now + options.ResumeTokenLifetime));
    }

    private static AuthResult Throttled(TimeSpan retryAfter) =>
        AuthResult.Fail(ErrorCode.Throttled, $"too many failed logins; try again in {Math.Ceiling(retryAfter.TotalSeconds)} s");

    /// <summary>
    /// Runs a password hash (tens of milliseconds of CPU and memory-hard) on the thread pool. A frame's handler may run
    /// on a socket event thread (`parley serve` turns on inline socket completions), which must never be held that long.
    /// </summary>
    private static Task<T> OffEventLoop<T>(Func<T> work) => Task.Run(work);
}
