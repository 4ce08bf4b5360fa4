using Parley.Protocol;

namespace Parley.Server.Accounts;

/// <summary>The outcome of a login: the user and device on success, else the error to send.</summary>
internal readonly record struct AuthResult(ErrorCode Error, string User, string Device, string Message)
{
    public bool Succeeded => Error == ErrorCode.None;

    public static AuthResult Ok(string user, string device) => new(ErrorCode.None, user, device, string.Empty);

    public static AuthResult Fail(ErrorCode error, string message) => new(error, string.Empty, string.Empty, message);
}
