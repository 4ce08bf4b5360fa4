using System.Text;
using CsCheck;
using Parley.Client.Files;
using Parley.Server.Tests.Infrastructure;

namespace Parley.Server.Tests.Files;

/// <summary>security.md 28: a wire name always becomes a new file strictly inside the downloads folder.</summary>
public sealed class FileNameSanitizerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    [Trait("Security", "28")]
    [Theory]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("..\\..\\x", "x")]
    [InlineData("/abs", "abs")]
    [InlineData("C:\\x", "x")]
    [InlineData("C:x", "Cx")]
    [InlineData("CON.txt", "_CON.txt")]
    [InlineData("con", "_con")]
    [InlineData("nul ", "_nul")]
    [InlineData("LPT9.tar.gz", "_LPT9.tar.gz")]
    [InlineData("COM10.txt", "COM10.txt")]
    [InlineData("file.", "file")]
    [InlineData("a\0b", "ab")]
    [InlineData("a\u001bb\u007f.txt", "ab.txt")]
    [InlineData("photo\u202Egpj.exe", "photogpj.exe")]
    [InlineData("..", "download")]
    [InlineData("", "download")]
    [InlineData("<>:\"|?*", "download")]
    [InlineData("résumé 世界.pdf", "résumé 世界.pdf")]
    public void Sanitize_HostileName_GivesSafeName(string wire, string expected)
    {
        Assert.Equal(expected, FileNameSanitizer.Sanitize(wire));
    }

    [Trait("Security", "28")]
    [Fact]
    public void Sanitize_TenThousandCharacters_CutTo255BytesKeepingExtension()
    {
        var name = FileNameSanitizer.Sanitize(new string('é', 10_000) + ".txt");

        Assert.True(Encoding.UTF8.GetByteCount(name) <= 255);
        Assert.EndsWith(".txt", name, StringComparison.Ordinal);
    }

    [Trait("Security", "28")]
    [Fact]
    public void CreateUnique_SameNameTwice_SecondGetsNewNameAndFirstIsUntouched()
    {
        var first = FileNameSanitizer.CreateUnique(_dir.Path, "report.pdf");
        File.WriteAllText(first, "keep me");

        var second = FileNameSanitizer.CreateUnique(_dir.Path, "../report.pdf");

        Assert.Equal(Path.Combine(_dir.Path, "report (2).pdf"), second);
        Assert.Equal("keep me", File.ReadAllText(first));
    }

    [Trait("Security", "28")]
    [Fact]
    public void CreateUnique_AnyString_NewFileDirectlyInsideFolder()
    {
        var before = new HashSet<string>();
        // Random characters mixed with the pieces attacks are made of.
        var piece = Gen.OneOf(Gen.String[Gen.Char, 0, 20], Gen.OneOf<string>("../", "..\\", "/", "C:", "CON", ".", " ", "\0", "\u202E", "NUL.txt"));
        piece.Array[0, 30].Select(parts => string.Concat(parts))
            .Sample(wire =>
            {
                var path = FileNameSanitizer.CreateUnique(_dir.Path, wire);
                Assert.Equal(_dir.Path, Path.GetDirectoryName(path));
                Assert.True(before.Add(path), $"{path} was handed out twice");
                Assert.Equal(0, new FileInfo(path).Length);
                Assert.True(Encoding.UTF8.GetByteCount(Path.GetFileName(path)) <= 255);
            }, iter: 300);
    }

    public void Dispose() => _dir.Dispose();
}
