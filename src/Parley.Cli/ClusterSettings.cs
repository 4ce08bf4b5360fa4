namespace Parley.Cli;

/// <summary>
/// `serve --nats`, `--nats-replicas`, `--nats-namespace`: cluster mode when <see cref="Urls"/> is set; and `--files`,
/// where uploads go (shared storage lets every node of a cluster serve every file).
/// </summary>
internal sealed record ClusterSettings(string? Urls, int Replicas, string Namespace, string? Files);
