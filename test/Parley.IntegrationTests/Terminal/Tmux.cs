using System.Diagnostics;

namespace Parley.IntegrationTests.Terminal;

/// <summary>A private tmux server (own socket) at a fixed size, for driving the full-screen client on a real pty.</summary>
public sealed class Tmux : IDisposable
{
    private readonly string _socket = "parley-it-" + Guid.NewGuid().ToString("N")[..10];

    public static bool Available => File.Exists("/usr/bin/tmux") || File.Exists("/usr/local/bin/tmux");

    /// <summary>Starts <paramref name="command"/> in a detached session of 100x30; the pane stays after it exits.</summary>
    public void Start(string command, int width = 100, int height = 30)
    {
        Run("new-session", "-d", "-x", width.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-y", height.ToString(System.Globalization.CultureInfo.InvariantCulture), command);
        Run("set-option", "-g", "remain-on-exit", "on");
    }

    public string Capture() => Run("capture-pane", "-p");

    public void Keys(params string[] keys) => Run(["send-keys", .. keys]);

    public void Type(string text) => Run("send-keys", "-l", text);

    public string Display(string format) => Run("display-message", "-p", format).Trim();

    /// <summary>Polls capture-pane until <paramref name="condition"/> holds; fails with the screen after the deadline.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Parley.Timeout;
        while (true)
        {
            var screen = Capture();
            if (condition(screen))
            {
                return screen;
            }

            Assert.True(DateTime.UtcNow < deadline, $"screen never showed {what} within {Parley.Timeout}:\n{screen}");
            await Task.Delay(50);
        }
    }

    public Task<string> WaitForAsync(string text) => WaitForAsync(s => s.Contains(text, StringComparison.Ordinal), $"\"{text}\"");

    public string Run(params string[] args)
    {
        var info = new ProcessStartInfo("tmux") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-L");
        info.ArgumentList.Add(_socket);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["TERM"] = "xterm-256color";
        info.Environment.Remove("TMUX");
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return output;
    }

    public void Dispose() => Run("kill-server");
}
