using System.Text;

namespace Parley.Security;

/// <summary>
/// The client's pinned server keys, the ssh <c>known_hosts</c> model (security.md 3): a text file of lines
/// <c>host:port &lt;hex SPKI SHA-256&gt;</c> (blank lines and lines starting with <c>#</c> are ignored and kept).
/// A key is recorded on first use only when the caller says so (explicit confirmation or provisioning), and a stored
/// pin is never replaced by <see cref="Check"/>: a different key is <see cref="PinDecision.Changed"/>, a hard failure.
/// To re-key deliberately, <see cref="Remove"/> the endpoint first. Writes are atomic (temp file + rename, mode
/// 0600). The file is re-read on every call, so edits by the user or another client process are seen; concurrent
/// writers in different processes are not serialised (the last rename wins).
/// </summary>
public sealed class KnownServers
{
    private static readonly UTF8Encoding Utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private readonly string _path;
    private readonly Lock _lock = new();

    public KnownServers(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        _path = Path.GetFullPath(path);
    }

    /// <summary>The file this instance reads and writes.</summary>
    public string FilePath => _path;

    /// <summary>The stored fingerprint (lowercase hex) for <paramref name="endpoint"/>, or null.</summary>
    public string? Lookup(string endpoint)
    {
        var key = NormalizeEndpoint(endpoint);
        lock (_lock)
        {
            return Find(ReadLines(), key);
        }
    }

    /// <summary>
    /// Pins <paramref name="fingerprint"/> for <paramref name="endpoint"/> (provisioning or explicit confirmation).
    /// Does nothing if that pin is already stored.
    /// </summary>
    /// <exception cref="InvalidOperationException">A different pin is stored; <see cref="Remove"/> it first.</exception>
    public void Add(string endpoint, string fingerprint)
    {
        var key = NormalizeEndpoint(endpoint);
        var pin = NormalizeFingerprint(fingerprint);
        lock (_lock)
        {
            var lines = ReadLines();
            var stored = Find(lines, key);
            if (stored is not null)
            {
                if (KeyFingerprint.Equal(stored, pin))
                {
                    return;
                }

                throw new InvalidOperationException($"A different key is pinned for {key}; remove it first to re-key.");
            }

            lines.Add($"{key} {pin}");
            Write(lines);
        }
    }

    /// <summary>Forgets the pin of <paramref name="endpoint"/>; false if none was stored.</summary>
    public bool Remove(string endpoint)
    {
        var key = NormalizeEndpoint(endpoint);
        lock (_lock)
        {
            var lines = ReadLines();
            var removed = lines.RemoveAll(line => TryParse(line, out var lineKey, out _) && lineKey == key);
            if (removed == 0)
            {
                return false;
            }

            Write(lines);
            return true;
        }
    }

    /// <summary>
    /// Decides whether <paramref name="presentedFingerprint"/> is the right key for <paramref name="endpoint"/>:
    /// <see cref="PinDecision.Trusted"/> if it matches the stored pin; with no pin stored,
    /// <see cref="PinDecision.AcceptedNew"/> (and stored) when <paramref name="acceptNew"/>, else
    /// <see cref="PinDecision.Unknown"/>; with a different pin stored, <see cref="PinDecision.Changed"/> whatever
    /// <paramref name="acceptNew"/> says (the stored pin is kept).
    /// </summary>
    public PinDecision Check(string endpoint, string presentedFingerprint, bool acceptNew)
    {
        var key = NormalizeEndpoint(endpoint);
        var pin = NormalizeFingerprint(presentedFingerprint);
        lock (_lock)
        {
            var lines = ReadLines();
            var stored = Find(lines, key);
            if (stored is not null)
            {
                return KeyFingerprint.Equal(stored, pin) ? PinDecision.Trusted : PinDecision.Changed;
            }

            if (!acceptNew)
            {
                return PinDecision.Unknown;
            }

            lines.Add($"{key} {pin}");
            Write(lines);
            return PinDecision.AcceptedNew;
        }
    }

    private List<string> ReadLines()
    {
        try
        {
            return [.. File.ReadAllLines(_path, Encoding.UTF8)];
        }
        catch (FileNotFoundException)
        {
            return [];
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private void Write(List<string> lines)
    {
        var text = new StringBuilder();
        foreach (var line in lines)
        {
            text.Append(line).Append('\n');
        }

        SecureFile.WriteAtomic(_path, Utf8NoBom.GetBytes(text.ToString()));
    }

    private static string? Find(List<string> lines, string key)
    {
        foreach (var line in lines)
        {
            if (TryParse(line, out var lineKey, out var pin) && lineKey == key)
            {
                return pin;
            }
        }

        return null;
    }

    private static bool TryParse(string line, out string key, out string pin)
    {
        key = pin = string.Empty;
        var trimmed = line.Trim();
        if (trimmed.Length == 0 || trimmed[0] == '#')
        {
            return false;
        }

        var parts = trimmed.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !KeyFingerprint.IsWellFormed(parts[1]))
        {
            return false;
        }

        key = parts[0].ToLowerInvariant();
        pin = parts[1].ToLowerInvariant();
        return true;
    }

    private static string NormalizeEndpoint(string endpoint)
    {
        ArgumentException.ThrowIfNullOrEmpty(endpoint);
        if (endpoint.Length > 1024 || endpoint[0] == '#')
        {
            throw new ArgumentException("Not a host:port endpoint.", nameof(endpoint));
        }

        foreach (var c in endpoint)
        {
            // No whitespace or control characters: they would break (or inject) lines of the file.
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                throw new ArgumentException("An endpoint cannot contain whitespace or control characters.", nameof(endpoint));
            }
        }

        return endpoint.ToLowerInvariant();
    }

    private static string NormalizeFingerprint(string fingerprint)
    {
        if (!KeyFingerprint.IsWellFormed(fingerprint))
        {
            throw new ArgumentException($"A fingerprint is {KeyFingerprint.HexLength} hex characters.", nameof(fingerprint));
        }

        return fingerprint.ToLowerInvariant();
    }
}
