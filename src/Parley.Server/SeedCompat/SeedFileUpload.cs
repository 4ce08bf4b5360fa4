using System.Text;

namespace Parley.Server.SeedCompat;

/// <summary>
/// A file arriving from the note's client as <c>@FILENAME:name</c>, <c>@FILE:text</c>… and <c>@FILEEND:name</c>
/// messages, collected in memory up to a limit (the client reads the file as text, 512 characters a message), then
/// stored as an ordinary Parley file offer. A file over the limit is refused at the chunk that passes it and its
/// remaining chunks are swallowed until its end.
/// </summary>
internal sealed class SeedFileUpload(string to, string name, int maxBytes)
{
    private readonly MemoryStream _data = new();

    /// <summary>The resolved recipient of the @FILENAME message.</summary>
    public string To { get; } = to;

    /// <summary>The name the sender gave (a path on their machine: only its last component is offered).</summary>
    public string Name { get; } = name;

    /// <summary>Refused (too large, or no file transfer on this server): the rest of its chunks are dropped.</summary>
    public bool Refused { get; private set; }

    public long Length => _data.Length;

    /// <summary>Adds one chunk's text; false (and <see cref="Refused"/>) when the file would pass the limit.</summary>
    public bool TryAppend(string chunk)
    {
        if (Refused)
        {
            return false;
        }

        var bytes = Encoding.UTF8.GetBytes(chunk);
        if (_data.Length + bytes.Length > maxBytes)
        {
            Refuse();
            return false;
        }

        _data.Write(bytes);
        return true;
    }

    public void Refuse()
    {
        Refused = true;
        _data.SetLength(0);
        _data.Capacity = 0;
    }

    public byte[] ToArray() => _data.ToArray();

    /// <summary>The last component of the sender's path, the name Parley users are offered.</summary>
    public string OfferedName()
    {
        var last = Name.Replace('\\', '/');
        last = last[(last.LastIndexOf('/') + 1)..].Trim();
        return last.Length == 0 ? "file.txt" : last;
    }
}
