namespace Parley.IntegrationTests.Faults;

/// <summary>Which way through a <see cref="FaultProxy"/> a toxic applies to.</summary>
public enum ToxicDirection
{
    /// <summary>Client to server: the bytes the proxy reads from the accepted connection.</summary>
    Upstream,

    /// <summary>Server to client: the bytes the proxy reads from the target.</summary>
    Downstream,
}
