using System.Globalization;
using System.Text;
using System.Text.Json;
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

    public static string Json(DeliverFrame message)
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
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
