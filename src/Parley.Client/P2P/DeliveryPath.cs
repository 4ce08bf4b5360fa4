namespace Parley.Client.P2P;

/// <summary>Which way a message went (sender) or came (recipient).</summary>
public enum DeliveryPath
{
    /// <summary>Over a direct link, acknowledged by the peer.</summary>
    Direct,

    /// <summary>Through the server: stored there, and fetched from there.</summary>
    Server,
}
