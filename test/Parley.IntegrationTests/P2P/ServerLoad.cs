using System.Globalization;
using System.Text.RegularExpressions;

namespace Parley.IntegrationTests.P2P;

/// <summary>One "Load:" line of the server log (event 40): what the server holds at that moment.</summary>
public sealed partial record ServerLoad(long Open, long Accepted, long Sessions, long DirectoryEntries, long Stored)
{
    /// <summary>Every load line in <paramref name="log"/>, oldest first.</summary>
    public static IReadOnlyList<ServerLoad> All(string log) =>
        [.. Line().Matches(log).Select(m => new ServerLoad(
            Number(m, 1), Number(m, 2), Number(m, 3), Number(m, 4), Number(m, 5)))];

    private static long Number(Match match, int group) => long.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Load: (\d+) connections open \((\d+) accepted since start\), (\d+) sessions, (\d+) directory entries, (\d+) messages stored")]
    private static partial Regex Line();
}
