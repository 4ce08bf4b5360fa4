namespace Parley.Server.Tests.Infrastructure;

/// <summary>User names no other test uses: the prefix, a per-process tag and a counter, all within the name rules.</summary>
internal static class UniqueNames
{
    private static readonly string Tag = Guid.NewGuid().ToString("N")[..6];
    private static int _counter;

    public static string Next(string prefix) => $"{prefix}-{Tag}-{Interlocked.Increment(ref _counter)}";
}
