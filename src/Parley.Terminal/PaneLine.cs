namespace Parley.Terminal;

/// <summary>One logical line of the message pane (before wrapping to the pane's width).</summary>
public sealed record PaneLine(LineKind Kind, IReadOnlyList<Segment> Segments)
{
    public string Plain => string.Concat(Segments.Select(s => s.Text));
}
