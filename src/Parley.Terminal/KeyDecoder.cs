namespace Parley.Terminal;

/// <summary>
/// Decodes what a terminal sends into keys: control characters, CSI/SS3 sequences (arrows, PgUp/PgDn, Home/End,
/// Delete, Shift+Tab) and ESC-prefixed Alt keys as tmux sends them (ESC then '2' is Alt+2). A sequence cut at the end
/// of one read is kept and finished by the next; a lone ESC at the end of a read is a plain Esc key (tmux delivers
/// an Alt key in a single write, after its escape-time).
/// </summary>
public sealed class KeyDecoder
{
    private string _pending = string.Empty;

    public IReadOnlyList<Key> Feed(ReadOnlySpan<char> input)
    {
        var text = _pending + input.ToString();
        _pending = string.Empty;
        var keys = new List<Key>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (c != '\x1b')
            {
                keys.Add(Plain(c));
                i++;
                continue;
            }

            if (i + 1 >= text.Length)
            {
                keys.Add(new Key(KeyKind.Escape));
                i++;
                continue;
            }

            var next = text[i + 1];
            if (next is '[' or 'O')
            {
                var end = i + 2;
                while (end < text.Length && (text[end] is >= '0' and <= '9' or ';'))
                {
                    end++;
                }

                if (end >= text.Length)
                {
                    _pending = text[i..];
                    break;
                }

                keys.Add(Sequence(text[(i + 2)..end], text[end]));
                i = end + 1;
                continue;
            }

            if (next == '\x1b')
            {
                keys.Add(new Key(KeyKind.Escape));
                i++;
                continue;
            }

            keys.Add(new Key(KeyKind.Alt, char.ToLowerInvariant(next)));
            i += 2;
        }

        return keys;
    }

    private static Key Plain(char c) => c switch
    {
        '\r' or '\n' => new Key(KeyKind.Enter),
        '\t' => new Key(KeyKind.Tab),
        '\x7f' or '\b' => new Key(KeyKind.Backspace),
        >= '\x01' and <= '\x1a' => new Key(KeyKind.Ctrl, (char)('a' + c - 1)),
        < ' ' => new Key(KeyKind.Unknown),
        _ => new Key(KeyKind.Char, c),
    };

    private static Key Sequence(string parameters, char final)
    {
        var parts = parameters.Split(';');
        return final switch
        {
            'A' => new Key(KeyKind.Up),
            'B' => new Key(KeyKind.Down),
            'C' => new Key(KeyKind.Right),
            'D' => new Key(KeyKind.Left),
            'H' => new Key(KeyKind.Home),
            'F' => new Key(KeyKind.End),
            'Z' => new Key(KeyKind.BackTab),
            '~' => parts[0] switch
            {
                "1" or "7" => new Key(KeyKind.Home),
                "4" or "8" => new Key(KeyKind.End),
                "3" => new Key(KeyKind.Delete),
                "5" => new Key(KeyKind.PageUp),
                "6" => new Key(KeyKind.PageDown),
                _ => new Key(KeyKind.Unknown),
            },
            _ => new Key(KeyKind.Unknown),
        };
    }
}
