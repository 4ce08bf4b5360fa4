using Parley.FileBench;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

// Usage: dotnet run -c Release --project bench/Parley.FileBench -- [MiB] [path/to/parley.dll]
//        (the "sink PORT [tls [FILE [through-cache]]]" mode is this program's own second process for the ceilings)
if (args.Length >= 2 && args[0] == "sink")
{
    return await Sink.RunAsync(int.Parse(args[1], CultureInfo.InvariantCulture), args.Length > 2 && args[2] == "tls", args.Length > 3 ? args[3] : null,
        throughCache: args.Length > 4 && args[4] == "through-cache");
}

var mebibytes = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
var parley = args.Length > 1 ? args[1] : Path.Combine(AppContext.BaseDirectory, "../../../../../src/Parley.Cli/bin/Release/net10.0/parley.dll");
var work = Directory.CreateTempSubdirectory("parley-filebench-").FullName;
try
{
    var file = Path.Combine(work, "payload.bin");
    var size = (long)mebibytes << 20;
    WriteRandom(file, size);
    Console.WriteLine($"payload: {mebibytes} MiB of random bytes, {Environment.ProcessorCount} cores");

    var ceiling = await CeilingAsync(file, size, tls: false, store: null);
    Console.WriteLine($"plain TCP copy between two processes: {Rate(size, ceiling)}");
    var tlsOnly = await CeilingAsync(file, size, tls: true, store: null);
    Console.WriteLine($"TLS copy, receiver only counts:              {Rate(size, tlsOnly)}  ratio to ceiling {ceiling / tlsOnly:0.00}");
    // The floor under Parley's upload: the same bytes over TLS into a receiver that hashes, writes and fsyncs them.
    // It writes as Parley does, through a PageCacheWindow; the second run writes through the whole page cache, as
    // sessions 8-13 measured it (slower on this virtual machine, where every fresh page of cache costs a host fault).
    var tlsFloor = await CeilingAsync(file, size, tls: true, store: Path.Combine(work, "floor.bin"));
    File.Delete(Path.Combine(work, "floor.bin"));
    Console.WriteLine($"TLS copy, receiver hashes, writes and fsyncs: {Rate(size, tlsFloor)}  ratio to ceiling {ceiling / tlsFloor:0.00}");
    var cachedFloor = await CeilingAsync(file, size, tls: true, store: Path.Combine(work, "floor.bin"), throughCache: true);
    File.Delete(Path.Combine(work, "floor.bin"));
    Console.WriteLine($"the same, writing through the whole page cache: {Rate(size, cachedFloor)}  ratio to ceiling {ceiling / cachedFloor:0.00}");

    await using var server = await Proc.StartServerAsync(parley, Path.Combine(work, "data"));
    foreach (var user in new[] { "alice", "bob" })
    {
        await Proc.RunAsync(parley, "correct horse battery\n", "--home", Path.Combine(work, user), "register", "--server", server.Address, "--user", user,
            "--password-stdin", "--accept-new-server-key");
    }

    server.ResetPeak();
    var upload = await Proc.RunAsync(parley, null, "--home", Path.Combine(work, "alice"), "send-file", "bob", file);
    var uploadPeak = server.Peak;
    var id = Regex.Match(upload.Stdout, "file id ([0-9a-f]{32})").Groups[1].Value;
    server.ResetPeak();
    var download = await Proc.RunAsync(parley, null, "--home", Path.Combine(work, "bob"), "get", id, "--to", Path.Combine(work, "got"));
    var downloadPeak = server.Peak;
    var same = Hash(file) == Hash(Path.Combine(work, "got", "payload.bin"));

    Console.WriteLine($"upload   (send-file, client -> server): {Rate(size, upload.Elapsed)}  ratio to ceiling {ceiling / upload.Elapsed:0.00}" +
        $"  peak RSS client {Mib(upload.PeakRss)}, server {Mib(uploadPeak)}");
    Console.WriteLine($"download (get, server -> client):       {Rate(size, download.Elapsed)}  ratio to ceiling {ceiling / download.Elapsed:0.00}" +
        $"  peak RSS client {Mib(download.PeakRss)}, server {Mib(downloadPeak)}");
    Console.WriteLine($"end to end (upload + download):         {Rate(size, upload.Elapsed + download.Elapsed)}  ratio {ceiling / (upload.Elapsed + download.Elapsed):0.00}");
    Console.WriteLine($"byte-identical: {same}");
    return same ? 0 : 1;
}
finally
{
    Directory.Delete(work, recursive: true);
}

static void WriteRandom(string path, long size)
{
    var random = new Random(42);
    var buffer = new byte[1 << 20];
    using var output = File.Create(path);
    for (var left = size; left > 0; left -= buffer.Length)
    {
        random.NextBytes(buffer);
        output.Write(buffer, 0, (int)Math.Min(left, buffer.Length));
    }
}

static string Hash(string path)
{
    using var stream = File.OpenRead(path);
    return Convert.ToHexString(SHA256.HashData(stream));
}

static async Task<TimeSpan> CeilingAsync(string file, long size, bool tls, string? store, bool throughCache = false)
{
    var port = FreePort();
    string[] sinkArgs = [typeof(Sink).Assembly.Location, "sink", port.ToString(CultureInfo.InvariantCulture), .. tls ? ["tls"] : Array.Empty<string>(),
        .. store is null ? Array.Empty<string>() : [store], .. throughCache ? ["through-cache"] : Array.Empty<string>()];
    var sink = Process.Start(new ProcessStartInfo("dotnet", sinkArgs) { RedirectStandardOutput = true })!;
    await sink.StandardOutput.ReadLineAsync(); // "ready"
    var clock = Stopwatch.StartNew();
    using (var client = new TcpClient())
    {
        await client.ConnectAsync(IPAddress.Loopback, port);
        Stream output = client.GetStream();
        if (tls)
        {
            // The sink's key is fresh and not pinned: this stream measures the transport, not the pin.
            var secure = new SslStream(output, leaveInnerStreamOpen: false, (_, _, _, _) => true);
            await secure.AuthenticateAsClientAsync("127.0.0.1");
            output = secure;
        }

        await using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, useAsync: true);
        await input.CopyToAsync(output, 256 * 1024);
        if (output is SslStream done)
        {
            // Close cleanly: close_notify, end of our half, then read what the server sent (its session tickets) to
            // its end. Closing with those unread would reset the connection under the sink's last reads.
            await done.ShutdownAsync();
            client.Client.Shutdown(SocketShutdown.Send);
            await done.CopyToAsync(Stream.Null);
        }

        await output.DisposeAsync();
    }

    var received = long.Parse((await sink.StandardOutput.ReadLineAsync())!, CultureInfo.InvariantCulture);
    clock.Stop();
    await sink.WaitForExitAsync();
    if (received != size)
    {
        throw new InvalidOperationException($"sink got {received} of {size} bytes");
    }

    return clock.Elapsed;
}

static int FreePort()
{
    var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    var port = ((IPEndPoint)listener.LocalEndpoint).Port;
    listener.Stop();
    return port;
}

static string Rate(long bytes, TimeSpan elapsed) => string.Create(CultureInfo.InvariantCulture, $"{bytes / elapsed.TotalSeconds / (1 << 20),7:0.0} MiB/s ({elapsed.TotalSeconds:0.00} s)");

static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1 << 20):0} MiB");
