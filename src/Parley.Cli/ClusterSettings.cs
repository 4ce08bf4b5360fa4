namespace Parley.Cli;

/// <summary>`serve --nats`, `--nats-replicas`, `--nats-namespace`: cluster mode when <see cref="Urls"/> is set.</summary>
internal sealed record ClusterSettings(string? Urls, int Replicas, string Namespace);
