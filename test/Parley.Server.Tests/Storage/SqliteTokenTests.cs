using System.Security.Cryptography;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;

namespace Parley.Server.Tests.Storage;

/// <summary>
/// security.md 19 at the store: token hashes are used once, a resume exchanges the token for the next in one write, and
/// revocation by device or for all devices.
/// </summary>
public sealed class SqliteTokenTests
{
    private static readonly DateTimeOffset Expiry = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task TakeTokenAsync_StoredToken_ReturnedOnceThenNull()
    {
        await using var temp = new TempStore();
        var record = NewToken("alice", "phone");
        await temp.Store.AddTokenAsync(record);

        var first = await temp.Store.TakeTokenAsync(record.Hash);
        var second = await temp.Store.TakeTokenAsync(record.Hash);

        Assert.NotNull(first);
        Assert.Equal(record.Hash, first.Hash);
        Assert.Equal(("alice", "phone", Expiry), (first.User, first.Device, first.Expires));
        Assert.Null(second);
    }

    [Fact]
    public async Task TakeTokenAsync_UnknownHash_Null()
    {
        await using var temp = new TempStore();
        await temp.Store.AddTokenAsync(NewToken("alice", "phone"));

        Assert.Null(await temp.Store.TakeTokenAsync(RandomNumberGenerator.GetBytes(32)));
    }

    [Fact]
    public async Task ExchangeTokenAsync_ValidToken_TakenAndReplacementStored()
    {
        await using var temp = new TempStore();
        var presented = NewToken("alice", "phone");
        var next = NewToken("alice", "phone");
        await temp.Store.AddTokenAsync(presented);

        var taken = await temp.Store.ExchangeTokenAsync(presented.Hash, next, Expiry.AddDays(-1));

        Assert.NotNull(taken);
        Assert.Equal(presented.Hash, taken.Hash);
        Assert.Null(await temp.Store.TakeTokenAsync(presented.Hash));
        Assert.NotNull(await temp.Store.TakeTokenAsync(next.Hash));
    }

    /// <summary>The token is used up either way; the replacement is stored only for the token's own, unexpired device.</summary>
    [Theory]
    [InlineData("alice", "laptop", -1)]
    [InlineData("bob", "phone", -1)]
    [InlineData("alice", "phone", 1)]
    public async Task ExchangeTokenAsync_OtherDeviceOrExpired_TakenButNoReplacement(string user, string device, int daysAfterExpiry)
    {
        await using var temp = new TempStore();
        var presented = NewToken("alice", "phone");
        var next = NewToken(user, device);
        await temp.Store.AddTokenAsync(presented);

        var taken = await temp.Store.ExchangeTokenAsync(presented.Hash, next, Expiry.AddDays(daysAfterExpiry));

        Assert.Equal(presented.Hash, taken?.Hash);
        Assert.Null(await temp.Store.TakeTokenAsync(presented.Hash));
        Assert.Null(await temp.Store.TakeTokenAsync(next.Hash));
    }

    [Fact]
    public async Task ExchangeTokenAsync_UnknownToken_NullAndNoReplacement()
    {
        await using var temp = new TempStore();
        var next = NewToken("alice", "phone");

        Assert.Null(await temp.Store.ExchangeTokenAsync(RandomNumberGenerator.GetBytes(32), next, Expiry.AddDays(-1)));
        Assert.Null(await temp.Store.TakeTokenAsync(next.Hash));
    }

    [Fact]
    public async Task RevokeTokensAsync_OneDevice_OnlyThatDevicesTokensGone()
    {
        await using var temp = new TempStore();
        var phone1 = NewToken("alice", "phone");
        var phone2 = NewToken("alice", "phone");
        var laptop = NewToken("alice", "laptop");
        var bobPhone = NewToken("bob", "phone");
        foreach (var token in new[] { phone1, phone2, laptop, bobPhone })
        {
            await temp.Store.AddTokenAsync(token);
        }

        await temp.Store.RevokeTokensAsync("alice", "phone");

        Assert.Null(await temp.Store.TakeTokenAsync(phone1.Hash));
        Assert.Null(await temp.Store.TakeTokenAsync(phone2.Hash));
        Assert.NotNull(await temp.Store.TakeTokenAsync(laptop.Hash));
        Assert.NotNull(await temp.Store.TakeTokenAsync(bobPhone.Hash));
    }

    [Fact]
    public async Task RevokeTokensAsync_AllDevices_EveryTokenOfTheUserGoneOthersKept()
    {
        await using var temp = new TempStore();
        var phone = NewToken("alice", "phone");
        var laptop = NewToken("alice", "laptop");
        var bobPhone = NewToken("bob", "phone");
        foreach (var token in new[] { phone, laptop, bobPhone })
        {
            await temp.Store.AddTokenAsync(token);
        }

        await temp.Store.RevokeTokensAsync("alice", device: null);

        Assert.Null(await temp.Store.TakeTokenAsync(phone.Hash));
        Assert.Null(await temp.Store.TakeTokenAsync(laptop.Hash));
        Assert.NotNull(await temp.Store.TakeTokenAsync(bobPhone.Hash));
    }

    private static ResumeTokenRecord NewToken(string user, string device) =>
        new(SHA256.HashData(RandomNumberGenerator.GetBytes(32)), user, device, Expiry);
}
