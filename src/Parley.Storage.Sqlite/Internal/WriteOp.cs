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

/// <summary>
/// A write whose caller waits for a result of type <typeparamref name="T"/>: through <see cref="Task"/>, or through a
/// callback that the writer thread calls itself at the commit (<see cref="IChatStore.Append"/>).
/// </summary>
internal abstract class WriteOp<T> : WriteOp
{
    private readonly TaskCompletionSource<T>? _completion;
    private Action<T, Exception?>? _completed;
    private T _result = default!;

    /// <param name="completed">Null: the caller waits on <see cref="Task"/>. Otherwise the writer thread calls it at the commit.</param>
    protected WriteOp(Action<T, Exception?>? completed = null)
    {
        _completed = completed;
        _completion = completed is null ? new(TaskCreationOptions.RunContinuationsAsynchronously) : null;
    }

    public Task<T> Task => _completion?.Task ?? throw new InvalidOperationException("this write reports through its callback");

    protected void SetResult(T result) => _result = result;

    public override void Complete()
    {
        if (_completion is not null)
        {
            _completion.TrySetResult(_result);
        }
        else
        {
            Report(_result, null);
        }
    }

    public override void Fail(Exception exception)
    {
        if (_completion is not null)
        {
            _completion.TrySetException(exception);
        }
        else
        {
            Report(default!, exception);
        }
    }

    /// <summary>Calls the callback once at most; what it throws must not stop the writer thread, so it is dropped.</summary>
    private void Report(T result, Exception? exception)
    {
        var completed = Interlocked.Exchange(ref _completed, null);
        try
        {
            completed?.Invoke(result, exception);
        }
        catch (Exception callbackFailure) when (callbackFailure is not OutOfMemoryException)
        {
        }
    }
}

/// <summary>A write expressed as a delegate (the small account and token writes).</summary>
internal sealed class DelegateWriteOp<T>(Func<WriterContext, T> execute) : WriteOp<T>
{
    public override void Execute(WriterContext context) => SetResult(execute(context));
}
