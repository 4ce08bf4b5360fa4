using System.Globalization;
using System.Text;

namespace Parley.Terminal;

/// <summary>
/// Draws the full screen as rows of text: a title, the conversation list beside the message pane, a status bar and
/// the input line. It keeps the last frame and writes only the rows that changed (a burst of messages rewrites the
/// pane rows, not the whole screen, and an idle screen writes nothing). UI-free apart from the ANSI it returns.
/// </summary>
public sealed class ScreenRenderer
{
    private const int SidebarWidth = 20;
    private string[] _previous = [];
    private int _width;
    private int _height;

    public ScreenRenderer(bool color) => Color = color;

    public bool Color { get; }

    /// <summary>Rows of the message pane in the last frame (PgUp/PgDn move by half of it).</summary>
    public int PaneHeight { get; private set; } = 1;

    /// <summary>How far the current conversation could scroll up in the last frame; at it, older history is loaded.</summary>
    public int MaxScroll { get; private set; }

    /// <summary>The last frame as plain text, one string per row (for tests and debugging).</summary>
    public IReadOnlyList<string> PlainRows { get; private set; } = [];

    /// <summary>Forget the last frame, so the next render redraws everything (after a resize).</summary>
    public void Invalidate() => _previous = [];

    /// <summary>ANSI that brings the screen from the last frame to this one, cursor left on the input line.</summary>
    public string Render(ChatState state, InputLine input, int width, int height, DateTimeOffset now, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(input);
        width = Math.Max(width, 20);
        height = Math.Max(height, 5);
        var output = new StringBuilder();
        if (width != _width || height != _height || _previous.Length != height)
        {
            _width = width;
            _height = height;
            _previous = new string[height];
            output.Append("\x1b[0m\x1b[2J");
        }

        var rows = new List<IReadOnlyList<Segment>>(height);
        var plain = new List<string>(height);
        var current = state.Current;
        var title = $" parley - {state.Me} - {state.CurrentIndex + 1}:{current.Name}" +
            (current.IsStatus ? string.Empty : state.IsOnline(current.Name) ? " (online)" : " (offline)") + " - /help for commands";
        rows.Add([new Segment(title, "7")]);

        PaneHeight = height - 3;
        var sidebar = width >= 60;
        var paneWidth = sidebar ? width - SidebarWidth - 1 : width;
        var paneRows = new List<IReadOnlyList<Segment>>();
        foreach (var line in ConversationView.Lines(state, current, zone))
        {
            paneRows.AddRange(ConversationView.Wrap(line, paneWidth));
        }

        MaxScroll = Math.Max(0, paneRows.Count - PaneHeight);
        current.ScrollOffset = Math.Clamp(current.ScrollOffset, 0, MaxScroll);
        var firstRow = paneRows.Count - PaneHeight - current.ScrollOffset;
        for (var row = 0; row < PaneHeight; row++)
        {
            var index = firstRow + row;
            var pane = index >= 0 && index < paneRows.Count ? paneRows[index] : [];
            if (!sidebar)
            {
                rows.Add(pane);
                continue;
            }

            var side = Sidebar(state, row);
            var combined = new List<Segment>(side) { new(new string(' ', SidebarWidth - Length(side))), new("|", "2") };
            combined.AddRange(pane);
            rows.Add(combined);
        }

        var status = new StringBuilder();
        status.Append(CultureInfo.InvariantCulture, $"[{TimeZoneInfo.ConvertTime(now, zone):HH:mm}] [{state.Me}] [{state.CurrentIndex + 1}:{current.Name}]");
        var activity = state.Activity();
        if (activity.Length > 0)
        {
            status.Append(CultureInfo.InvariantCulture, $" [Act: {activity}]");
        }

        if (state.Status != "connected")
        {
            status.Append(CultureInfo.InvariantCulture, $" [{state.Status}]");
        }

        if (current.ScrollOffset > 0)
        {
            status.Append(CultureInfo.InvariantCulture, $" [-- more below: {current.ScrollOffset} --]");
        }

        if (current.HistoryLoading)
        {
            status.Append(" [loading history]");
        }

        rows.Add([new Segment(status.ToString(), "7")]);

        var prompt = current.IsStatus ? "> " : $"[{current.Name}] ";
        var room = Math.Max(1, width - 1 - prompt.Length);
        var text = input.Text;
        var start = Math.Max(0, input.Cursor - room + 1);
        var visible = text[start..Math.Min(text.Length, start + room)];
        rows.Add([new Segment(prompt, "1"), new Segment(visible)]);
        var cursorColumn = prompt.Length + input.Cursor - start + 1;

        for (var row = 0; row < rows.Count; row++)
        {
            // The last row stops one short of the edge, so writing it can never scroll the screen.
            var rowWidth = row == rows.Count - 1 ? width - 1 : width;
            var ansi = Ansi(rows[row], rowWidth, out var rowPlain);
            plain.Add(rowPlain);
            if (_previous[row] != ansi)
            {
                _previous[row] = ansi;
                output.Append(CultureInfo.InvariantCulture, $"\x1b[{row + 1};1H").Append(ansi);
            }
        }

        PlainRows = plain;
        output.Append(CultureInfo.InvariantCulture, $"\x1b[{height};{Math.Min(cursorColumn, width)}H");
        return output.ToString();
    }

    private static IReadOnlyList<Segment> Sidebar(ChatState state, int row)
    {
        if (row >= state.Conversations.Count)
        {
            return [];
        }

        var conversation = state.Conversations[row];
        var marker = conversation == state.Current ? ">" : " ";
        var presence = conversation.IsStatus ? " " : state.IsOnline(conversation.Name) ? "+" : "-";
        var counts = conversation.Unread > 0 ? $"({conversation.Unread})" : string.Empty;
        if (conversation.Highlight)
        {
            counts += "!";
        }

        var nameRoom = SidebarWidth - 5 - counts.Length - 1;
        var name = conversation.Name.Length > nameRoom ? conversation.Name[..nameRoom] : conversation.Name;
        var number = (row + 1).ToString(CultureInfo.InvariantCulture).PadLeft(2);
        var style = conversation == state.Current ? "1" : conversation.Highlight ? "1;35" : conversation.Unread > 0 ? "1;33" : string.Empty;
        return
        [
            new Segment($"{marker}{number}", style),
            new Segment(presence, presence == "+" ? "32" : "2"),
            new Segment(name.PadRight(nameRoom + 1), style),
            new Segment(counts, style),
        ];
    }

    private static int Length(IReadOnlyList<Segment> segments) => segments.Sum(s => s.Text.Length);

    private string Ansi(IReadOnlyList<Segment> segments, int width, out string plain)
    {
        var text = new StringBuilder();
        var plainText = new StringBuilder();
        var used = 0;
        var reverse = segments.Count > 0 && segments[0].Style == "7";
        foreach (var segment in segments)
        {
            if (used >= width)
            {
                break;
            }

            var part = segment.Text.Length > width - used ? segment.Text[..(width - used)] : segment.Text;
            var style = Style(segment.Style);
            text.Append(style.Length > 0 ? $"\x1b[{style}m" : string.Empty).Append(part);
            if (style.Length > 0 && !reverse)
            {
                text.Append("\x1b[0m");
            }

            plainText.Append(part);
            used += part.Length;
        }

        // Pad with spaces (not erase-line) so a reverse-video bar spans the width and a row is one exact string.
        text.Append(' ', width - used).Append("\x1b[0m");
        plainText.Append(' ', width - used);
        plain = plainText.ToString();
        return text.ToString();
    }

    /// <summary>Without colour (NO_COLOR), only bold, dim and reverse are kept.</summary>
    private string Style(string style)
    {
        if (Color || style.Length == 0)
        {
            return style;
        }

        return string.Join(';', style.Split(';').Where(code => code is "1" or "2" or "7"));
    }
}
