namespace Parley.Storage.Sqlite.Internal;

/// <summary>Binary search in a list of one owner's entries, which are in ascending sequence.</summary>
internal static class SequenceSearch
{
    /// <summary>The index of the first item whose sequence is above <paramref name="after"/> (the count if none).</summary>
    public static int FirstAfter<T>(List<T> items, ulong after, Func<T, ulong> sequence)
    {
        int low = 0, high = items.Count;
        while (low < high)
        {
            var middle = (low + high) / 2;
            if (sequence(items[middle]) <= after)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
