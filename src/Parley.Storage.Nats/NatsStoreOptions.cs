namespace Parley.Storage.Nats;

/// <summary>How a Parley node reaches its NATS cluster, and what it creates there.</summary>
public sealed record NatsStoreOptions
{
    /// <summary>NATS server URLs (nats://HOST:PORT); the client tries them all and fails over between them.</summary>
    public IReadOnlyList<string> Urls { get; init; } = ["nats://127.0.0.1:4222"];

    /// <summary>
    /// Prefix of every stream, bucket and subject, so that several Parley installations (or tests) can share one
    /// NATS account without seeing each other. Lower case letters, digits, '_' and '-'.
    /// </summary>
    public string Namespace { get; init; } = "parley";

    /// <summary>
    /// Replicas of every stream and bucket. 0 picks 3 when the server is part of a cluster and 1 when it runs alone,
    /// so that a cluster gets Raft replication (nothing acknowledged is lost when a NATS node dies) by default.
    /// </summary>
    public int Replicas { get; init; }

    /// <summary>How long a retried publish is recognised by the stream itself (Nats-Msg-Id window).</summary>
    public TimeSpan DuplicateWindow { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long startup waits to reach NATS before it gives up with an explanation.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    public StoreLimits Limits { get; init; } = new();

    /// <summary>The server's clock; tests may pass a fake.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
