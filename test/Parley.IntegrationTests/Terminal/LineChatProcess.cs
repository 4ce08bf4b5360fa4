using System.Diagnostics;
using System.Text;

namespace Parley.IntegrationTests.Terminal;

/// <summary>A running `parley chat` in line mode with redirected stdio: write lines in, wait for lines out.</summary>
public sealed class LineChatProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private LineChatProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            lock (_output)
            {
                _output.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static LineChatProcess Start(string home, params string[] extra) =>
        new(Process.Start(Parley.StartInfo(["--home", home, "chat", .. extra]))!);

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Polls the output until it contains <paramref name="text"/>; fails with the output after the deadline.</summary>
    public async Task WaitForAsync(string text)
    {
        var deadline = DateTime.UtcNow + Parley.Timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, $"no \"{text}\" within {Parley.Timeout}; output:\n{Output}");
            await Task.Delay(25);
        }
    }

    public async Task<int> QuitAsync()
    {
        await WriteLineAsync("/quit");
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
