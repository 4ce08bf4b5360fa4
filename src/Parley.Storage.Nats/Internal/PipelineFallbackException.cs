namespace Parley.Storage.Nats.Internal;

/// <summary>
/// Thrown inside an append that reached its turn while an earlier append of the same sender is retrying: it must not
/// overtake that one, so it leaves the pipelined path and retries one at a time behind it (see <see cref="SenderPipeline"/>).
/// </summary>
internal sealed class PipelineFallbackException() : Exception("an earlier append of this sender is retrying");
