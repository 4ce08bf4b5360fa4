using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Parley.IntegrationTests.SeedCompat;

/// <summary>
/// The design note's own client, ../shared/seed/original/SktClient.py, run unmodified with python3: its user name and
/// lines are fed on stdin, its stdout is collected (colour codes removed) and waited on line by line.
/// </summary>
public sealed partial class SeedClientProcess : IAsyncDisposable
{
    /// <summary>
    /// SktClient.py does <c>from SktSrv import hostname, port</c>; importing the real SktSrv would bind the note's
    /// server socket. So a stand-in SktSrv module with the listener's address is registered, then the client runs as
    /// __main__ exactly as written.
    /// </summary>
    private const string Shim = """
        import os, runpy, sys, types
        host, port, client = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        srv = types.ModuleType("SktSrv")
        srv.hostname, srv.port = host, port
        sys.modules["SktSrv"] = srv
        sys.argv = [client]
        runpy.run_path(client, run_name="__main__")
        """;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private bool _disposed;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SeedClientProcess(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data is null ? null : "stderr: " + e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>The note's client as the test suite finds it: ../shared/seed/original/SktClient.py from the repository root.</summary>
    public static string ClientPath
    {
        get
        {
            var folder = new DirectoryInfo(AppContext.BaseDirectory);
            while (folder is not null && !File.Exists(Path.Combine(folder.FullName, "Parley.slnx")))
            {
                folder = folder.Parent;
            }

            Assert.True(folder is not null, "repository root (Parley.slnx) not found above " + AppContext.BaseDirectory);
            var path = Path.GetFullPath(Path.Combine(folder.FullName, "..", "shared", "seed", "original", "SktClient.py"));
            Assert.True(File.Exists(path), "the note's client is missing: " + path);
            return path;
        }
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

    public bool HasExited => _process.HasExited;

    /// <summary>Starts the client in <paramref name="workDirectory"/> (where it reads and writes files), logs in as <paramref name="name"/> and picks <paramref name="chatWith"/>.</summary>
    public static async Task<SeedClientProcess> StartAsync(int port, string name, string chatWith, string workDirectory)
    {
        Directory.CreateDirectory(workDirectory);
        var info = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDirectory,
        };
        // -u: unbuffered stdout, so each line the client prints reaches the test at once.
        foreach (var arg in new[] { "-u", "-c", Shim, "127.0.0.1", port.ToString(System.Globalization.CultureInfo.InvariantCulture), ClientPath })
        {
            info.ArgumentList.Add(arg);
        }

        var client = new SeedClientProcess(Process.Start(info)!);
        await client.WriteLineAsync(name);
        await client.WaitForAsync("[ Client is running ]");
        await client.WriteLineAsync(chatWith);
        return client;
    }

    public async Task WriteLineAsync(string line)
    {
        await _process.StandardInput.WriteAsync(line + "\n");
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Waits until the output contains <paramref name="text"/>; fails with the output after the deadline.</summary>
    public async Task WaitForAsync(string text)
    {
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        while (true)
        {
            Task changed;
            lock (_output)
            {
                if (_output.ToString().Contains(text, StringComparison.Ordinal))
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"no \"{text}\" from the note's client within {Parley.Timeout}; its output:\n{Output}");
            }
        }
    }

    /// <summary>How many times <paramref name="text"/> appears in the output so far.</summary>
    public int Count(string text) => Regex.Matches(Output, Regex.Escape(text)).Count;

    /// <summary>Types @exit: the client says goodbye (sender|SEVER||EXIT) and closes; waits for the process to end.</summary>
    public async Task QuitAsync()
    {
        await WriteLineAsync("@exit");
        await WaitForAsync("You are offline.");
        _process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(Parley.Timeout);
        await _process.WaitForExitAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(AnsiCodes().Replace(line, string.Empty));
            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.SetResult();
        }
    }

    [GeneratedRegex("\u001b\\[[0-9;]*m")]
    private static partial Regex AnsiCodes();
}
