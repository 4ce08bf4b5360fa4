namespace Parley.Terminal;

/// <summary>
/// A nick's colour from a hash of the name, so a nick always has the same colour (WeeChat's chat_nick_colors idea).
/// A stable hash (FNV-1a over the UTF-16 units), not string.GetHashCode, which is randomised per process.
/// </summary>
public static class NickColor
{
    /// <summary>ANSI SGR foreground codes readable on dark and light backgrounds (no black, white or blue on black).</summary>
    public static readonly IReadOnlyList<int> Palette = [31, 32, 33, 35, 36, 91, 92, 93, 95, 96];

    public static int Index(string nick)
    {
        ArgumentNullException.ThrowIfNull(nick);
        var hash = 2166136261u;
        foreach (var c in nick.ToLowerInvariant())
        {
            hash = (hash ^ c) * 16777619u;
        }

        return (int)(hash % (uint)Palette.Count);
    }

    public static int Sgr(string nick) => Palette[Index(nick)];
}
