using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Parley.Client;
using Parley.Client.Files;
using Parley.IntegrationTests.Faults;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.IntegrationTests.Files;

/// <summary>
/// File transfer with the real `parley serve` process and the real CLI (issue 4): large files to offline users, uploads
/// and downloads killed halfway and resumed, a server restart in between, hostile names, and an oversized declaration.
/// </summary>
public sealed class FileTransferEndToEndTests : IDisposable
{
    /// <summary>8 MiB/s: a 64 MiB transfer's second half takes about 4 s, ample time to see its first half done.</summary>
    private static readonly Toxics Paced = new() { BandwidthBytesPerSecond = 8L << 20 };

    private readonly TempDirectory _dir = new();

    [Trait("Security", "29")]
    [Fact]
    public async Task TwoHundredMiB_ToOfflineUser_ServerRestartedBeforeFetch_ByteIdentical()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var (alice, bob) = await RegisterPairAsync(server);
        var file = RandomFile("big.bin", 200 << 20, seed: 200);

        var sent = await Parley.As(alice, null, "send-file", "bob", file);
        Assert.True(sent.ExitCode == 0, sent.ToString());
        await server.StopAsync();
        await server.RestartAsync();

        var id = await OfferedIdAsync(bob, "big.bin");
        var got = await Parley.As(bob, null, "get", id);
        Assert.True(got.ExitCode == 0, got.ToString());
        AssertSameBytes(file, Path.Combine(bob, "downloads", "big.bin"));
    }

    [Fact]
    public async Task SendFile_KilledHalfway_RerunSendsOnlyTheRest()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        await using var proxy = ProxyTo(server, _dir.Sub("alice"));
        var (alice, bob) = await RegisterPairAsync(server, aliceVia: proxy);
        const long Size = 64L << 20;
        var file = RandomFile("half.bin", Size, seed: 1);

        // "Halfway" is read from the server's .part file, not guessed with a sleep. The upload is paced by the proxy
        // so that the second half takes seconds: unpaced it took a third of a second, and a busy CI machine once
        // polled the file too late and saw the transfer finished.
        proxy.Set(ToxicDirection.Upstream, Paced);
        await KillWhenAsync(Parley.StartInfo("--home", alice, "send-file", "bob", file),
            () => PartLength(Path.Combine(server.DataDirectory, "files"), "*.part") >= Size / 2);
        proxy.Set(ToxicDirection.Upstream, Toxics.None);
        var stored = PartLength(Path.Combine(server.DataDirectory, "files"), "*.part");
        Assert.InRange(stored, Size / 2, Size - 1);

        var rerun = await Parley.As(alice, null, "send-file", "bob", file);
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        var resumedAt = long.Parse(System.Text.RegularExpressions.Regex.Match(rerun.Stderr, @"resuming \S+ at byte (\d+)").Groups[1].Value);
        Assert.True(resumedAt >= stored, rerun.Stderr);

        var got = await Parley.As(bob, null, "get", await OfferedIdAsync(bob, "half.bin"));
        Assert.True(got.ExitCode == 0, got.ToString());
        AssertSameBytes(file, Path.Combine(bob, "downloads", "half.bin"));
    }

    [Fact]
    public async Task Get_KilledHalfway_RerunResumesAndVerifies()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        await using var proxy = ProxyTo(server, _dir.Sub("bob"));
        var (alice, bob) = await RegisterPairAsync(server, bobVia: proxy);
        const long Size = 64L << 20;
        var file = RandomFile("down.bin", Size, seed: 2);
        Assert.Equal(0, (await Parley.As(alice, null, "send-file", "bob", file)).ExitCode);
        var id = await OfferedIdAsync(bob, "down.bin");
        var partial = Path.Combine(bob, "downloads", FileDownloader.PartialFolderName);

        // Paced by the proxy, as the upload above, so that "halfway" lasts seconds.
        proxy.Set(ToxicDirection.Downstream, Paced);
        await KillWhenAsync(Parley.StartInfo("--home", bob, "get", id), () => PartLength(partial, "*.part") >= Size / 2);
        proxy.Set(ToxicDirection.Downstream, Toxics.None);
        Assert.InRange(PartLength(partial, "*.part"), Size / 2, Size);

        var rerun = await Parley.As(bob, null, "get", id);
        Assert.True(rerun.ExitCode == 0, rerun.ToString());
        Assert.Contains("resuming", rerun.Stderr, StringComparison.Ordinal);
        AssertSameBytes(file, Path.Combine(bob, "downloads", "down.bin"));
        Assert.Empty(Directory.GetFiles(partial));
    }

    [Trait("Security", "28")]
    [Fact]
    public async Task HostileNames_EachSavedAsNewFileStrictlyInsideDownloads()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        var (_, bob) = await RegisterPairAsync(server);
        string[] names = ["../../etc/passwd", "..\\..\\x", "/abs", "C:\\x", "CON.txt", "nul ", "file.", "a\0b", "ctl\u001b[31m\u0007.txt", "\u202Egpj.exe",
            new string('n', 10_000), "passwd"];
        var payload = RandomFile("payload.bin", 1000, seed: 3);
        await using (var alice = await LibraryClient.LoginAsync(server, "alice", "library"))
        {
            var uploader = new FileUploader(_ => Task.FromResult(alice), _dir.Sub("alice-state"));
            foreach (var name in names)
            {
                await uploader.UploadAsync(payload, "bob", name);
            }
        }

        var downloads = Path.Combine(bob, "downloads");
        Directory.CreateDirectory(downloads);
        await File.WriteAllTextAsync(Path.Combine(downloads, "passwd"), "existing file");
        var outside = Directory.GetFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories).ToHashSet();

        var ids = await OfferedIdsAsync(bob);
        Assert.Equal(names.Length, ids.Count);
        foreach (var id in ids)
        {
            var got = await Parley.As(bob, null, "get", id);
            Assert.True(got.ExitCode == 0, got.ToString());
            var saved = got.Stdout.Trim()["saved ".Length..];
            Assert.Equal(Path.GetFullPath(downloads), Path.GetDirectoryName(saved));
            AssertSameBytes(payload, saved);
        }

        Assert.Equal("existing file", await File.ReadAllTextAsync(Path.Combine(downloads, "passwd")));
        var saves = Directory.GetFiles(downloads);
        Assert.Equal(names.Length + 1, saves.Length);
        Assert.Contains(Path.Combine(downloads, "_CON.txt"), saves);
        var added = Directory.GetFileSystemEntries(_dir.Path, "*", SearchOption.AllDirectories).Where(p => !outside.Contains(p)).ToList();
        Assert.All(added, path => Assert.StartsWith(bob + Path.DirectorySeparatorChar, path, StringComparison.Ordinal));
    }

    [Trait("Security", "29")]
    [Fact]
    public async Task UploadStart_TenTebibytesDeclared_RefusedWithZeroBytesWritten()
    {
        await using var server = await ServerProcess.StartAsync(_dir.Sub("data"));
        await RegisterPairAsync(server);
        await using var alice = await LibraryClient.LoginAsync(server, "alice", "library");
        var id = MessageId.NewRandom();
        using var frames = alice.OpenFileStream(id);

        await alice.SendFileFrameAsync(new UploadStartFrame(id, "bob", "huge.bin", 10UL << 40, new byte[32]));
        var refused = await Assert.ThrowsAsync<ParleyErrorException>(() => frames.ReadAsync(CancellationToken.None).WaitAsync(Parley.Timeout));

        Assert.Equal(ErrorCode.FileTooLarge, refused.Code);
        Assert.Contains("limit", refused.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(Path.Combine(server.DataDirectory, "files")));
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Registers alice and bob, each with a CLI home; a home given a proxy reaches the server only through it (its
    /// address is the one the home remembers).
    /// </summary>
    private async Task<(string Alice, string Bob)> RegisterPairAsync(ServerProcess server, FaultProxy? aliceVia = null, FaultProxy? bobVia = null)
    {
        var alice = _dir.Sub("alice");
        var bob = _dir.Sub("bob");
        await RegisterAsync(server, alice, "alice", aliceVia);
        await RegisterAsync(server, bob, "bob", bobVia);
        return (alice, bob);
    }

    private static async Task RegisterAsync(ServerProcess server, string home, string user, FaultProxy? via)
    {
        if (via is null)
        {
            await Accounts.RegisterAsync(server, home, user);
            return;
        }

        var result = await Parley.As(home, Accounts.Password + "\n", "register", "--server", $"127.0.0.1:{via.Port}", "--user", user,
            "--password-stdin", "--accept-new-server-key");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    /// <summary>A proxy to the server node <paramref name="home"/> would use (in cluster mode, one of two).</summary>
    private static FaultProxy ProxyTo(ServerProcess server, string home) =>
        FaultProxy.Start(int.Parse(server.AddressFor(home).Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture));

    private string RandomFile(string name, long size, int seed)
    {
        var path = _dir.Sub(name);
        var random = new Random(seed);
        var buffer = new byte[1 << 20];
        using var file = File.Create(path);
        for (var left = size; left > 0; left -= buffer.Length)
        {
            random.NextBytes(buffer);
            file.Write(buffer, 0, (int)Math.Min(buffer.Length, left));
        }

        return path;
    }

    private static async Task<string> OfferedIdAsync(string home, string name)
    {
        var listen = await Parley.As(home, null, "listen", "--json");
        Assert.True(listen.ExitCode == 0, listen.ToString());
        return listen.Lines.Select(line => JsonDocument.Parse(line).RootElement)
            .Where(entry => entry.TryGetProperty("file", out var file) && file.GetProperty("name").GetString() == name)
            .Select(entry => entry.GetProperty("file").GetProperty("id").GetString()!)
            .Single();
    }

    private static async Task<List<string>> OfferedIdsAsync(string home)
    {
        var listen = await Parley.As(home, null, "listen", "--json");
        Assert.True(listen.ExitCode == 0, listen.ToString());
        return listen.Lines.Select(line => JsonDocument.Parse(line).RootElement)
            .Where(entry => entry.TryGetProperty("file", out _))
            .Select(entry => entry.GetProperty("file").GetProperty("id").GetString()!)
            .ToList();
    }

    private static long PartLength(string folder, string pattern) =>
        Directory.Exists(folder) ? Directory.GetFiles(folder, pattern).Select(f => new FileInfo(f).Length).DefaultIfEmpty(0).Max() : 0;

    /// <summary>Starts a CLI process and kills it (SIGKILL) as soon as <paramref name="halfway"/> holds.</summary>
    private static async Task KillWhenAsync(ProcessStartInfo start, Func<bool> halfway)
    {
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        while (!halfway())
        {
            Assert.False(process.HasExited, "the transfer finished before it could be interrupted");
            Assert.True(deadline.Elapsed < Parley.Timeout, "the transfer did not reach halfway");
            await Task.Delay(5);
        }

        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
    }

    private static void AssertSameBytes(string expected, string actual)
    {
        Assert.True(File.Exists(actual), $"{actual} is missing");
        using var a = File.OpenRead(expected);
        using var b = File.OpenRead(actual);
        Assert.Equal(a.Length, b.Length);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(a)), Convert.ToHexString(SHA256.HashData(b)));
    }
}
