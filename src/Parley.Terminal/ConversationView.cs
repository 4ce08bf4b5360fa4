using System.Globalization;

namespace Parley.Terminal;

/// <summary>
/// Turns a conversation into pane lines: time, nick coloured by hash, message state, plus the day-change line, the
/// "arrived while you were offline" separator and the read marker. Also the line mode's one-line format.
/// </summary>
public static class ConversationView
{
    public static IReadOnlyList<PaneLine> Lines(ChatState state, Conversation conversation, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(conversation);
        var lines = new List<PaneLine>();
        DateTime? day = null;
        var markerShown = conversation.IsStatus || conversation.ReadMarker == 0;
        var offlineShown = false;
        var anythingRead = conversation.Entries.Any(e => e.Sequence > 0 && e.Sequence <= conversation.ReadMarker);
        foreach (var entry in conversation.Entries)
        {
            var local = TimeZoneInfo.ConvertTime(entry.Time, zone);
            if (!entry.IsInfo && day != local.Date)
            {
                day = local.Date;
                lines.Add(new PaneLine(LineKind.DayChange, [new Segment(string.Create(CultureInfo.InvariantCulture, $"-- {local:ddd d MMM yyyy} --"), "2")]));
            }

            if (!offlineShown && conversation.OfflineFrom != 0 && entry.Sequence == conversation.OfflineFrom)
            {
                offlineShown = true;
                var count = conversation.OfflineCount;
                lines.Add(new PaneLine(LineKind.OfflineSeparator,
                    [new Segment($"-- {count} message{(count == 1 ? "" : "s")} arrived while you were offline --", "33")]));
            }

            if (!markerShown && !entry.IsInfo && entry.Sequence > conversation.ReadMarker && entry.From != state.Me && anythingRead)
            {
                markerShown = true;
                lines.Add(new PaneLine(LineKind.ReadMarker, [new Segment("---------------- unread ----------------", "31")]));
            }

            lines.Add(Line(state, entry, local));
        }

        return lines;
    }

    public static PaneLine Line(ChatState state, ChatEntry entry, DateTimeOffset local)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(entry);
        var time = new Segment(local.ToString("HH:mm ", CultureInfo.InvariantCulture), "2");
        if (entry.IsInfo)
        {
            return new PaneLine(LineKind.Info, [time, new Segment("-!- " + entry.Text, "2")]);
        }

        var nickStyle = entry.From == state.Me ? "1" : NickColor.Sgr(entry.From).ToString(CultureInfo.InvariantCulture);
        var segments = new List<Segment> { time, new("<"), new(entry.From, nickStyle), new("> "), new(Clean(entry.Text)) };
        var suffix = StateSuffix(state, entry);
        if (suffix.Length > 0)
        {
            segments.Add(new Segment(suffix, entry.State == MessageState.Failed ? "31" : "2"));
        }

        return new PaneLine(LineKind.Message, segments);
    }

    /// <summary>What is known about a sent message, honestly: sending, stored (and whether the peer is offline), delivered, or refused.</summary>
    public static string StateSuffix(ChatState state, ChatEntry entry)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(entry);
        return entry.State switch
        {
            MessageState.Sending => "  [sending]",
            MessageState.Failed => $"  [not sent: {entry.Error}]",
            MessageState.Stored when entry.From == state.Me && !state.IsOnline(entry.To) => $"  [stored, {entry.To} offline]",
            MessageState.Stored when entry.From == state.Me => "  [stored]",
            MessageState.Delivered when entry.From == state.Me => "  [delivered]",
            _ => string.Empty,
        };
    }

    /// <summary>Line breaks and control characters inside a message would break the screen (or a line-oriented reader).</summary>
    public static string Clean(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var cleaned = text.Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        return string.Create(cleaned.Length, cleaned, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    /// <summary>Wraps a line to <paramref name="width"/> columns; continuation rows are indented under the text.</summary>
    public static IReadOnlyList<IReadOnlyList<Segment>> Wrap(PaneLine line, int width)
    {
        ArgumentNullException.ThrowIfNull(line);
        var rows = new List<IReadOnlyList<Segment>>();
        var row = new List<Segment>();
        var used = 0;
        const int indent = 6;
        foreach (var segment in line.Segments)
        {
            var text = segment.Text;
            while (text.Length > 0)
            {
                if (used >= width)
                {
                    rows.Add(row);
                    row = [new Segment(new string(' ', Math.Min(indent, width - 1)))];
                    used = Math.Min(indent, width - 1);
                }

                var take = Math.Min(text.Length, width - used);
                row.Add(segment with { Text = text[..take] });
                used += take;
                text = text[take..];
            }
        }

        rows.Add(row);
        return rows;
    }
}
