namespace Parley.Terminal.Tests;

public sealed class ScreenRendererTests
{
    [Fact]
    public void Frame_HasListPaneStatusAndInput_AndRedrawsOnlyChanges()
    {
        var state = new ChatState("alice") { CatchingUp = false, Status = "connected" };
        state.Query("bob");
        state.Open("carol");
        state.Receive(Frames.Message(1, "carol", "alice", "psst"));
        state.Receive(Frames.Message(2, "bob", "alice", "hello there"));
        var input = new InputLine();
        input.Insert("typing");
        var renderer = new ScreenRenderer(color: false);

        var first = renderer.Render(state, input, 80, 12, Frames.Noon, TimeZoneInfo.Utc);
        var rows = renderer.PlainRows;

        Assert.Equal(12, rows.Count);
        Assert.Contains("2:bob", rows[0], StringComparison.Ordinal);
        Assert.StartsWith("> 2-bob", rows[2], StringComparison.Ordinal);
        Assert.Contains("(1)", rows[3], StringComparison.Ordinal);
        Assert.Contains("12:02 <bob> hello there", rows[9], StringComparison.Ordinal);
        Assert.StartsWith("[12:00] [alice] [2:bob] [Act: 3]", rows[10], StringComparison.Ordinal);
        Assert.StartsWith("[bob] typing", rows[11], StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\x1b\[[0-9;]*(3|9)[0-7]m", first); // no colour codes without colour

        var idle = renderer.Render(state, input, 80, 12, Frames.Noon, TimeZoneInfo.Utc);
        Assert.DoesNotContain("\x1b[1;1H", idle, StringComparison.Ordinal);
        Assert.DoesNotContain("\x1b[2;1H", idle, StringComparison.Ordinal);

        input.Insert("!");
        var typed = renderer.Render(state, input, 80, 12, Frames.Noon, TimeZoneInfo.Utc);
        Assert.Contains("\x1b[12;1H", typed, StringComparison.Ordinal);
        Assert.DoesNotContain("\x1b[11;1H", typed, StringComparison.Ordinal);
    }

    [Fact]
    public void Scrolling_ShowsOlderLinesAndMoreBelow()
    {
        var state = new ChatState("alice") { CatchingUp = false, Status = "connected" };
        var bob = state.Query("bob");
        for (ulong i = 1; i <= 40; i++)
        {
            state.Receive(Frames.Message(i, "bob", "alice", $"line {i}", Frames.Noon));
        }

        var renderer = new ScreenRenderer(color: true);
        renderer.Render(state, new InputLine(), 100, 12, Frames.Noon, TimeZoneInfo.Utc);
        Assert.Contains("line 40", renderer.PlainRows[9], StringComparison.Ordinal);

        bob.ScrollOffset = 10;
        renderer.Render(state, new InputLine(), 100, 12, Frames.Noon, TimeZoneInfo.Utc);
        Assert.Contains("line 30", renderer.PlainRows[9], StringComparison.Ordinal);
        Assert.Contains("more below: 10", renderer.PlainRows[10], StringComparison.Ordinal);

        bob.ScrollOffset = 1000;
        renderer.Render(state, new InputLine(), 100, 12, Frames.Noon, TimeZoneInfo.Utc);
        Assert.Equal(renderer.MaxScroll, bob.ScrollOffset);
        Assert.Contains("-- Tue 14 Oct 2025 --", renderer.PlainRows[1], StringComparison.Ordinal);
    }

    [Fact]
    public void NarrowScreen_DropsTheSidebarAndWraps()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        state.Query("bob");
        state.Receive(Frames.Message(1, "bob", "alice", new string('x', 60)));
        var renderer = new ScreenRenderer(color: false);

        renderer.Render(state, new InputLine(), 40, 8, Frames.Noon, TimeZoneInfo.Utc);

        Assert.All(renderer.PlainRows, row => Assert.Equal(row == renderer.PlainRows[^1] ? 39 : 40, row.Length));
        Assert.StartsWith("      xxxx", renderer.PlainRows[5], StringComparison.Ordinal);
    }
}
