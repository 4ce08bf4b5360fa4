namespace Parley.Terminal;

/// <summary>
/// Tab completion of the word before the cursor: commands when it is the first word and starts with '/', names
/// otherwise (also after @switch:). Repeated Tab cycles through the candidates; any other key ends the cycle.
/// </summary>
public sealed class Completer
{
    private List<string>? _candidates;
    private int _index;
    private int _start;
    private string _suffix = string.Empty;

    /// <summary>Completes in <paramref name="input"/>; false when nothing matches.</summary>
    public bool Complete(InputLine input, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(names);
        var text = input.Text;
        if (_candidates is null)
        {
            var cursor = input.Cursor;
            var start = cursor;
            while (start > 0 && text[start - 1] != ' ' && text[start - 1] != ':')
            {
                start--;
            }

            var word = text[start..cursor];
            var firstWord = text[..start].Trim().Length == 0;
            IEnumerable<string> pool = firstWord && word.StartsWith('/') ? CommandParser.Commands : names;
            _candidates = pool.Where(c => c.StartsWith(word, StringComparison.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
            if (_candidates.Count == 0)
            {
                _candidates = null;
                return false;
            }

            _start = start;
            _suffix = text[cursor..];
            _index = 0;
        }
        else
        {
            _index = (_index + 1) % _candidates.Count;
        }

        var completed = text[.._start] + _candidates[_index] + " ";
        input.Set(completed + _suffix.TrimStart(), completed.Length);
        return true;
    }

    public void Reset() => _candidates = null;
}
