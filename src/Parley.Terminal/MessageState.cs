namespace Parley.Terminal;

/// <summary>
/// What is known about a message. The protocol has no delivery or read receipts from the peer, so "stored" (the
/// server has it durably; it reaches the peer's devices when they connect) is the furthest state a sent message can
/// honestly show.
/// </summary>
public enum MessageState
{
    /// <summary>Someone else's message, or an info line.</summary>
    Received,

    /// <summary>Typed and queued locally; no SEND_OK yet (retried across reconnects).</summary>
    Sending,

    /// <summary>SEND_OK arrived, or this device saw the copy in the user's own log.</summary>
    Stored,

    /// <summary>The server refused it (unknown user, queue full, ...).</summary>
    Failed,
}
