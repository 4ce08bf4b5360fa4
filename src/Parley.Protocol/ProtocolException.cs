using System.Diagnostics.CodeAnalysis;

namespace Parley.Protocol;

/// <summary>
/// The only exception the decoders throw: the input broke the protocol. It carries the <see cref="ErrorCode"/> that
/// the receiving side sends back in an ERROR frame before it closes the connection.
/// </summary>
public sealed class ProtocolException : Exception
{
    public ProtocolException(ErrorCode code, string message) : base(message) => Code = code;

    public ProtocolException() : this(ErrorCode.ProtocolError, "protocol error") { }

    public ProtocolException(string message) : this(ErrorCode.ProtocolError, message) { }

    public ProtocolException(string message, Exception inner) : base(message, inner) => Code = ErrorCode.ProtocolError;

    /// <summary>What went wrong, as sent on the wire.</summary>
    public ErrorCode Code { get; }

    [DoesNotReturn]
    public static void Throw(ErrorCode code, string message) => throw new ProtocolException(code, message);
}
