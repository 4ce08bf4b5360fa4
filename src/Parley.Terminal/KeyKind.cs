namespace Parley.Terminal;

/// <summary>A decoded key.</summary>
public enum KeyKind
{
    Char,
    Enter,
    Backspace,
    Delete,
    Tab,
    BackTab,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,

    /// <summary>Ctrl plus the letter in <see cref="Key.Char"/> (lower case).</summary>
    Ctrl,

    /// <summary>Alt (sent as ESC then the key, as tmux and xterm do) plus <see cref="Key.Char"/>.</summary>
    Alt,

    /// <summary>A lone Esc: deliberately does nothing (it is a meta prefix to tmux and irssi users).</summary>
    Escape,
    Unknown,
}
