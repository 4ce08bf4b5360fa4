namespace Parley.Terminal.Tests;

public sealed class KeyDecoderTests
{
    [Fact]
    public void Decodes_AltKeysAsTmuxSendsThem()
    {
        var keys = new KeyDecoder().Feed("\x1b" + "2\x1b" + "a");

        Assert.Equal([new Key(KeyKind.Alt, '2'), new Key(KeyKind.Alt, 'a')], keys);
    }

    [Fact]
    public void Decodes_SequencesAndControls()
    {
        var keys = new KeyDecoder().Feed("\x1b[A\x1b[B\x1b[5~\x1b[6~\x1b[3~\x1bOH\x1b[F\x1b[Z\t\r\x7f\x0e\x10\x04x");

        Assert.Equal(
        [
            new Key(KeyKind.Up), new Key(KeyKind.Down), new Key(KeyKind.PageUp), new Key(KeyKind.PageDown), new Key(KeyKind.Delete),
            new Key(KeyKind.Home), new Key(KeyKind.End), new Key(KeyKind.BackTab), new Key(KeyKind.Tab), new Key(KeyKind.Enter),
            new Key(KeyKind.Backspace), new Key(KeyKind.Ctrl, 'n'), new Key(KeyKind.Ctrl, 'p'), new Key(KeyKind.Ctrl, 'd'), new Key(KeyKind.Char, 'x'),
        ], keys);
    }

    [Fact]
    public void LoneEsc_IsJustEsc_AndSplitSequencesJoin()
    {
        var decoder = new KeyDecoder();

        Assert.Equal([new Key(KeyKind.Escape)], decoder.Feed("\x1b"));
        Assert.Empty(decoder.Feed("\x1b[5"));
        Assert.Equal([new Key(KeyKind.PageUp)], decoder.Feed("~"));
    }
}
