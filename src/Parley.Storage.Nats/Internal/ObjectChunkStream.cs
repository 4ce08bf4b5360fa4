using System.Text;
using System.Text.Json.Nodes;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace Parley.Storage.Nats.Internal;

/// <summary>
/// A read-only stream over one object's chunks, from an offset on, for downloads. The chunks come from an ephemeral
/// pull consumer on the object's chunk subject that holds at most <see cref="PrefetchChunks"/> chunks, so memory does
/// not depend on the file's size (the Object Store API's GetAsync would write the whole object into a destination
/// without waiting for the client). A download from an offset first finds the chunk that holds it with a
/// headers-only pass (chunks of objects stored at the same time interleave, so chunk k is not at first + k), then
/// reads from that chunk's stream sequence and drops only the bytes before the offset inside it.
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
        var (startSequence, skip) = offset > 0
            ? await LocateAsync(js, stream, chunkSubject, offset, cancellationToken).ConfigureAwait(false)
            : (0UL, 0L);
        var config = ChunkConsumerConfig(chunkSubject, startSequence);
        var name = await CreateConsumerAsync(js, stream, config, cancellationToken).ConfigureAwait(false);
        var consumer = await js.GetConsumerAsync(stream, name, cancellationToken).ConfigureAwait(false);
        var stop = new CancellationTokenSource();
        var chunks = consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = PrefetchChunks }, cancellationToken: stop.Token)
            .GetAsyncEnumerator(stop.Token);
        return new ObjectChunkStream(js, stream, name, stop, chunks, skip, size - offset);
    }

    /// <summary>
    /// The stream sequence of the chunk that holds <paramref name="offset"/>, and where in it the offset is, found
    /// with a headers-only pass over the object's chunks (the Nats-Msg-Size header gives each chunk's length; about a
    /// hundred bytes per 128 KiB chunk instead of the chunk), so a resumed download reads from the right chunk.
    /// </summary>
    private static async Task<(ulong Sequence, long Skip)> LocateAsync(INatsJSContext js, string stream, string chunkSubject, long offset,
        CancellationToken cancellationToken)
    {
        var config = ChunkConsumerConfig(chunkSubject, 0);
        config["headers_only"] = true;
        var name = await CreateConsumerAsync(js, stream, config, cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        stop.CancelAfter(ChunkTimeout);
        try
        {
            var consumer = await js.GetConsumerAsync(stream, name, stop.Token).ConfigureAwait(false);
            long before = 0;
            await foreach (var message in consumer.ConsumeAsync<byte[]>(opts: new NatsJSConsumeOpts { MaxMsgs = 256 }, cancellationToken: stop.Token)
                .ConfigureAwait(false))
            {
                // Headers only: the length is in Nats-Msg-Size. A server that ignored headers_only sent the data itself.
                var length = message.Headers is { } headers && headers.TryGetValue("Nats-Msg-Size", out var value) &&
                    long.TryParse(value.ToString(), out var declared)
                    ? declared
                    : message.Data?.Length ?? 0;
                if (before + length > offset)
                {
                    return (message.Metadata?.Sequence.Stream ?? throw new IOException("a chunk of the file came without its stream sequence"),
                        offset - before);
                }

                before += length;
            }

            throw new IOException("the file's chunks ended before the download's offset");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException("the file's chunks did not come from NATS in time");
        }
        finally
        {
            try
            {
                await js.DeleteConsumerAsync(stream, name, CancellationToken.None).ConfigureAwait(false);
            }
            catch (NatsException)
            {
                // the inactivity threshold removes it
            }
        }
    }

    /// <summary>An ephemeral reader of one object's chunks: memory storage, one replica, no acks (a lost download restarts).</summary>
    private static JsonObject ChunkConsumerConfig(string chunkSubject, ulong startSequence)
    {
        var config = new JsonObject
        {
            ["filter_subject"] = chunkSubject,
            ["ack_policy"] = "none",
            ["mem_storage"] = true,
            ["num_replicas"] = 1,
            // A download abandoned without Dispose (a crashed node) leaves nothing behind for long.
            ["inactive_threshold"] = (long)TimeSpan.FromMinutes(1).TotalNanoseconds,
        };
        if (startSequence > 0)
        {
            config["deliver_policy"] = "by_start_sequence";
            config["opt_start_seq"] = startSequence;
        }
        else
        {
            config["deliver_policy"] = "all";
        }

        return config;
    }

    /// <summary>
    /// Creates an ephemeral consumer with the plain API, the filter only in the body: nats-server 2.9.10 refuses the
    /// newer CONSUMER.CREATE.&lt;stream&gt;.&lt;name&gt;.&lt;filter&gt; form (which the client uses) for a filter of
    /// several tokens.
    /// </summary>
    private static async Task<string> CreateConsumerAsync(INatsJSContext js, string stream, JsonObject config, CancellationToken cancellationToken)
    {
        var request = new JsonObject { ["stream_name"] = stream, ["config"] = config };
        var reply = await js.Connection.RequestAsync<byte[], byte[]>($"$JS.API.CONSUMER.CREATE.{stream}",
            Encoding.UTF8.GetBytes(request.ToJsonString()), cancellationToken: cancellationToken).ConfigureAwait(false);
        var answer = JsonNode.Parse(reply.Data ?? []);
        return answer?["name"]?.GetValue<string>() is { } name
            ? name
            : throw new IOException($"NATS refused a reader for the file's chunks: {answer?["error"]?["description"]}");
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
