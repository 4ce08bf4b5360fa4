namespace Parley.Terminal;

/// <summary>
/// What is known about a message: sending, stored by the server (durable; it reaches the peer's devices when they
/// connect), delivered (a RECEIPT said one of the peer's devices has it), or refused. There are no read receipts.
/// </summary>
public enum MessageState
{
    /// <summary>Someone else's message, or an info line.</summary>
    Received,

    /// <summary>Typed and queued locally; no SEND_OK yet (retried across reconnects).</summary>
    Sending,

    /// <summary>SEND_OK arrived, or this device saw the copy in the user's own log.</summary>
    Stored,

    /// <summary>A RECEIPT from the server: a device of the recipient acknowledged it.</summary>
    Delivered,

    /// <summary>The server refused it (unknown user, queue full, ...).</summary>
    Failed,
}
