using System.Text;

namespace Parley.Server.SeedCompat;

/// <summary>
/// Builds the frames the note's client reads. Its receiver does <c>recv(1024).decode().split("||")</c> with no
/// reassembly, so every frame must reach it whole in one read: each is kept at or under a byte budget (well under
/// 1024, so two that the kernel joins still fit one read) and a long text is cut into several messages at
/// character boundaries (each piece is decoded on its own).
/// </summary>
internal static class SeedFrameWriter
{
    /// <summary>The frame for one piece of text: <c>sender|receiver|timestamp|base64(utf8)||</c>.</summary>
    public static byte[] Encode(string sender, string receiver, string timestamp, string text) =>
        Encoding.UTF8.GetBytes($"{sender}|{receiver}|{timestamp}|{Convert.ToBase64String(Encoding.UTF8.GetBytes(text))}||");

    /// <summary>
    /// Cuts <paramref name="text"/> (after <paramref name="prefix"/>, repeated on every piece, e.g. "@FILE:") into
    /// frames of at most <paramref name="maxFrameBytes"/> bytes. An empty text gives one frame.
    /// </summary>
    public static List<byte[]> EncodeSplit(string sender, string receiver, string timestamp, string prefix, string text, int maxFrameBytes)
    {
        var overhead = Encoding.UTF8.GetByteCount(sender) + Encoding.UTF8.GetByteCount(receiver) + Encoding.UTF8.GetByteCount(timestamp) + 5;
        // Base64 turns each 3 bytes into 4 characters.
        var budget = ((maxFrameBytes - overhead) / 4 * 3) - Encoding.UTF8.GetByteCount(prefix);
        if (budget < 4)
        {
            throw new ArgumentException("names too long for the frame budget", nameof(maxFrameBytes));
        }

        var frames = new List<byte[]>();
        var piece = new StringBuilder();
        var pieceBytes = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (pieceBytes + rune.Utf8SequenceLength > budget)
            {
                frames.Add(Encode(sender, receiver, timestamp, prefix + piece));
                piece.Clear();
                pieceBytes = 0;
            }

            piece.Append(rune.ToString());
            pieceBytes += rune.Utf8SequenceLength;
        }

        if (pieceBytes > 0 || frames.Count == 0)
        {
            frames.Add(Encode(sender, receiver, timestamp, prefix + piece));
        }

        return frames;
    }

    /// <summary>The note's timestamp: the hour, minute and second without padding ("9:5:0"), server local time.</summary>
    public static string Timestamp(long unixMilliseconds)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(unixMilliseconds).ToLocalTime();
        return FormattableString.Invariant($"{time.Hour}:{time.Minute}:{time.Second}");
    }

    /// <summary>
    /// A file name the note's client may safely open: it writes <c>name + ".txt"</c> in its working folder, so only
    /// the last path component is kept, characters other than letters, digits, '.', '_' and '-' become '_', leading
    /// dots go (no hidden files), and one ".txt" is taken off since the client adds it back.
    /// </summary>
    public static string SafeFileName(string name)
    {
        var last = name.Replace('\\', '/');
        last = last[(last.LastIndexOf('/') + 1)..];
        var safe = new StringBuilder(last.Length);
        foreach (var c in last)
        {
            safe.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        }

        var result = safe.ToString().TrimStart('.');
        if (result.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
        {
            result = result[..^4];
        }

        if (result.Length > 100)
        {
            result = result[..100];
        }

        return result.Length == 0 ? "file" : result;
    }
}
