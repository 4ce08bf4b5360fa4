using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Storage;

/// <summary>Device cursors (security.md 22): what a device acknowledged never moves backwards.</summary>
public sealed class SqliteCursorTests
{
    [Fact]
    public async Task SaveCursorAsync_LowerValue_CursorDoesNotMoveBackwards()
    {
        await using var temp = new TempStore();
        await temp.Store.SaveCursorAsync("bob", "phone", 10);

        await temp.Store.SaveCursorAsync("bob", "phone", 5);
        Assert.Equal(10UL, await temp.Store.GetCursorAsync("bob", "phone"));

        await temp.Store.SaveCursorAsync("bob", "phone", 12);
        Assert.Equal(12UL, await temp.Store.GetCursorAsync("bob", "phone"));
    }

    [Fact]
    public async Task SaveCursorAsync_LowerValueAfterReopen_CursorDoesNotMoveBackwards()
    {
        await using var temp = new TempStore();
        await temp.Store.SaveCursorAsync("bob", "phone", 10);
        await temp.ReopenAsync();

        await temp.Store.SaveCursorAsync("bob", "phone", 3);

        Assert.Equal(10UL, await temp.Store.GetCursorAsync("bob", "phone"));
    }

    [Fact]
    public async Task GetCursorAsync_DevicesAreSeparate_EachKeepsItsOwn()
    {
        await using var temp = new TempStore();
        await temp.Store.SaveCursorAsync("bob", "phone", 7);
        await temp.Store.SaveCursorAsync("bob", "laptop", 2);

        Assert.Equal(7UL, await temp.Store.GetCursorAsync("bob", "phone"));
        Assert.Equal(2UL, await temp.Store.GetCursorAsync("bob", "laptop"));
        Assert.Equal(0UL, await temp.Store.GetCursorAsync("bob", "tablet"));
        Assert.Equal(0UL, await temp.Store.GetCursorAsync("carol", "phone"));
    }
}
