using System.Globalization;
using System.Text;

namespace Parley.Client.Files;

/// <summary>
/// Turns a file name that came over the wire into one that is safe to create in a downloads folder (security.md 28):
/// only the last path component, no control or reserved characters, no Windows device name, at most 255 UTF-8 bytes,
/// and provably inside the folder. Files are created with <see cref="FileMode.CreateNew"/> and renamed on collision,
/// so nothing is ever overwritten.
/// </summary>
public static class FileNameSanitizer
{
    /// <summary>Longest name in UTF-8 bytes: the limit of ext4, NTFS (in UTF-16 units, which this also satisfies) and APFS.</summary>
    public const int MaxNameBytes = 255;

    /// <summary>Used when nothing of the wire name survives.</summary>
    public const string FallbackName = "download";

    private static readonly string[] ReservedDeviceNames =
    [
        "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
        "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
        "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];

    /// <summary>The safe file name for <paramref name="wireName"/> (a name only, never a path).</summary>
    public static string Sanitize(string wireName)
    {
        // Both separators count, whatever the platform: a name made on Windows must not become a path on Linux.
        var name = Path.GetFileName(wireName.Replace('\\', '/'));
        var kept = new StringBuilder(name.Length);
        foreach (var rune in name.EnumerateRunes())
        {
            if (!IsDropped(rune))
            {
                kept.Append(rune.ToString());
            }
        }

        name = kept.ToString().TrimEnd('.', ' ').TrimStart(' ');
        if (name.Length == 0 || name == "." || name == "..")
        {
            name = FallbackName;
        }

        var stem = name.Split('.')[0].TrimEnd(' ');
        if (ReservedDeviceNames.Contains(stem, StringComparer.OrdinalIgnoreCase))
        {
            name = "_" + name;
        }

        return Fit(name, suffix: string.Empty);
    }

    /// <summary>
    /// Creates a new, empty file for <paramref name="wireName"/> inside <paramref name="folder"/> and returns its full
    /// path: the sanitised name, or "name (2).ext", "name (3).ext"... when taken. Never opens an existing file.
    /// </summary>
    public static string CreateUnique(string folder, string wireName)
    {
        var root = Path.GetFullPath(folder);
        Directory.CreateDirectory(root);
        var safe = Sanitize(wireName);
        for (var attempt = 1; ; attempt++)
        {
            var candidate = attempt == 1 ? safe : Fit(safe, $" ({attempt.ToString(CultureInfo.InvariantCulture)})");
            var path = InsideFolder(root, candidate);
            try
            {
                using (new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                }

                return path;
            }
            catch (IOException) when (File.Exists(path) || Directory.Exists(path))
            {
                if (attempt > 10_000)
                {
                    throw;
                }
            }
        }
    }

    /// <summary>The full path of <paramref name="name"/> in <paramref name="root"/>; throws unless it is strictly inside.</summary>
    public static string InsideFolder(string root, string name)
    {
        var folder = Path.GetFullPath(root);
        var prefix = folder.EndsWith(Path.DirectorySeparatorChar) ? folder : folder + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(Path.Combine(folder, name));
        if (!path.StartsWith(prefix, StringComparison.Ordinal) || path.Length == prefix.Length ||
            path.AsSpan(prefix.Length).IndexOfAny(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar) >= 0)
        {
            throw new InvalidOperationException($"refusing to write outside {folder}");
        }

        return path;
    }

    private static bool IsDropped(Rune rune) =>
        rune.Value < 32 || rune.Value == 127 || rune.Value is '<' or '>' or ':' or '"' or '/' or '\\' or '|' or '?' or '*' ||
        // Bidirectional overrides make "gpj.exe" look like "exe.jpg" in a listing; they have no place in a file name.
        rune.Value is >= 0x202A and <= 0x202E || rune.Value is >= 0x2066 and <= 0x2069;

    /// <summary>Cuts the stem (keeping a short extension) so that stem + suffix + extension fits in 255 UTF-8 bytes.</summary>
    private static string Fit(string name, string suffix)
    {
        var dot = name.LastIndexOf('.');
        var extension = dot > 0 && name.Length - dot <= 16 ? name[dot..] : string.Empty;
        var stem = extension.Length > 0 ? name[..dot] : name;
        var budget = MaxNameBytes - Encoding.UTF8.GetByteCount(suffix) - Encoding.UTF8.GetByteCount(extension);
        if (Encoding.UTF8.GetByteCount(stem) > budget)
        {
            var cut = new StringBuilder();
            var used = 0;
            foreach (var rune in stem.EnumerateRunes())
            {
                if (used + rune.Utf8SequenceLength > budget)
                {
                    break;
                }

                used += rune.Utf8SequenceLength;
                cut.Append(rune.ToString());
            }

            stem = cut.ToString().TrimEnd('.', ' ');
            if (stem.Length == 0)
            {
                stem = FallbackName;
            }
        }

        return stem + suffix + extension;
    }
}
