namespace Parley.IntegrationTests.Faults;

/// <summary>Exponential backoff with jitter between reconnection attempts: 50 ms doubling up to 2 s.</summary>
internal sealed class ChaosBackoff
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Longest = TimeSpan.FromSeconds(2);
    private int _failures;

    public void Succeeded() => _failures = 0;

    public Task WaitAsync(CancellationToken cancellationToken)
    {
        var ceiling = Math.Min(Longest.TotalMilliseconds, First.TotalMilliseconds * Math.Pow(2, Math.Min(_failures, 10)));
        _failures++;
        return Task.Delay(TimeSpan.FromMilliseconds(ceiling * (0.5 + (Random.Shared.NextDouble() / 2))), cancellationToken);
    }
}
