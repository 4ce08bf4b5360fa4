namespace Parley.Storage.Sqlite.Internal;

/// <summary>How a read joins what it found in the log table with the staged entries it saw in memory (StagedLog).</summary>
internal static class LogUnion
{
    /// <summary>
    /// Entries of both lists (each already sorted the same way), each sequence once, the first <paramref name="max"/>.
    /// They overlap only when a merge ran between the two reads.
    /// </summary>
    public static List<LogEntry> Of(List<LogEntry> table, List<LogEntry> staged, int max, bool ascending)
    {
        if (staged.Count == 0)
        {
            return table;
        }

        var result = new List<LogEntry>(Math.Min(max, table.Count + staged.Count));
        int t = 0, s = 0;
        while (result.Count < max && (t < table.Count || s < staged.Count))
        {
            if (t < table.Count && s < staged.Count && table[t].Sequence == staged[s].Sequence)
            {
                s++; // the same entry, read from both
            }

            var takeTable = s == staged.Count
                || (t < table.Count && (ascending ? table[t].Sequence < staged[s].Sequence : table[t].Sequence > staged[s].Sequence));
            result.Add(takeTable ? table[t++] : staged[s++]);
        }

        return result;
    }
}
