using System.Collections.Concurrent;

namespace Parley.PeerBench;

/// <summary>
/// The Parley accounts' resume tokens (user, base64 token per line). Each RESUME consumes its token and AUTH_OK
/// brings the next one, so the file is rewritten after every run; accounts cost one Argon2id registration each, once.
/// </summary>
internal sealed class Tokens(string path)
{
    private readonly ConcurrentDictionary<string, byte[]> _tokens = new(StringComparer.Ordinal);

    public const string Password = "peerbench password";

    public const string Device = "bench";

    public static string User(int index) => "pb" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public int Count => _tokens.Count;

    public static Tokens Load(string path)
    {
        var tokens = new Tokens(path);
        if (File.Exists(path))
        {
            foreach (var line in File.ReadLines(path))
            {
                var parts = line.Split('\t');
                if (parts.Length == 2)
                {
                    tokens._tokens[parts[0]] = Convert.FromBase64String(parts[1]);
                }
            }
        }

        return tokens;
    }

    public byte[]? Get(string user) => _tokens.TryGetValue(user, out var token) ? token : null;

    public void Set(string user, byte[] token) => _tokens[user] = token;

    public void Save() =>
        File.WriteAllLines(path, _tokens.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => pair.Key + "\t" + Convert.ToBase64String(pair.Value)));
}
