namespace Parley.Storage;

/// <summary>
/// Presence shared between the nodes of a cluster. A store that implements it (the NATS store) makes `who` and the
/// online/offline notices cluster-wide; without it (SQLite, one node) presence is what the node itself sees.
/// </summary>
public interface IClusterPresence
{
    /// <summary>Tells the other nodes how many devices of <paramref name="user"/> are online on this node now (0: none). Never blocks.</summary>
    void SetLocal(string user, int devices);

    /// <summary>Devices online on other nodes, per user; a snapshot.</summary>
    IReadOnlyDictionary<string, int> Remote();

    /// <summary>
    /// Called when a user comes online on some other node while on none before (true), or is gone from every other
    /// node (false). One call at a time; it must not block.
    /// </summary>
    Action<string, bool>? RemoteChanged { get; set; }

    /// <summary>
    /// Asks every other node to close sessions of <paramref name="user"/>: those of <paramref name="device"/> (a
    /// device logged in again here), or all but <paramref name="exceptDevice"/> when <paramref name="device"/> is null
    /// (password changed here). <paramref name="code"/> is the protocol error code they are closed with. Never blocks.
    /// </summary>
    void CloseRemote(string user, string? device, string? exceptDevice, ushort code, string reason);

    /// <summary>Another node's <see cref="CloseRemote"/>: (user, device, exceptDevice, code, reason).</summary>
    Action<string, string?, string?, ushort, string>? RemoteClose { get; set; }
}
