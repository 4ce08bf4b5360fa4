using System.Text;

namespace Parley.Server.SeedCompat;

/// <summary>
/// Reassembles the note's frames from a TCP byte stream, however the bytes were split or joined: the note's server
/// took each <c>recv(1024)</c> as one frame, which loses or garbles frames that arrive together or in pieces. This
/// one keeps the bytes it has not used and finds frame boundaries by counting fields, so each byte is looked at a
/// bounded number of times even when a frame arrives one byte per read.
/// </summary>
/// <remarks>
/// A message is five '|'-terminated fields, the last one empty: <c>sender|receiver|timestamp|text||</c>. Base64,
/// the note's timestamps and user names hold no '|', so a field never contains one. The goodbye,
/// <c>sender|SEVER||EXIT</c>, has no terminator (the client closes the socket after it), so it is recognised from
/// its first three fields and the four bytes <c>EXIT</c>.
/// </remarks>
internal sealed class SeedFrameReader
{
    private const byte Bar = (byte)'|';
    private static readonly byte[] s_exit = Encoding.ASCII.GetBytes(SeedFrame.Exit);

    private readonly int _maxFrameBytes;
    private byte[] _buffer = new byte[1024];
    private int _start;
    private int _end;

    // Where the scan of the current frame stopped and the bars it found, so new bytes are scanned once.
    private readonly int[] _bars = new int[4];
    private int _barCount;
    private int _scanned;

    /// <summary>Skipping a bad or over-long frame: bytes are dropped until the next "||".</summary>
    private bool _skipping;
    private bool _skipSawBar;

    /// <param name="maxFrameBytes">Longest frame accepted, terminator included; longer ones are skipped, never buffered.</param>
    public SeedFrameReader(int maxFrameBytes) => _maxFrameBytes = maxFrameBytes;

    /// <summary>Bytes received and not yet used.</summary>
    public int Buffered => _end - _start;

    /// <summary>Adds bytes from the socket.</summary>
    public void Append(ReadOnlySpan<byte> data)
    {
        if (_end + data.Length > _buffer.Length)
        {
            var live = _end - _start;
            if (live + data.Length > _buffer.Length)
            {
                var grown = new byte[Math.Max(_buffer.Length * 2, live + data.Length)];
                _buffer.AsSpan(_start, live).CopyTo(grown);
                _buffer = grown;
            }
            else
            {
                _buffer.AsSpan(_start, live).CopyTo(_buffer);
            }

            Rebase(_start);
            _end = live;
            _start = 0;
        }

        data.CopyTo(_buffer.AsSpan(_end));
        _end += data.Length;
    }

    /// <summary>
    /// Takes the user name the client sends first. The note's client sends it alone and then frames, which all begin
    /// with <c>name|</c>; when both arrive in one read the bytes before the first '|' are the name twice, so the name
    /// is their first half. Without any '|' the name is everything received once the client has paused
    /// (<paramref name="quiet"/>): it is waiting for its user to type.
    /// </summary>
    /// <returns>The name's bytes decoded, null to wait for more (or for quiet), or throws <see cref="FormatException"/>.</returns>
    public string? TryReadName(bool quiet, int maxNameBytes)
    {
        var live = _buffer.AsSpan(_start, _end - _start);
        var bar = live.IndexOf(Bar);
        if (bar >= 0)
        {
            var token = live[..bar];
            if (token.Length == 0 || token.Length % 2 != 0 || !token[..(token.Length / 2)].SequenceEqual(token[(token.Length / 2)..]))
            {
                throw new FormatException("expected your user name, then frames that begin with it");
            }

            return Take(token.Length / 2, maxNameBytes);
        }

        if (live.Length > 2 * maxNameBytes)
        {
            throw new FormatException($"a user name is at most {maxNameBytes} bytes");
        }

        return quiet && live.Length > 0 ? Take(live.Length, maxNameBytes) : null;
    }

    /// <summary>Takes the next frame if the bytes hold one. Malformed and over-long frames are reported and skipped.</summary>
    public SeedReadStatus TryRead(out SeedFrame? frame, out string? problem)
    {
        frame = null;
        problem = null;
        if (_skipping && !SkipToTerminator())
        {
            return SeedReadStatus.NeedMore;
        }

        while (_scanned < _end)
        {
            var b = _buffer[_scanned];
            if (b == Bar && _scanned > _start && _buffer[_scanned - 1] == Bar)
            {
                // "||" ends the frame: what is before it must be four fields (the first '|' was counted as a bar).
                var fields = _barCount; // bars inside the frame + 1
                if (fields == 2 && BarField(1).SequenceEqual("SEVER"u8))
                {
                    // The goodbye, sender|SEVER||EXIT, has no "||" after it: decide on its four bytes.
                    var rest = _buffer.AsSpan(_scanned + 1, Math.Min(_end - _scanned - 1, s_exit.Length));
                    if (s_exit.AsSpan().StartsWith(rest))
                    {
                        if (rest.Length < s_exit.Length)
                        {
                            return SeedReadStatus.NeedMore; // this byte is examined again with more after it
                        }

                        return Complete(() => new SeedFrame(Field(0), SeedFrame.Server, string.Empty, SeedFrame.Exit, IsExit: true),
                            _scanned + 1 + s_exit.Length, out frame, out problem);
                    }
                }

                if (fields == 4)
                {
                    return Complete(() => new SeedFrame(Field(0), Field(1), Field(2), Field(3)), _scanned + 1, out frame, out problem);
                }

                if (fields == 3)
                {
                    // An empty text makes "timestamp|||": the "||" found is the text's end and one '|' follows.
                    if (_scanned + 1 == _end)
                    {
                        return SeedReadStatus.NeedMore;
                    }

                    if (_buffer[_scanned + 1] == Bar)
                    {
                        return Complete(() => new SeedFrame(Field(0), Field(1), Field(2), string.Empty), _scanned + 2, out frame, out problem);
                    }
                }

                // Only this frame is lost: the next one starts after its "||".
                problem = "expected sender|receiver|timestamp|base64(text)||";
                Consume(_scanned + 1);
                return SeedReadStatus.Malformed;
            }

            if (b == Bar)
            {
                if (_barCount < _bars.Length)
                {
                    _bars[_barCount] = _scanned;
                }

                _barCount++;
            }

            _scanned++;
            if (_scanned - _start > _maxFrameBytes)
            {
                problem = $"a frame is at most {_maxFrameBytes} bytes";
                StartSkipping(_scanned);
                return SeedReadStatus.TooLarge;
            }
        }

        return SeedReadStatus.NeedMore;
    }

    /// <summary>Builds the frame that ends before <paramref name="next"/> and moves past it; fields that are not UTF-8 make it malformed.</summary>
    private SeedReadStatus Complete(Func<SeedFrame> build, int next, out SeedFrame? frame, out string? problem)
    {
        problem = null;
        try
        {
            frame = build();
        }
        catch (FormatException exception)
        {
            frame = null;
            problem = exception.Message;
        }

        Consume(next);
        return frame is null ? SeedReadStatus.Malformed : SeedReadStatus.Frame;
    }

    /// <summary>The bytes left when the client closed: empty, or an unfinished frame.</summary>
    public string Leftover() => Encoding.UTF8.GetString(_buffer, _start, _end - _start);

    private string Take(int length, int maxNameBytes)
    {
        if (length > maxNameBytes)
        {
            throw new FormatException($"a user name is at most {maxNameBytes} bytes");
        }

        var name = Decode(_buffer.AsSpan(_start, length));
        Consume(_start + length);
        return name;
    }

    private ReadOnlySpan<byte> BarField(int index)
    {
        var from = index == 0 ? _start : _bars[index - 1] + 1;
        return _buffer.AsSpan(from, _bars[index] - from);
    }

    private string Field(int index) => Decode(BarField(index));

    private static string Decode(ReadOnlySpan<byte> bytes)
    {
        // Strict: a name or field that is not UTF-8 is refused rather than silently changed.
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException("the bytes are not UTF-8");
        }
    }

    /// <summary>Drops everything before <paramref name="position"/> and starts scanning a new frame there.</summary>
    private void Consume(int position)
    {
        _start = position;
        _scanned = position;
        _barCount = 0;
        if (_start == _end)
        {
            _start = _end = _scanned = 0;
        }
    }

    private void StartSkipping(int position)
    {
        // The byte before position may be the first '|' of the "||" that ends the long frame.
        _skipSawBar = position > _start && _buffer[position - 1] == Bar;
        Consume(position);
        _skipping = true;
    }

    /// <summary>Drops bytes up to and including the next "||". True when found (reading continues after it).</summary>
    private bool SkipToTerminator()
    {
        while (_start < _end)
        {
            var b = _buffer[_start++];
            if (b == Bar && _skipSawBar)
            {
                _skipping = false;
                _skipSawBar = false;
                Consume(_start);
                return true;
            }

            _skipSawBar = b == Bar;
        }

        Consume(_end);
        return false;
    }

    private void Rebase(int offset)
    {
        for (var i = 0; i < Math.Min(_barCount, _bars.Length); i++)
        {
            _bars[i] -= offset;
        }

        _scanned -= offset;
    }
}
