using System.Text;
using Parley.Protocol;

namespace Parley.Client.P2P;

/// <summary>
/// The (sender, id) pairs this device has shown, kept in the device home, so a message is shown once whichever path
/// brings it (direct, then the server after a lost PEER_ACK; or the other way round), across restarts too.
/// Remembered after it is shown and before the acknowledgement goes out on either path, so a crash can at worst
/// show one message again, never lose one (as `parley listen`). Bounded: the oldest ids are dropped first.
/// </summary>
internal sealed class SeenMessages : IDisposable
{
    private readonly HashSet<(string From, MessageId Id)> _seen = [];
    private readonly Queue<(string From, MessageId Id)> _order = new();
    private readonly int _max;
    private readonly string _path;
    private readonly Lock _lock = new();
    private StreamWriter _file;

    public SeenMessages(string path, int max)
    {
        _path = path;
        _max = max;
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                var space = line.IndexOf(' ', StringComparison.Ordinal);
                if (space > 0 && line.Length - space - 1 == 32)
                {
                    Add((line[..space], MessageId.Parse(line[(space + 1)..])));
                }
            }
        }

        _file = Open(rewrite: _order.Count > 0);
    }

    /// <summary>True when this message was shown before.</summary>
    public bool Contains(string from, MessageId id)
    {
        lock (_lock)
        {
            return _seen.Contains((from, id));
        }
    }

    /// <summary>Remembers a message as shown (on disk before this returns to the caller's ACK).</summary>
    public void Remember(string from, MessageId id)
    {
        lock (_lock)
        {
            if (!Add((from, id)))
            {
                return;
            }

            _file.WriteLine($"{from} {id}");
            _file.Flush();
            if (_order.Count >= _max && new FileInfo(_path).Length > (long)_max * 2 * 64)
            {
                _file.Dispose();
                _file = Open(rewrite: true); // compact: only what is still remembered
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file.Dispose();
        }
    }

    private bool Add((string From, MessageId Id) key)
    {
        if (!_seen.Add(key))
        {
            return false;
        }

        _order.Enqueue(key);
        while (_order.Count > _max)
        {
            _seen.Remove(_order.Dequeue());
        }

        return true;
    }

    private StreamWriter Open(bool rewrite)
    {
        if (rewrite)
        {
            var temporary = _path + ".tmp";
            File.WriteAllLines(temporary, _order.Select(k => $"{k.From} {k.Id}"), new UTF8Encoding(false));
            File.Move(temporary, _path, overwrite: true);
        }

        return new StreamWriter(new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }
}
