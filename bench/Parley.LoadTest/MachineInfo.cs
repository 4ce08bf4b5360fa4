using System.Globalization;
using System.Runtime.InteropServices;

namespace Parley.LoadTest;

/// <summary>
/// What the figures were measured on. Loopback figures depend on the CPU more than on anything else (client and
/// server share it), and fsync figures on the disk under the temp directory, so both go into every report.
/// </summary>
internal static class MachineInfo
{
    /// <summary>Logical processors this process may use (what `nproc` prints).</summary>
    public static int ProcessorCount => Environment.ProcessorCount;

    public static string CpuModel => ReadProc("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString();

    /// <summary>The 1-, 5- and 15-minute load averages: other work on a shared machine shows up here.</summary>
    public static string LoadAverage
    {
        get
        {
            try
            {
                var fields = File.ReadAllText("/proc/loadavg").Split(' ');
                return string.Join(' ', fields.Take(3));
            }
            catch (IOException)
            {
                return "unknown";
            }
            catch (UnauthorizedAccessException)
            {
                return "unknown";
            }
        }
    }

    public static string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{ProcessorCount} logical CPUs (nproc), {CpuModel}; {RuntimeInformation.OSDescription}; {RuntimeInformation.FrameworkDescription}");

    private static string? ReadProc(string path, string key)
    {
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == key)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
