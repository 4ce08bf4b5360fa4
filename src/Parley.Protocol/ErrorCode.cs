namespace Parley.Protocol;

/// <summary>Error codes carried by the ERROR frame (docs/protocol.md, "Error codes"). Values are part of the wire contract.</summary>
public enum ErrorCode : ushort
{
    None = 0,
    /// <summary>A frame broke the protocol's rules (wrong state, ack beyond what was sent, ...). The connection is closed.</summary>
    ProtocolError = 1,
    /// <summary>A frame's declared length is over the limit. The connection is closed.</summary>
    FrameTooLarge = 2,
    UnknownFrameType = 3,
    /// <summary>A field is truncated, over-long, or followed by unexpected bytes.</summary>
    Malformed = 4,
    /// <summary>Text that is not strict UTF-8.</summary>
    BadEncoding = 5,
    UnsupportedVersion = 6,
    NotAuthenticated = 7,
    /// <summary>A user name or device id that does not fit the rules.</summary>
    BadId = 8,
    /// <summary>Wrong password, unknown user or an invalid resume token: deliberately one code for all three.</summary>
    AuthFailed = 10,
    /// <summary>Too many failed logins from this address or for this account; try again later.</summary>
    Throttled = 11,
    UserExists = 12,
    RegistrationClosed = 13,
    /// <summary>The same device logged in again; this older session is closed.</summary>
    Conflict = 14,
    TooManySessions = 15,
    /// <summary>REGISTER with a password shorter than the server's minimum.</summary>
    WeakPassword = 16,
    /// <summary>The account's password was changed from another session; this one is closed and its token revoked.</summary>
    PasswordChanged = 17,
    /// <summary>The recipient of a message does not exist.</summary>
    UnknownUser = 20,
    /// <summary>A message id was reused by the same sender for different content.</summary>
    IdReused = 21,
    RecipientQueueFull = 22,
    TextTooLong = 23,
    RateLimited = 24,
    SlowConsumer = 25,
    /// <summary>WATCH would take the session past the server's limit of watched users; nothing was added.</summary>
    TooManyWatched = 26,
    ServerShuttingDown = 30,
    InternalError = 31,
    Timeout = 32,
    /// <summary>UPLOAD_START declared a size over the server's largest file, or a chunk ran past the declared size.</summary>
    FileTooLarge = 40,
    /// <summary>The sender's unfetched files would exceed their quota; nothing written.</summary>
    QuotaExceeded = 41,
    /// <summary>The uploaded bytes do not hash to the declared SHA-256; the partial file is deleted.</summary>
    HashMismatch = 42,
    /// <summary>No such file, expired, or not the caller's to download or resume (one code for all, so ids cannot be probed).</summary>
    UnknownFile = 43,
    /// <summary>DIRECTORY_REGISTER or HEARTBEAT for a user or device other than the session's own (security.md 25).</summary>
    NotYourDevice = 50,
    /// <summary>HEARTBEAT for a directory entry that does not exist (expired, or never registered): register again.</summary>
    UnknownDevice = 51,
    /// <summary>On a direct link: the peer's certificate or HELLO does not match the directory (security.md 26).</summary>
    PeerNotTrusted = 52,
}
