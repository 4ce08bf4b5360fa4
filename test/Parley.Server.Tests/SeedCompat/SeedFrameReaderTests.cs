using System.Text;
using Parley.Server.SeedCompat;

namespace Parley.Server.Tests.SeedCompat;

/// <summary>
/// The reassembler for the note's format: the same frames however the bytes are split or joined (the note's server
/// took each recv(1024) as one frame), the name recovered when it arrives joined with the first frame, and a bad or
/// over-long frame costing only itself.
/// </summary>
public sealed class SeedFrameReaderTests
{
    private const string Stream = "bob|alice|12:0:1|aGVsbG8=||bob|~carol|12:0:2|d29ybGQ=||bob|alice|12:0:3|||bob|SEVER||EXIT";

    [Fact]
    public void WholeStream_InOneRead_GivesEveryFrameAndTheGoodbye()
    {
        var frames = ReadAll(Encoding.ASCII.GetBytes(Stream), chunk: int.MaxValue);
        Assert.Equal(
        [
            new SeedFrame("bob", "alice", "12:0:1", "aGVsbG8="),
            new SeedFrame("bob", "~carol", "12:0:2", "d29ybGQ="),
            new SeedFrame("bob", "alice", "12:0:3", string.Empty),
            new SeedFrame("bob", "SEVER", string.Empty, "EXIT", IsExit: true),
        ], frames);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(25)]
    public void AnySplit_GivesTheSameFrames(int chunk) =>
        Assert.Equal(ReadAll(Encoding.ASCII.GetBytes(Stream), int.MaxValue), ReadAll(Encoding.ASCII.GetBytes(Stream), chunk));

    [Fact]
    public void EverySplitPoint_GivesTheSameFrames()
    {
        var bytes = Encoding.ASCII.GetBytes(Stream);
        var expected = ReadAll(bytes, int.MaxValue);
        for (var cut = 1; cut < bytes.Length; cut++)
        {
            var reader = new SeedFrameReader(1024);
            var frames = new List<SeedFrame>();
            reader.Append(bytes.AsSpan(0, cut));
            Drain(reader, frames);
            reader.Append(bytes.AsSpan(cut));
            Drain(reader, frames);
            Assert.Equal(expected, frames);
        }
    }

    [Theory]
    [InlineData("bob", "bob")]
    [InlineData("bobbob|alice|1:2:3|aGk=||", "bob")]
    [InlineData("abab" + "abab" + "|x|1:2:3|aGk=||", "abab")]
    public void Name_AloneAfterQuiet_OrJoinedWithFirstFrame(string bytes, string name)
    {
        var reader = new SeedFrameReader(1024);
        reader.Append(Encoding.ASCII.GetBytes(bytes));
        var joined = bytes.Contains('|', StringComparison.Ordinal);
        Assert.Equal(joined ? name : null, reader.TryReadName(quiet: false, 64));
        if (!joined)
        {
            Assert.Equal(name, reader.TryReadName(quiet: true, 64));
        }

        Assert.Equal(joined ? SeedReadStatus.Frame : SeedReadStatus.NeedMore, reader.TryRead(out var frame, out _));
        Assert.Equal(joined ? name : null, frame?.Sender);
    }

    [Theory]
    [InlineData("alice|bob|1:2:3|aGk=||")]
    [InlineData("|bob|1:2:3|aGk=||")]
    public void Name_NotFollowedByFramesFromIt_IsRefused(string bytes)
    {
        var reader = new SeedFrameReader(1024);
        reader.Append(Encoding.ASCII.GetBytes(bytes));
        Assert.Throws<FormatException>(() => reader.TryReadName(quiet: false, 64));
    }

    [Fact]
    public void Name_TooLong_IsRefused()
    {
        var reader = new SeedFrameReader(1024);
        reader.Append(Encoding.ASCII.GetBytes(new string('a', 65)));
        Assert.Throws<FormatException>(() => reader.TryReadName(quiet: true, 64));
    }

    [Fact]
    public void MalformedFrame_CostsOnlyItself()
    {
        var reader = new SeedFrameReader(1024);
        reader.Append(Encoding.ASCII.GetBytes("bob|alice|aGk=||bob|alice|1:2:3|b2s=||"));
        Assert.Equal(SeedReadStatus.Malformed, reader.TryRead(out _, out var problem));
        Assert.Contains("expected sender|receiver|timestamp|base64(text)||", problem, StringComparison.Ordinal);
        Assert.Equal(SeedReadStatus.Frame, reader.TryRead(out var next, out _));
        Assert.Equal("b2s=", next!.Payload);
    }

    [Fact]
    public void OversizedFrame_IsSkippedWithoutBuffering_TheNextOneArrives()
    {
        var reader = new SeedFrameReader(100);
        var frames = new List<SeedFrame>();
        var problems = new List<SeedReadStatus>();
        var big = "bob|alice|1:2:3|" + new string('A', 10_000) + "||bob|alice|1:2:3|b2s=||";
        foreach (var piece in Encoding.ASCII.GetBytes(big).Chunk(64))
        {
            reader.Append(piece);
            while (true)
            {
                var status = reader.TryRead(out var frame, out _);
                if (status == SeedReadStatus.NeedMore)
                {
                    break;
                }

                if (frame is not null)
                {
                    frames.Add(frame);
                }
                else
                {
                    problems.Add(status);
                }
            }

            Assert.True(reader.Buffered <= 200, $"{reader.Buffered} bytes buffered while skipping");
        }

        Assert.Equal([SeedReadStatus.TooLarge], problems);
        Assert.Equal([new SeedFrame("bob", "alice", "1:2:3", "b2s=")], frames);
    }

    [Fact]
    public void GoodbyePrefix_WaitsForTheRest()
    {
        var reader = new SeedFrameReader(1024);
        reader.Append("bob|SEVER||EX"u8);
        Assert.Equal(SeedReadStatus.NeedMore, reader.TryRead(out _, out _));
        reader.Append("IT"u8);
        Assert.Equal(SeedReadStatus.Frame, reader.TryRead(out var frame, out _));
        Assert.True(frame!.IsExit);
    }

    [Fact]
    public void FieldsThatAreNotUtf8_AreMalformed()
    {
        var reader = new SeedFrameReader(1024);
        reader.Append([(byte)'b', 0xff, (byte)'|', (byte)'a', (byte)'|', (byte)'1', (byte)'|', (byte)'x', (byte)'|', (byte)'|']);
        reader.Append("bob|alice|1:2:3|b2s=||"u8);
        Assert.Equal(SeedReadStatus.Malformed, reader.TryRead(out _, out _));
        Assert.Equal(SeedReadStatus.Frame, reader.TryRead(out _, out _));
    }

    private static List<SeedFrame> ReadAll(byte[] bytes, int chunk)
    {
        var reader = new SeedFrameReader(1024);
        var frames = new List<SeedFrame>();
        for (var offset = 0; offset < bytes.Length; offset += chunk)
        {
            reader.Append(bytes.AsSpan(offset, Math.Min(chunk, bytes.Length - offset)));
            Drain(reader, frames);
        }

        Assert.Equal(0, reader.Buffered);
        return frames;
    }

    private static void Drain(SeedFrameReader reader, List<SeedFrame> frames)
    {
        while (reader.TryRead(out var frame, out var problem) is var status && status != SeedReadStatus.NeedMore)
        {
            Assert.True(status == SeedReadStatus.Frame, problem);
            frames.Add(frame!);
        }
    }
}
