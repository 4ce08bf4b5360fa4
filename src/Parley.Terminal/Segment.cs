namespace Parley.Terminal;

/// <summary>A run of text with one SGR style ("" plain, "2" dim, "1;33" bold yellow...), so colour can be dropped.</summary>
public readonly record struct Segment(string Text, string Style = "");
