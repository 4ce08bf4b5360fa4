namespace Parley.Terminal.Tests;

public sealed class InputTests
{
    [Fact]
    public void History_UpDownRecallsAndKeepsTheDraft()
    {
        var input = new InputLine();
        input.Insert("first");
        input.Submit();
        input.Insert("second");
        input.Submit();
        input.Insert("draft");

        input.HistoryUp();
        Assert.Equal("second", input.Text);
        input.HistoryUp();
        Assert.Equal("first", input.Text);
        input.HistoryUp();
        Assert.Equal("first", input.Text);
        input.HistoryDown();
        input.HistoryDown();
        Assert.Equal("draft", input.Text);
    }

    [Fact]
    public void Editing_WordAndLineKeys()
    {
        var input = new InputLine();
        input.Insert("hello big world");
        input.DeleteWordBack();
        Assert.Equal("hello big ", input.Text);
        input.Home();
        input.Right();
        input.KillToEnd();
        Assert.Equal("h", input.Text);
        input.Backspace();
        Assert.Equal(string.Empty, input.Text);
    }

    [Fact]
    public void Tab_CompletesCommandsThenCycles()
    {
        var input = new InputLine();
        var completer = new Completer();
        input.Insert("/q");

        Assert.True(completer.Complete(input, []));
        Assert.Equal("/query ", input.Text);
        Assert.True(completer.Complete(input, []));
        Assert.Equal("/quit ", input.Text);
    }

    [Fact]
    public void Tab_CompletesNamesInArgumentsAndAfterSwitch()
    {
        var completer = new Completer();
        var input = new InputLine();
        input.Insert("/query ca");
        Assert.True(completer.Complete(input, ["bob", "carol"]));
        Assert.Equal("/query carol ", input.Text);

        completer.Reset();
        input.Set("@switch:b");
        Assert.True(completer.Complete(input, ["bob", "carol"]));
        Assert.Equal("@switch:bob ", input.Text);

        completer.Reset();
        input.Set("zz");
        Assert.False(completer.Complete(input, ["bob"]));
    }

    [Fact]
    public void NickColor_IsStableAndSpread()
    {
        Assert.Equal(NickColor.Sgr("bob"), NickColor.Sgr("bob"));
        Assert.Equal(NickColor.Sgr("Bob"), NickColor.Sgr("bob"));
        var colours = new[] { "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi" }.Select(NickColor.Index).Distinct().Count();
        Assert.True(colours >= 4, $"only {colours} colours for 8 nicks");
        Assert.All(new[] { "x", "yy", "zzz" }, n => Assert.Contains(NickColor.Sgr(n), NickColor.Palette));
    }
}
