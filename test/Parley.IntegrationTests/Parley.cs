using System.Diagnostics;

namespace Parley.IntegrationTests;

/// <summary>Runs the real `parley` executable (the parley.dll built next to the tests).</summary>
public static class Parley
{
    public static string Dll { get; } = Path.Combine(AppContext.BaseDirectory, "parley.dll");

    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static ProcessStartInfo StartInfo(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment.Remove("PARLEY_HOME");
        return info;
    }

    /// <summary>Runs a command to its end, feeding <paramref name="stdin"/>; kills it if it outlives the deadline.</summary>
    public static async Task<CliResult> RunAsync(string? stdin, params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        using var deadline = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"parley {string.Join(' ', args)} did not finish within {Timeout}");
        }

        return new CliResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>A user's command in their own home.</summary>
    public static Task<CliResult> As(string home, string? stdin, params string[] args) => RunAsync(stdin, ["--home", home, .. args]);
}
