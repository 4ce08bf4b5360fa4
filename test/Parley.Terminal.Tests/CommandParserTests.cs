namespace Parley.Terminal.Tests;

public sealed class CommandParserTests
{
    [Theory]
    [InlineData("/query bob", CommandKind.Query, "bob", null)]
    [InlineData("/q bob", CommandKind.Query, "bob", null)]
    [InlineData("@switch:bob", CommandKind.Query, "bob", null)]
    [InlineData("/msg bob hi there", CommandKind.Message, "bob", "hi there")]
    [InlineData("/msg bob", CommandKind.Message, "bob", null)]
    [InlineData("/who", CommandKind.Who, null, null)]
    [InlineData("/close", CommandKind.Close, null, null)]
    [InlineData("/close carol", CommandKind.Close, "carol", null)]
    [InlineData("/send /tmp/a b.txt", CommandKind.Send, null, "/tmp/a b.txt")]
    [InlineData("@trans:/tmp/x", CommandKind.Send, null, "/tmp/x")]
    [InlineData("/help query", CommandKind.Help, "query", null)]
    [InlineData("@help", CommandKind.Help, null, null)]
    [InlineData("/quit", CommandKind.Quit, null, null)]
    [InlineData("@exit", CommandKind.Quit, null, null)]
    [InlineData("hello", CommandKind.Say, null, "hello")]
    [InlineData("//etc/passwd", CommandKind.Say, null, "/etc/passwd")]
    [InlineData("   ", CommandKind.Empty, null, null)]
    public void Parse_KnownLines(string line, CommandKind kind, string? name, string? text)
    {
        var command = CommandParser.Parse(line);

        Assert.Equal(kind, command.Kind);
        Assert.Equal(name, command.Name);
        Assert.Equal(text, command.Text);
    }

    [Theory]
    [InlineData("/nonsense", "unknown command /nonsense")]
    [InlineData("/query", "usage: /query NAME")]
    [InlineData("/msg", "usage: /msg NAME [TEXT]")]
    [InlineData("/send", "usage: /send PATH")]
    public void Parse_BadLines_SayWhy(string line, string message)
    {
        var command = CommandParser.Parse(line);

        Assert.Equal(CommandKind.Invalid, command.Kind);
        Assert.StartsWith(message, command.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpFor_KnowsCommandsAndAliases()
    {
        Assert.Contains("/query NAME", CommandParser.HelpFor("/query"), StringComparison.Ordinal);
        Assert.Contains("/query NAME", CommandParser.HelpFor("switch"), StringComparison.Ordinal);
        Assert.Contains("/send PATH", CommandParser.HelpFor("@trans"), StringComparison.Ordinal);
        Assert.Null(CommandParser.HelpFor("frobnicate"));
        Assert.Contains("/query NAME", CommandParser.Help, StringComparison.Ordinal);
    }
}
