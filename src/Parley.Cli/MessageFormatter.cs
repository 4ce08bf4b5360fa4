using System.Globalization;
using System.Text;
using System.Text.Json;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Cli;

/// <summary>How a message is printed: one line of text with the conversation on it, or one JSON object.</summary>
internal static class MessageFormatter
{
    public static string Text(DeliverFrame message)
    {
        var time = DateTimeOffset.FromUnixTimeMilliseconds(message.Time).ToLocalTime();
        // Line breaks inside a message would break line-oriented consumers: shown as the two characters \n.
        var text = message.Text.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        return string.Create(CultureInfo.InvariantCulture, $"[{time:yyyy-MM-dd HH:mm:ss}] {message.From} -> {message.To}: {text}");
    }

    /// <summary>An entry; a file offer is shown with its name made safe to print and the command that fetches it.</summary>
    public static string Text(MessageEvent entry) => entry.File is { } offer
        ? Text(entry.Message with
        {
            Text = $"offers file \"{Client.Files.FileNameSanitizer.Sanitize(offer.Name)}\" ({offer.Size} bytes); get it with: parley get {offer.FileId}",
        })
        : Text(entry.Message);

    /// <summary>An entry as JSON; a file offer adds a "file" object (id, name as sent, size, sha256).</summary>
    public static string Json(MessageEvent entry) => Json(entry.Message, entry.File);

    /// <summary>A message shown by a P2P device: as <see cref="Json(DeliverFrame, FileOffer?, string?)"/> with "path": "direct" or "server".</summary>
    public static string Json(Client.P2P.PeerMessage message) =>
        Json(AsDeliver(message), null, message.Path == Client.P2P.DeliveryPath.Direct ? "direct" : "server");

    public static string Text(Client.P2P.PeerMessage message) => Text(AsDeliver(message));

    public static DeliverFrame AsDeliver(Client.P2P.PeerMessage message) =>
        new(message.Sequence, message.Id, message.From, message.To, message.Time, message.Text);

    public static string Json(DeliverFrame message, FileOffer? file = null, string? path = null)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("id", message.Id.ToString());
            writer.WriteString("from", message.From);
            writer.WriteString("to", message.To);
            writer.WriteNumber("sequence", message.Sequence);
            writer.WriteString("time", DateTimeOffset.FromUnixTimeMilliseconds(message.Time));
            writer.WriteString("text", message.Text);
            if (path is not null)
            {
                writer.WriteString("path", path);
            }

            if (file is not null)
            {
                writer.WriteStartObject("file");
                writer.WriteString("id", file.FileId.ToString());
                writer.WriteString("name", file.Name);
                writer.WriteNumber("size", file.Size);
                writer.WriteString("sha256", Convert.ToHexStringLower(file.Sha256));
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
