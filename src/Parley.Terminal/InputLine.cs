using System.Text;

namespace Parley.Terminal;

/// <summary>The input line: readline-style editing (Ctrl+A/E/W/K/U) and Up/Down recall of what was entered.</summary>
public sealed class InputLine
{
    private const int MaxHistory = 500;
    private readonly StringBuilder _text = new();
    private readonly List<string> _history = [];
    private int _historyIndex;
    private string _draft = string.Empty;

    public string Text => _text.ToString();

    public int Cursor { get; private set; }

    public IReadOnlyList<string> History => _history;

    public void Insert(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _text.Insert(Cursor, text);
        Cursor += text.Length;
    }

    public void Backspace()
    {
        if (Cursor > 0)
        {
            _text.Remove(--Cursor, 1);
        }
    }

    public void Delete()
    {
        if (Cursor < _text.Length)
        {
            _text.Remove(Cursor, 1);
        }
    }

    public void Left() => Cursor = Math.Max(0, Cursor - 1);

    public void Right() => Cursor = Math.Min(_text.Length, Cursor + 1);

    public void Home() => Cursor = 0;

    public void End() => Cursor = _text.Length;

    /// <summary>Ctrl+W: deletes the word before the cursor (and the spaces after it).</summary>
    public void DeleteWordBack()
    {
        var start = Cursor;
        while (start > 0 && _text[start - 1] == ' ')
        {
            start--;
        }

        while (start > 0 && _text[start - 1] != ' ')
        {
            start--;
        }

        _text.Remove(start, Cursor - start);
        Cursor = start;
    }

    public void KillToEnd() => _text.Remove(Cursor, _text.Length - Cursor);

    public void Clear()
    {
        _text.Clear();
        Cursor = 0;
    }

    /// <summary>Replaces the whole text (completion, history), cursor at <paramref name="cursor"/> or the end.</summary>
    public void Set(string text, int? cursor = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        _text.Clear().Append(text);
        Cursor = Math.Clamp(cursor ?? text.Length, 0, text.Length);
    }

    /// <summary>Enter: returns the line, remembers it (not blanks, not a repeat of the last one) and clears.</summary>
    public string Submit()
    {
        var line = Text;
        if (line.Trim().Length > 0 && (_history.Count == 0 || _history[^1] != line))
        {
            _history.Add(line);
            if (_history.Count > MaxHistory)
            {
                _history.RemoveAt(0);
            }
        }

        _historyIndex = _history.Count;
        _draft = string.Empty;
        Clear();
        return line;
    }

    /// <summary>Up: the previous entry; what was being typed is kept and comes back with Down.</summary>
    public void HistoryUp()
    {
        if (_historyIndex == 0 || _history.Count == 0)
        {
            return;
        }

        if (_historyIndex == _history.Count)
        {
            _draft = Text;
        }

        _historyIndex = Math.Min(_historyIndex, _history.Count) - 1;
        Set(_history[_historyIndex]);
    }

    public void HistoryDown()
    {
        if (_historyIndex >= _history.Count)
        {
            return;
        }

        _historyIndex++;
        Set(_historyIndex == _history.Count ? _draft : _history[_historyIndex]);
    }
}
