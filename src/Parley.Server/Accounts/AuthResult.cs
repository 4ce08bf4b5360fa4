using Parley.Protocol;
using Parley.Storage;

namespace Parley.Server.Accounts;

/// <summary>
/// The outcome of a login: the user and device on success, else the error to send. <see cref="Token"/> is the device's
/// next resume token when the login already stored it (a resume exchanges tokens in one write), else null; then
/// <see cref="Spent"/> is the token the resume presented and used up.
/// </summary>
internal readonly record struct AuthResult(ErrorCode Error, string User, string Device, string Message, byte[]? Token = null,
    ResumeTokenRecord? Spent = null)
{
    public bool Succeeded => Error == ErrorCode.None;

    public static AuthResult Ok(string user, string device, byte[]? token = null, ResumeTokenRecord? spent = null) =>
        new(ErrorCode.None, user, device, string.Empty, token, spent);

    public static AuthResult Fail(ErrorCode error, string message) => new(error, string.Empty, string.Empty, message);
}
