namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// Wakes the writer thread without giving it anything to write: a merge finished on the merge thread, and the writer
/// completes it (<see cref="StagedMerge.DeleteMerged"/>) at the top of its loop. Never part of a batch.
/// </summary>
internal sealed class WakeOp : WriteOp
{
    public static readonly WakeOp Instance = new();

    private WakeOp()
    {
    }

    public override void Execute(WriterContext context)
    {
    }

    public override void Complete()
    {
    }

    public override void Fail(Exception exception)
    {
    }
}
