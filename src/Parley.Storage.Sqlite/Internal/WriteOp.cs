namespace Parley.Storage.Sqlite.Internal;

/// <summary>
/// One write, queued to the writer thread. <see cref="Execute"/> runs inside the batch's transaction; the caller's
/// task completes only after that transaction committed.
/// </summary>
internal abstract class WriteOp
{
    public abstract void Execute(WriterContext context);

    public abstract void Complete();

    public abstract void Fail(Exception exception);
}

/// <summary>A write whose caller waits for a result of type <typeparamref name="T"/>.</summary>
internal abstract class WriteOp<T> : WriteOp
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T _result = default!;

    public Task<T> Task => _completion.Task;

    protected void SetResult(T result) => _result = result;

    public override void Complete() => _completion.TrySetResult(_result);

    public override void Fail(Exception exception) => _completion.TrySetException(exception);
}

/// <summary>A write expressed as a delegate (the small account and token writes).</summary>
internal sealed class DelegateWriteOp<T>(Func<WriterContext, T> execute) : WriteOp<T>
{
    public override void Execute(WriterContext context) => SetResult(execute(context));
}
