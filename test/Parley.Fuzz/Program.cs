using Parley.Fuzz;
using SharpFuzz;

// The SharpFuzz harness (security.md 7). scripts/fuzz.sh runs it under afl-fuzz as `dotnet Parley.Fuzz.dll frames`.
//   frames                 fuzz target: FrameCodec.TryRead loops, see FrameTarget (input on stdin, from afl-fuzz)
//   --write-seeds DIR      write the seed corpus (test/Parley.Fuzz/corpus)
//   --replay PATH...       run files (or every file of directories) through the frames target, outside AFL
const string Usage = "usage: Parley.Fuzz frames | --write-seeds DIR | --replay PATH...";

switch (args)
{
    case ["frames"]:
        // Out of process: the fuzzed code runs in a child process, so a hang or a crash of the runtime is reported
        // to afl-fuzz instead of killing the fork server.
        Fuzzer.OutOfProcess.Run(stream =>
        {
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            FrameTarget.Run(memory.ToArray());
        });
        return 0;

    case ["chat-input"]:
        // src/Parley.Cli's ChatInput is internal and the CLI grants no InternalsVisibleTo, so it is not a target yet.
        Console.Error.WriteLine("chat-input: not available (Parley.Cli's chat line parser is internal)");
        return 2;

    case ["--write-seeds", var directory]:
        Console.WriteLine($"wrote {Seeds.Write(directory)} seed files to {directory}");
        return 0;

    case ["--replay", .. var paths] when paths.Length > 0:
        return Replay(paths);

    default:
        Console.Error.WriteLine(Usage);
        return 2;
}

static int Replay(string[] paths)
{
    var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p])
        .Where(f => !Path.GetFileName(f).Equals("README.md", StringComparison.OrdinalIgnoreCase));
    var failed = 0;
    foreach (var file in files)
    {
        try
        {
            FrameTarget.Run(File.ReadAllBytes(file));
            Console.WriteLine($"ok    {file}");
        }
#pragma warning disable CA1031 // a replay reports every escaping exception: that is the finding
        catch (Exception e)
#pragma warning restore CA1031
        {
            failed++;
            Console.WriteLine($"FAIL  {file}: {e.GetType().FullName}: {e.Message}");
        }
    }

    return failed == 0 ? 0 : 1;
}
