namespace Parley.Server.P2P;

/// <summary>What a HEARTBEAT did to the directory.</summary>
internal enum HeartbeatResult
{
    /// <summary>The entry is alive again until the next deadline.</summary>
    Alive,

    /// <summary>No entry for this (user, device): it expired or was never registered.</summary>
    UnknownDevice,

    /// <summary>The entry exists but the secret is not its own.</summary>
    WrongSecret,
}
