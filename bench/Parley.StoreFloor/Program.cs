using System.Diagnostics;
using System.Globalization;
using Parley.StoreFloor;

// The floor under Parley's store: for each layout and batch size, a fresh store, the same messages, one commit a
// batch; prints the CPU a message (the batches' transactions and, for staged layouts, the merges), the rate one thread
// reaches, and the bytes on disk a message. See docs/performance.md, "The floors".
//   dotnet bench/Parley.StoreFloor/bin/Release/net10.0/Parley.StoreFloor.dll [--messages 200000] [--batches 32,128]
//       [--users 200] [--text-bytes 100] [--merge-every 16384] [--shapes batch-blob,...] [--dir DIR]
var options = ParseOptions(args);
var messages = int.Parse(options.GetValueOrDefault("messages", "200000"), CultureInfo.InvariantCulture);
var batches = options.GetValueOrDefault("batches", "32,128").Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray();
var users = int.Parse(options.GetValueOrDefault("users", "200"), CultureInfo.InvariantCulture);
var textBytes = int.Parse(options.GetValueOrDefault("text-bytes", "100"), CultureInfo.InvariantCulture);
// 16,384 messages are 32,768 log entries: Parley's 4 partitions of 8,192 entries each, so a merge here takes as many
// rows per user as one of Parley's (a partition meets a quarter of the users with a quarter of the rows).
var mergeEvery = int.Parse(options.GetValueOrDefault("merge-every", "16384"), CultureInfo.InvariantCulture);
var folder = options.GetValueOrDefault("dir", Path.GetTempPath());
var shapeNames = options.GetValueOrDefault("shapes", string.Join(',', Shapes.Names)).Split(',');
if (messages <= 0 || users < 2 || textBytes < 0 || mergeEvery <= 0 || batches.Any(b => b <= 0) || shapeNames.Any(n => !Shapes.Names.Contains(n)))
{
    Console.Error.WriteLine($"usage: Parley.StoreFloor [--messages N>0] [--batches B,..] [--users U>=2] [--text-bytes T] [--merge-every M>0] [--shapes {string.Join(',', Shapes.Names)}] [--dir DIR]");
    return 2;
}

// As Parley's store does before its first connection (SqliteProcessConfig): SQLite in multi-thread mode without memory
// statistics, so that neither the per-connection mutex nor the global allocation one is paid.
_ = new Microsoft.Data.Sqlite.SqliteConnection();
SQLitePCL.raw.sqlite3_config(SQLitePCL.raw.SQLITE_CONFIG_MULTITHREAD);
SQLitePCL.raw.sqlite3_config(9 /* SQLITE_CONFIG_MEMSTATUS */, 0);
Console.WriteLine($"SQLite {SQLitePCL.raw.sqlite3_libversion().utf8_to_string()}, WAL, synchronous=FULL, one commit a batch; {messages:N0} messages of {textBytes} bytes among {users} users; merges every {mergeEvery:N0} messages; in {folder}");
Console.WriteLine();
Console.WriteLine("| layout | batch | µs CPU a message: batches | merges | total | messages/s, one thread | bytes on disk a message | what it writes |");
Console.WriteLine("|---|---|---|---|---|---|---|---|");

// A short run of every layout first, not reported, so that the JIT has compiled what the measured runs use.
foreach (var name in shapeNames)
{
    Run(name, mergeEvery + 1000, 64);
}

foreach (var batch in batches)
{
    foreach (var name in shapeNames)
    {
        var result = Run(name, messages, batch);
        Console.WriteLine(result);
    }
}

return 0;

string Run(string name, int count, int batch)
{
    using var database = new FloorDatabase(Path.Combine(folder, $"parley-store-floor-{Environment.ProcessId}-{Guid.NewGuid():N}"));
    var source = new MessageSource(users, textBytes);
    var shape = Shapes.Create(name, database, source);
    var process = Process.GetCurrentProcess();
    TimeSpan batchCpu = TimeSpan.Zero, mergeCpu = TimeSpan.Zero;
    var wall = Stopwatch.StartNew();
    var sinceMerge = 0;
    for (var done = 0; done < count;)
    {
        var start = Cpu(process);
        database.Begin();
        var size = Math.Min(batch, count - done);
        for (var i = 0; i < size; i++)
        {
            shape.Add(source.Next());
        }

        shape.EndBatch();
        database.Commit();
        done += size;
        sinceMerge += size;
        batchCpu += Cpu(process) - start;
        if (shape.Merges && (sinceMerge >= mergeEvery || done == count))
        {
            start = Cpu(process);
            shape.Merge();
            mergeCpu += Cpu(process) - start;
            sinceMerge = 0;
        }
    }

    wall.Stop();
    if (!shape.Holds(count))
    {
        throw new InvalidOperationException($"{shape.Name} does not hold the {count:N0} messages it was given");
    }

    var perBatch = batchCpu.TotalMicroseconds / count;
    var perMerge = mergeCpu.TotalMicroseconds / count;
    return string.Create(CultureInfo.InvariantCulture,
        $"| {shape.Name} | {batch} | {perBatch:F2} | {(shape.Merges ? perMerge.ToString("F2", CultureInfo.InvariantCulture) : "–")} | {perBatch + perMerge:F2} | {count / wall.Elapsed.TotalSeconds:N0} | {database.Bytes / count:N0} | {shape.Description} |");
}

static TimeSpan Cpu(Process process)
{
    process.Refresh();
    return process.TotalProcessorTime;
}

static Dictionary<string, string> ParseOptions(string[] args)
{
    var options = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        options[args[i].TrimStart('-')] = args[i + 1];
    }

    return options;
}
