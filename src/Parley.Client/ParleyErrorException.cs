using Parley.Protocol;

namespace Parley.Client;

/// <summary>The server answered with an ERROR frame. <see cref="Code"/> says what went wrong.</summary>
public sealed class ParleyErrorException : Exception
{
    public ParleyErrorException(ErrorCode code, string message) : base(message) => Code = code;

    public ParleyErrorException() : this(ErrorCode.ProtocolError, "error") { }

    public ParleyErrorException(string message) : this(ErrorCode.ProtocolError, message) { }

    public ParleyErrorException(string message, Exception inner) : base(message, inner) => Code = ErrorCode.ProtocolError;

    public ErrorCode Code { get; }
}
