using System.Buffers;
using Parley.Protocol.Frames;

namespace Parley.Protocol.Tests;

/// <summary>
/// Replays the fuzzing corpus on every CI run (security.md 7): every file of test/Parley.Fuzz/corpus/ (the seeds) and
/// test/Parley.Fuzz/findings/ (every input that ever crashed or hung a campaign of scripts/fuzz.sh) goes through the
/// decoder paths of the <c>frames</c> fuzz target (test/Parley.Fuzz/FrameTarget.cs): the server's loops before and
/// after login, the client's loop, as one segment, as two segments cut at the position the input's first byte
/// names, and as two successive reads. Nothing but <see cref="ProtocolException"/> may escape, every decoded frame
/// must re-encode to the bytes it was read from, and every input must finish in bounded time.
/// </summary>
public sealed class FuzzCorpusReplayTests
{
    /// <summary>Only a guard against hangs: one input takes microseconds.</summary>
    private static readonly TimeSpan PerInputLimit = TimeSpan.FromSeconds(10);

    private static readonly ProtocolLimits ClientLimits = ProtocolLimits.Default;

    private static readonly ProtocolLimits ServerLimits = ProtocolLimits.Default with { MaxTextBytes = ProtocolLimits.Default.MaxFrameLength };

    private static readonly (int MaxFrameLength, ProtocolLimits Limits)[] Loops =
    [
        (ServerLimits.MaxPreAuthFrameLength, ServerLimits),
        (ServerLimits.MaxFrameLength, ServerLimits),
        (ClientLimits.MaxFrameLength, ClientLimits),
    ];

    private static readonly string FuzzDirectory = Path.Combine(FindRepositoryRoot(), "test", "Parley.Fuzz");

    public static TheoryData<string> Inputs()
    {
        var data = new TheoryData<string>();
        foreach (var file in InputFiles("corpus").Concat(InputFiles("findings")))
        {
            data.Add(Path.GetRelativePath(FuzzDirectory, file).Replace('\\', '/'));
        }

        return data;
    }

    [Trait("Security", "7")]
    [Theory]
    [MemberData(nameof(Inputs))]
    public async Task Input_DecodesWithOnlyProtocolException_InBoundedTime(string relativePath)
    {
        var input = await File.ReadAllBytesAsync(Path.Combine(FuzzDirectory, relativePath));

        var run = Task.Run(() => Replay(input));
        var first = await Task.WhenAny(run, Task.Delay(PerInputLimit));
        Assert.True(first == run, $"{relativePath}: not decoded within {PerInputLimit.TotalSeconds} s (a hang)");
        await run; // rethrows whatever escaped the decoder
    }

    [Trait("Security", "7")]
    [Fact]
    public void Corpus_HasAValidSeedForEveryFrameType()
    {
        var seeded = new HashSet<FrameType>();
        foreach (var file in InputFiles("corpus"))
        {
            var buffer = new ReadOnlySequence<byte>(File.ReadAllBytes(file));
            try
            {
                while (FrameCodec.TryRead(ref buffer, ClientLimits.MaxFrameLength, ClientLimits, out var frame))
                {
                    seeded.Add(frame!.Type);
                }
            }
            catch (ProtocolException)
            {
                // split-* seeds start with a control byte; they are not frames by themselves.
            }
        }

        var missing = Enum.GetValues<FrameType>().Where(t => !seeded.Contains(t)).ToList();
        Assert.True(
            missing.Count == 0,
            $"no seed for {string.Join(", ", missing)}: add it to test/Parley.Fuzz/Seeds.cs, then " +
            "dotnet run --project test/Parley.Fuzz -- --write-seeds test/Parley.Fuzz/corpus");
    }

    [Trait("Security", "7")]
    [Fact]
    public void Findings_FolderIsKeptWithItsReadme()
    {
        Assert.True(File.Exists(Path.Combine(FuzzDirectory, "findings", "README.md")));
    }

    /// <summary>The frames target of the harness; throws (other than ProtocolException) on a contract violation.</summary>
    private static void Replay(byte[] input)
    {
        foreach (var (max, limits) in Loops)
        {
            DecodeAll(new ReadOnlySequence<byte>(input), max, limits);
        }

        if (input.Length == 0)
        {
            return;
        }

        var data = input.AsMemory(1);
        var cut = input[0] % (data.Length + 1);
        var first = data[..cut];
        var second = data[cut..];
        foreach (var (max, limits) in Loops)
        {
            DecodeAll(ChunkedSequence.From([first, second]), max, limits);
            DecodeReads(first, second, max, limits);
        }
    }

    private static void DecodeAll(ReadOnlySequence<byte> buffer, int maxFrameLength, ProtocolLimits limits)
    {
        try
        {
            while (DecodeOne(ref buffer, maxFrameLength, limits))
            {
            }
        }
        catch (ProtocolException)
        {
        }
    }

    private static void DecodeReads(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, int maxFrameLength, ProtocolLimits limits)
    {
        try
        {
            var buffer = ChunkedSequence.From([first]);
            while (DecodeOne(ref buffer, maxFrameLength, limits))
            {
            }

            var pending = new List<ReadOnlyMemory<byte>>();
            foreach (var segment in buffer)
            {
                pending.Add(segment);
            }

            pending.Add(second);
            buffer = ChunkedSequence.From(pending);
            while (DecodeOne(ref buffer, maxFrameLength, limits))
            {
            }
        }
        catch (ProtocolException)
        {
        }
    }

    private static bool DecodeOne(ref ReadOnlySequence<byte> buffer, int maxFrameLength, ProtocolLimits limits)
    {
        var before = buffer;
        if (!FrameCodec.TryRead(ref buffer, maxFrameLength, limits, out var frame))
        {
            Assert.Equal(before.Length, buffer.Length);
            Assert.Equal(before.Start, buffer.Start);
            return false;
        }

        Assert.NotNull(frame);
        var consumed = before.Length - buffer.Length;
        Assert.InRange(consumed, FrameCodec.LengthPrefixSize + 1, FrameCodec.LengthPrefixSize + maxFrameLength);
        Assert.Equal(before.Slice(0, consumed).ToArray(), FrameCodec.Encode(frame));

        // What a receiver does next with decoded names: never throws.
        switch (frame)
        {
            case CredentialsFrame credentials:
                Names.TryNormalizeUser(credentials.User, out _);
                Names.IsValidDevice(credentials.Device);
                break;
            case ResumeFrame resume:
                Names.TryNormalizeUser(resume.User, out _);
                Names.IsValidDevice(resume.Device);
                break;
            case SendFrame send:
                Names.TryNormalizeUser(send.To, out _);
                break;
            case DeliverFrame deliver:
                Names.TryNormalizeUser(deliver.From, out _);
                Names.TryNormalizeUser(deliver.To, out _);
                break;
            case AuthOkFrame authOk:
                Names.TryNormalizeUser(authOk.User, out _);
                Names.IsValidDevice(authOk.Device);
                break;
            case PresenceFrame presence:
                Names.TryNormalizeUser(presence.User, out _);
                break;
            case WatchFrame watch:
                foreach (var user in watch.Users)
                {
                    Names.TryNormalizeRecipient(user, out _);
                }

                break;
            case HistoryFrame history when history.Peer.Length != 0:
                Names.TryNormalizeUser(history.Peer, out _);
                break;
            case UploadStartFrame upload:
                Names.TryNormalizeUser(upload.To, out _);
                break;
            case FileInfoFrame info:
                Names.TryNormalizeUser(info.From, out _);
                Names.TryNormalizeUser(info.To, out _);
                break;
            case DeliverFileFrame deliverFile:
                Names.TryNormalizeUser(deliverFile.From, out _);
                Names.TryNormalizeUser(deliverFile.To, out _);
                _ = deliverFile.AsMessage();
                break;
            case WhoListFrame whoList:
                foreach (var user in whoList.Users)
                {
                    Names.TryNormalizeUser(user.User, out _);
                }

                break;
        }

        _ = frame.ToString();
        return true;
    }

    private static IEnumerable<string> InputFiles(string folder)
    {
        var directory = Path.Combine(FuzzDirectory, folder);
        return Directory.Exists(directory)
            ? Directory.GetFiles(directory)
                .Where(f => !Path.GetFileName(f).Equals("README.md", StringComparison.OrdinalIgnoreCase) && !Path.GetFileName(f).StartsWith('.'))
                .Order(StringComparer.Ordinal)
            : [];
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Parley.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no Parley.slnx above {AppContext.BaseDirectory}");
    }
}
