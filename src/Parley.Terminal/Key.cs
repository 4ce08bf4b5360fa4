namespace Parley.Terminal;

/// <summary>One key press; <see cref="Char"/> for Char, Ctrl and Alt keys.</summary>
public readonly record struct Key(KeyKind Kind, char Char = '\0')
{
    public override string ToString() => Kind is KeyKind.Char or KeyKind.Ctrl or KeyKind.Alt ? $"{Kind}+{Char}" : Kind.ToString();
}
