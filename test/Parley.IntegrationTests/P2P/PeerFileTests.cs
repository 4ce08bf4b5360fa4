using System.Security.Cryptography;

namespace Parley.IntegrationTests.P2P;

/// <summary>
/// Files in P2P mode: sent over the direct link with the same UPLOAD_START/READY/CHUNK/DONE exchange, chunking and
/// SHA-256 check as through the server; through the server when the peer cannot be reached.
/// </summary>
public sealed class PeerFileTests
{
    [Trait("Security", "29")]
    [Fact]
    public async Task SendFileP2P_GoesDirect_SavedWithTheSameBytes_AndFallsBackToTheServerWhenThePeerIsGone()
    {
        await using var setup = await P2PSetup.StartAsync();
        var source = setup.Temp.Sub("photo.bin");
        var bytes = RandomNumberGenerator.GetBytes((3 * 256 * 1024) + 12345); // several chunks and a partial one
        await File.WriteAllBytesAsync(source, bytes);

        var direct = await Parley.As(setup.AliceHome, null, "send-file", "--p2p", "bob", source);

        Assert.True(direct.ExitCode == 0, direct.ToString());
        Assert.Contains("directly", direct.Stdout, StringComparison.Ordinal);
        await setup.Bob.WaitForAsync((o, _) => o.Any(l => l.Contains("sent file", StringComparison.Ordinal)), "the file at bob");
        var saved = Path.Combine(setup.BobHome, "downloads", "photo.bin");
        Assert.Equal(bytes, await File.ReadAllBytesAsync(saved));
        var shown = Assert.Single(PeerMessages.Parse(setup.Bob.Stdout));
        Assert.Equal("direct", shown.Path);

        // Bob's peer process is gone: the same command uploads to the server instead, and bob is offered it there.
        await setup.Bob.KillAsync();
        var fallback = await Parley.As(setup.AliceHome, null, "send-file", "--p2p", "bob", source);
        Assert.True(fallback.ExitCode == 0, fallback.ToString());
        Assert.Contains("through the server", fallback.Stdout, StringComparison.Ordinal);
        var later = await Parley.As(setup.BobHome, null, "listen", "--p2p", "--json");
        var offer = Assert.Single(PeerMessages.Parse(later.Lines));
        Assert.Equal("server", offer.Path);
        Assert.Contains("photo.bin", offer.Text, StringComparison.Ordinal);
    }
}
