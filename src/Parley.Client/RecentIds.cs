using Parley.Protocol;

namespace Parley.Client;

/// <summary>A bounded set of the last (sender, message id) pairs seen, oldest forgotten first.</summary>
internal sealed class RecentIds(int capacity)
{
    private readonly HashSet<(string, MessageId)> _set = [];
    private readonly Queue<(string, MessageId)> _order = new();

    /// <summary>False when the pair was seen recently; otherwise remembers it.</summary>
    public bool Add((string From, MessageId Id) key)
    {
        if (!_set.Add(key))
        {
            return false;
        }

        _order.Enqueue(key);
        if (_order.Count > capacity)
        {
            _set.Remove(_order.Dequeue());
        }

        return true;
    }
}
