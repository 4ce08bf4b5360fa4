using System.Security.Cryptography;
using Parley.Server.Tests.Infrastructure;
using Parley.Storage;

namespace Parley.Server.Tests.Storage;

/// <summary>security.md 19 at the store: token hashes are used once, and revocation by device or for all devices.</summary>
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
