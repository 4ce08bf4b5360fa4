namespace Parley.Storage.Nats.Internal;

/// <summary>
/// One append's place in its sender's <see cref="SenderPipeline"/>: what it waits for (the previous append's publish
/// to each log sent, the previous append finished) and what it signals. Disposing signals everything not yet
/// signalled, so an append that ends early (duplicate, unknown recipient, error) never stalls the ones behind it.
/// </summary>
internal sealed class PipelineTurn : IDisposable
{
    private readonly SenderPipeline _pipeline;
    private readonly TaskCompletionSource _senderLogSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _recipientLogSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _troubled;

    internal PipelineTurn(SenderPipeline pipeline, Task previousSenderLogSent, Task previousRecipientLogSent, Task previousDone)
    {
        _pipeline = pipeline;
        PreviousSenderLogSent = previousSenderLogSent;
        PreviousRecipientLogSent = previousRecipientLogSent;
        PreviousDone = previousDone;
    }

    /// <summary>Completes when the previous append of the sender has sent its publish to the sender's log.</summary>
    public Task PreviousSenderLogSent { get; }

    /// <summary>Completes when the previous append of the sender has sent its publish to the recipient's log.</summary>
    public Task PreviousRecipientLogSent { get; }

    /// <summary>Completes when the previous append of the sender has finished, successfully or not.</summary>
    public Task PreviousDone { get; }

    /// <summary>Whether pipelining is off for now because an earlier (or this) append is retrying.</summary>
    public bool PipelineTroubled => _pipeline.Troubled;

    internal Task SenderLogSentTask => _senderLogSent.Task;

    internal Task RecipientLogSentTask => _recipientLogSent.Task;

    internal Task DoneTask => _done.Task;

    /// <summary>This append's publish to the sender's log is on the connection (or it has none): the next append may send its own.</summary>
    public void SenderLogSent() => ReleaseAfter(PreviousSenderLogSent, _senderLogSent);

    /// <summary>This append's publish to the recipient's log is on the connection (or it has none).</summary>
    public void RecipientLogSent() => ReleaseAfter(PreviousRecipientLogSent, _recipientLogSent);

    /// <summary>
    /// This append's pipelined attempt failed: later appends that have not sent yet must wait for it. Called before
    /// the lanes are released, so no later append can slip past in between.
    /// </summary>
    public void MarkTroubled()
    {
        if (!_troubled)
        {
            _troubled = true;
            _pipeline.MarkTroubled();
        }
    }

    /// <summary>Releases every lane and marks the append finished.</summary>
    public void Dispose()
    {
        if (_troubled)
        {
            _troubled = false;
            _pipeline.ClearTroubled();
        }

        SenderLogSent();
        RecipientLogSent();
        ReleaseAfter(PreviousDone, _done);
    }

    /// <summary>
    /// Opens a lane only once the previous append's same lane is open: an append that sends nothing to a log (a bot
    /// message, a self-note, an early answer) must not let the next one pass an earlier one still waiting there.
    /// </summary>
    private static void ReleaseAfter(Task previous, TaskCompletionSource lane)
    {
        if (previous.IsCompleted)
        {
            lane.TrySetResult();
            return;
        }

        previous.ContinueWith(static (_, state) => ((TaskCompletionSource)state!).TrySetResult(), lane, CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }
}
