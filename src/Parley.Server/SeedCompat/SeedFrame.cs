namespace Parley.Server.SeedCompat;

/// <summary>
/// One frame of the design note's wire format (docs/seed-compat.md): <c>sender|receiver|timestamp|base64(text)||</c>,
/// or the goodbye <c>sender|SEVER||EXIT</c> (<see cref="IsExit"/>). The fields are as they came over the wire: the
/// text is still base64, nothing is checked yet.
/// </summary>
internal sealed record SeedFrame(string Sender, string Receiver, string Timestamp, string Payload, bool IsExit = false)
{
    /// <summary>The note's name for the server, in the receiver field of the goodbye and of our notices.</summary>
    public const string Server = "SEVER";

    /// <summary>The goodbye's last field.</summary>
    public const string Exit = "EXIT";
}
