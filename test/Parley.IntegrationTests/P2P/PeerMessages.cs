using System.Text.Json;

namespace Parley.IntegrationTests.P2P;

/// <summary>The JSON lines of `parley listen --p2p --json`: id, from, text and the path that brought each.</summary>
public static class PeerMessages
{
    public static List<(string Id, string From, string Text, string Path)> Parse(IEnumerable<string> lines) =>
        [.. lines.Where(l => l.StartsWith('{')).Select(l =>
        {
            using var json = JsonDocument.Parse(l);
            var root = json.RootElement;
            return (root.GetProperty("id").GetString()!, root.GetProperty("from").GetString()!, root.GetProperty("text").GetString()!,
                root.GetProperty("path").GetString()!);
        })];
}
