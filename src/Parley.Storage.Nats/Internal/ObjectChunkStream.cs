using System.Text;
using System.Text.Json.Nodes;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Parley.Storage.Nats.Internal;

/// <summary>
/// A read-only stream over one object's chunks, from an offset on, for downloads. The chunks come from an ephemeral
/// pull consumer on the object's chunk subject that holds at most <see cref="PrefetchChunks"/> chunks, so memory does
/// not depend on the file's size (the Object Store API's GetAsync would write the whole object into a destination
/// without waiting for the client). Chunks before the offset are read and dropped: NATS gives no way to find the
/// stream sequence of chunk k of an object, since chunks of objects put at the same time interleave.
/// </summary>
internal sealed class ObjectChunkStream : Stream
{
    private const int PrefetchChunks = 4;
    private static readonly TimeSpan ChunkTimeout = TimeSpan.FromSeconds(30);
    private readonly INatsJSContext _js;
    private readonly string _stream;
    private readonly string _consumer;
    private readonly CancellationTokenSource _stop;
    private readonly IAsyncEnumerator<INatsJSMsg<byte[]>> _chunks;
    private long _skip;
    private long _remaining;
    private ReadOnlyMemory<byte> _current;

    private ObjectChunkStream(INatsJSContext js, string stream, string consumer, CancellationTokenSource stop, IAsyncEnumerator<INatsJSMsg<byte[]>> chunks,
        long skip, long remaining)
    {
        _js = js;
        _stream = stream;
        _consumer = consumer;
        _stop = stop;
        _chunks = chunks;
        _skip = skip;
        _remaining = remaining;
    }

    public static async Task<ObjectChunkStream> OpenAsync(INatsJSContext js, string stream, string chunkSubject, long size, long offset,
        CancellationToken cancellationToken)
    {
        // The plain ephemeral-create API, with the filter only in the body: nats-server 2.9.10 refuses the newer
        // CONSUMER.CREATE.<stream>.<name>.<filter> form (which the client uses) for a filter of several tokens.
        var request = new JsonObject
        {
            ["stream_name"] = stream,
            ["config"] = new JsonObject
            {
                ["filter_subject"] = chunkSubject,
                ["deliver_policy"] = "all",
                ["ack_policy"] = "none",
                ["mem_storage"] = true,
                ["num_replicas"] = 1,
                // A download abandoned without Dispose (a crashed node) leaves nothing behind for long.
                ["inactive_threshold"] = (long)TimeSpan.FromMinutes(1).TotalNanoseconds,
            },
        };
        var reply = await js.Connection.RequestAsync<byte[], byte[]>($"$JS.API.CONSUMER.CREATE.{stream}",
            Encoding.UTF8.GetBytes(request.ToJsonString()), cancellationToken: cancellationToken).ConfigureAwait(false);
        var answer = JsonNode.Parse(reply.Data ?? []);
        if (answer?["name"]?.GetValue<string>() is not { } name)
        {
            throw new IOException($"NATS refused a reader for the file's chunks: {answer?["error"]?["description"]}");
        }

        var consumer = await js.GetConsumerAsync(stream, name, cancellationToken).ConfigureAwait(false);
        var stop = new CancellationTokenSource();
        var chunks = consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = PrefetchChunks }, cancellationToken: stop.Token)
            .GetAsyncEnumerator(stop.Token);
        return new ObjectChunkStream(js, stream, name, stop, chunks, offset, size - offset);
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (_current.IsEmpty)
        {
            if (_remaining == 0 || buffer.IsEmpty)
            {
                return 0;
            }

            bool next;
            try
            {
                next = await _chunks.MoveNextAsync().AsTask().WaitAsync(ChunkTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is TimeoutException or NatsException)
            {
                throw new IOException($"the file's chunks stopped coming from NATS: {exception.Message}", exception);
            }

            if (!next)
            {
                throw new IOException("the file's chunks ended before its size");
            }

            var data = _chunks.Current.Data ?? [];
            if (_skip >= data.Length)
            {
                _skip -= data.Length;
                continue;
            }

            _current = data.AsMemory((int)_skip);
            _skip = 0;
        }

        var count = (int)Math.Min(Math.Min(buffer.Length, _current.Length), _remaining);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        _remaining -= count;
        return count;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _chunks.DisposeAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
        try
        {
            // At once rather than after the inactivity threshold: a busy node would otherwise keep one per recent download.
            await _js.DeleteConsumerAsync(_stream, _consumer).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is NatsException or OperationCanceledException)
        {
            // gone already, or NATS unreachable: the inactivity threshold removes it
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_stop.IsCancellationRequested)
        {
            _stop.Cancel();
            _chunks.DisposeAsync().AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
        }

        base.Dispose(disposing);
    }
}
