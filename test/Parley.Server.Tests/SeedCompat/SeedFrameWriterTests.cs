using System.Text;
using Parley.Server.SeedCompat;

namespace Parley.Server.Tests.SeedCompat;

/// <summary>Frames for the note's client: each under the byte budget (it reads with recv(1024)), cut at characters.</summary>
public sealed class SeedFrameWriterTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(300)]
    [InlineData(5000)]
    public void LongText_CutUnderTheBudget_AtCharacters_Reassembles(int repeat)
    {
        var text = string.Concat(Enumerable.Repeat("aé☕😀 ", repeat));
        var frames = SeedFrameWriter.EncodeSplit("alice", "bob", "12:3:4", "@FILE:", text, 480);
        var pieces = new StringBuilder();
        foreach (var frame in frames)
        {
            Assert.True(frame.Length <= 480, $"{frame.Length} bytes");
            var fields = Encoding.ASCII.GetString(frame).Split('|');
            Assert.Equal(["alice", "bob", "12:3:4"], fields[..3]);
            Assert.Equal(["", ""], fields[4..]);
            // Each piece is valid UTF-8 on its own: the client decodes each frame separately.
            var piece = new UTF8Encoding(false, true).GetString(Convert.FromBase64String(fields[3]));
            Assert.StartsWith("@FILE:", piece, StringComparison.Ordinal);
            pieces.Append(piece["@FILE:".Length..]);
        }

        Assert.Equal(text, pieces.ToString());
    }

    [Theory]
    [InlineData("notes.txt", "notes")]
    [InlineData("/etc/passwd", "passwd")]
    [InlineData("..\\..\\win.ini", "win.ini")]
    [InlineData("../.bashrc", "bashrc")]
    [InlineData("a b|c.TXT", "a_b_c")]
    [InlineData("", "file")]
    [InlineData("..", "file")]
    public void SafeFileName_LastComponent_NoHiddenFiles_NoDoubleTxt(string name, string expected) =>
        Assert.Equal(expected, SeedFrameWriter.SafeFileName(name));
}
