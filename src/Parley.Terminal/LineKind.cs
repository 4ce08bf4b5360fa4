namespace Parley.Terminal;

/// <summary>What a line of the message pane is.</summary>
public enum LineKind
{
    Message,
    Info,
    DayChange,
    OfflineSeparator,
    ReadMarker,
}
