namespace Parley.Storage.Nats.Internal;

/// <summary>
/// Keeps one sender's appends in submission order on this node while letting them overlap. Each append takes a
/// <see cref="PipelineTurn"/> the moment it is handed in; its publishes to the sender's log wait only until the
/// previous append's publish to that log has been <em>sent</em> (not acknowledged), and the same for the recipient's
/// log. NATS keeps one connection's publishes in order and the stream assigns sequences in arrival order, so the
/// sequences follow submission order while the PubAcks of a whole window are awaited together.
/// <para>
/// When an append's pipelined attempt fails (a timeout, no stream leader, a reconnect), the pipeline is
/// <see cref="Troubled"/> until that append is settled: it and every later append of the sender that has not yet
/// sent anything retry one at a time, each after the previous append has finished (<see cref="PipelineTurn.PreviousDone"/>),
/// as the store did before pipelining. Appends already sent behind the failed one are not held back: see
/// docs/topology.md for the one case where that can reorder.
/// </para>
/// </summary>
internal sealed class SenderPipeline
{
    private readonly Lock _lock = new();
    private Task _senderLogSent = Task.CompletedTask;
    private Task _recipientLogSent = Task.CompletedTask;
    private Task _done = Task.CompletedTask;
    private int _troubled;

    /// <summary>True while some append of this sender is retrying after a failed pipelined attempt.</summary>
    public bool Troubled => Volatile.Read(ref _troubled) > 0;

    /// <summary>The next place in the sender's order; call it synchronously, in the order appends are handed in.</summary>
    public PipelineTurn Enter()
    {
        lock (_lock)
        {
            var turn = new PipelineTurn(this, _senderLogSent, _recipientLogSent, _done);
            _senderLogSent = turn.SenderLogSentTask;
            _recipientLogSent = turn.RecipientLogSentTask;
            _done = turn.DoneTask;
            return turn;
        }
    }

    internal void MarkTroubled() => Interlocked.Increment(ref _troubled);

    internal void ClearTroubled() => Interlocked.Decrement(ref _troubled);
}
