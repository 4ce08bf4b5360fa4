using Parley.Protocol;
using Parley.Storage;
using Parley.Storage.Sqlite.Internal;

namespace Parley.Server.Tests.Storage;

/// <summary>
/// A read takes the staged entries, then queries the log table; a merge in between puts some entries in both. The
/// union must show each once, in order, and never lose one.
/// </summary>
public sealed class LogUnionTests
{
    [Fact]
    public void Of_Ascending_MergeBetweenTheReads_EachSequenceOnceInOrder()
    {
        // Staged 5..8 seen first; then a merge moved 5..10 into the table before it was read.
        var union = LogUnion.Of(Entries(3, 10), Entries(5, 8), 100, ascending: true);

        Assert.Equal(Range(3, 10), union.Select(e => e.Sequence));
    }

    [Fact]
    public void Of_Ascending_NoOverlap_TableThenStagedCutAtMax()
    {
        var union = LogUnion.Of(Entries(1, 4), Entries(5, 9), 6, ascending: true);

        Assert.Equal(Range(1, 6), union.Select(e => e.Sequence));
    }

    [Fact]
    public void Of_Descending_MergeBetweenTheReads_NewestFirstEachOnce()
    {
        var union = LogUnion.Of(Entries(4, 12).AsEnumerable().Reverse().ToList(), Entries(6, 9).AsEnumerable().Reverse().ToList(), 5, ascending: false);

        Assert.Equal(new ulong[] { 12, 11, 10, 9, 8 }, union.Select(e => e.Sequence));
    }

    [Fact]
    public void Of_Descending_NoOverlap_StagedThenTable()
    {
        var union = LogUnion.Of(Entries(1, 3).AsEnumerable().Reverse().ToList(), Entries(4, 5).AsEnumerable().Reverse().ToList(), 10, ascending: false);

        Assert.Equal(new ulong[] { 5, 4, 3, 2, 1 }, union.Select(e => e.Sequence));
    }

    private static List<LogEntry> Entries(ulong first, ulong last) =>
        Range(first, last).Select(seq => new LogEntry("bob", seq, MessageId.None, "alice", "bob", 0, $"m{seq}")).ToList();

    private static IEnumerable<ulong> Range(ulong first, ulong last)
    {
        for (var seq = first; seq <= last; seq++)
        {
            yield return seq;
        }
    }
}
