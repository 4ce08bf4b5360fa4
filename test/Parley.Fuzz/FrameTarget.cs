using System.Buffers;
using Parley.Protocol;
using Parley.Protocol.Frames;

namespace Parley.Fuzz;

/// <summary>
/// The <c>frames</c> target: feeds one fuzzer input to <see cref="FrameCodec.TryRead"/> the way the receive loops do
/// (server before and after login, client), decoding until it returns false or throws. The decoder contract
/// (security.md 7) is that only <see cref="ProtocolException"/> escapes; anything else escaping this method is a
/// finding. test/Parley.Protocol.Tests/FuzzCorpusReplayTests.cs replays the corpus through the same paths.
/// </summary>
/// <remarks>
/// Input layout: the whole input is decoded as one contiguous segment. For the split variant the first byte is a
/// control byte and the rest is the data: the data is cut into two segments at <c>input[0] % (data.Length + 1)</c>,
/// decoded once as a two-segment sequence and once as two successive network reads (a pipe's view), so segment
/// boundaries inside the length prefix, at the type byte and inside fields are fuzzed too.
/// </remarks>
internal static class FrameTarget
{
    private static readonly ProtocolLimits ClientLimits = ProtocolLimits.Default;

    // The server decodes text up to the frame limit and answers TextTooLong itself (ClientConnection).
    private static readonly ProtocolLimits ServerLimits = ProtocolLimits.Default with { MaxTextBytes = ProtocolLimits.Default.MaxFrameLength };

    private static readonly (int MaxFrameLength, ProtocolLimits Limits)[] Loops =
    [
        (ServerLimits.MaxPreAuthFrameLength, ServerLimits), // server, before AUTH_OK: 4 KiB
        (ServerLimits.MaxFrameLength, ServerLimits),        // server, after AUTH_OK: 1 MiB
        (ClientLimits.MaxFrameLength, ClientLimits),        // client
    ];

    public static void Run(byte[] input)
    {
        foreach (var (max, limits) in Loops)
        {
            DecodeAll(new ReadOnlySequence<byte>(input), max, limits);
        }

        if (input.Length == 0)
        {
            return;
        }

        var data = input.AsMemory(1);
        var cut = input[0] % (data.Length + 1);
        var first = data[..cut];
        var second = data[cut..];
        foreach (var (max, limits) in Loops)
        {
            DecodeAll(Segments.From(first, second), max, limits);
            DecodeReads(first, second, max, limits);
        }
    }

    /// <summary>One read holding everything: decode until TryRead returns false or throws ProtocolException.</summary>
    private static void DecodeAll(ReadOnlySequence<byte> buffer, int maxFrameLength, ProtocolLimits limits)
    {
        try
        {
            while (DecodeOne(ref buffer, maxFrameLength, limits))
            {
            }
        }
        catch (ProtocolException)
        {
            // The contract: the connection would answer with ERROR and close.
        }
    }

    /// <summary>Two successive reads, keeping unconsumed bytes as separate segments like a PipeReader.</summary>
    private static void DecodeReads(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, int maxFrameLength, ProtocolLimits limits)
    {
        try
        {
            var buffer = Segments.From(first);
            while (DecodeOne(ref buffer, maxFrameLength, limits))
            {
            }

            var pending = new List<ReadOnlyMemory<byte>>();
            foreach (var segment in buffer)
            {
                pending.Add(segment);
            }

            pending.Add(second);
            buffer = Segments.From([.. pending]);
            while (DecodeOne(ref buffer, maxFrameLength, limits))
            {
            }
        }
        catch (ProtocolException)
        {
        }
    }

    /// <summary>One TryRead call plus the checks a receive loop relies on; throws InvalidOperationException on a broken invariant.</summary>
    private static bool DecodeOne(ref ReadOnlySequence<byte> buffer, int maxFrameLength, ProtocolLimits limits)
    {
        var before = buffer;
        if (!FrameCodec.TryRead(ref buffer, maxFrameLength, limits, out var frame))
        {
            if (buffer.Length != before.Length || !buffer.Start.Equals(before.Start))
            {
                throw new InvalidOperationException("TryRead returned false but consumed bytes");
            }

            return false;
        }

        if (frame is null)
        {
            throw new InvalidOperationException("TryRead returned true without a frame");
        }

        var consumed = before.Length - buffer.Length;
        if (consumed < FrameCodec.LengthPrefixSize + 1 || consumed > FrameCodec.LengthPrefixSize + maxFrameLength)
        {
            throw new InvalidOperationException($"TryRead consumed {consumed} bytes for one frame");
        }

        // Decoding is exact: the frame encodes back to the very bytes it was read from.
        var original = before.Slice(0, consumed).ToArray();
        if (!FrameCodec.Encode(frame).AsSpan().SequenceEqual(original))
        {
            throw new InvalidOperationException($"{frame.Type} does not re-encode to the bytes it was decoded from");
        }

        UseAsServer(frame);
        return true;
    }

    /// <summary>What a receiver does next with decoded names and ids; none of it may throw on decoded input.</summary>
    private static void UseAsServer(Frame frame)
    {
        switch (frame)
        {
            case CredentialsFrame credentials:
                Names.TryNormalizeUser(credentials.User, out _);
                Names.IsValidDevice(credentials.Device);
                break;
            case ResumeFrame resume:
                Names.TryNormalizeUser(resume.User, out _);
                Names.IsValidDevice(resume.Device);
                break;
            case SendFrame send:
                Names.TryNormalizeUser(send.To, out _);
                _ = send.Id.ToString();
                break;
            case DeliverFrame deliver:
                Names.TryNormalizeUser(deliver.From, out _);
                Names.TryNormalizeUser(deliver.To, out _);
                break;
            case AuthOkFrame authOk:
                Names.TryNormalizeUser(authOk.User, out _);
                Names.IsValidDevice(authOk.Device);
                break;
            case PresenceFrame presence:
                Names.TryNormalizeUser(presence.User, out _);
                break;
            case WatchFrame watch:
                foreach (var user in watch.Users)
                {
                    Names.TryNormalizeRecipient(user, out _);
                }

                break;
            case HistoryFrame history when history.Peer.Length != 0:
                Names.TryNormalizeUser(history.Peer, out _);
                break;
            case UploadStartFrame upload:
                Names.TryNormalizeUser(upload.To, out _);
                break;
            case FileInfoFrame info:
                Names.TryNormalizeUser(info.From, out _);
                Names.TryNormalizeUser(info.To, out _);
                break;
            case DeliverFileFrame deliverFile:
                Names.TryNormalizeUser(deliverFile.From, out _);
                Names.TryNormalizeUser(deliverFile.To, out _);
                _ = deliverFile.AsMessage();
                break;
            case WhoListFrame whoList:
                foreach (var user in whoList.Users)
                {
                    Names.TryNormalizeUser(user.User, out _);
                }

                break;
        }

        _ = frame.ToString();
        _ = frame.IsPreAuth;
    }
}
