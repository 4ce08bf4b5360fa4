using System.Net.Sockets;
using System.Security.Authentication;
using Parley.Client;
using Parley.Protocol;

namespace Parley.Cli;

/// <summary>
/// Turns every failure a user can meet into one line on stderr and an exit code; a stack trace only with
/// PARLEY_DEBUG=1. Exit codes: 1 refused or failed, 3 server unreachable, 4 server identity not verified, 130 interrupted.
/// </summary>
internal static class ErrorReporter
{
    public static async Task<int> RunAsync(Func<Task<int>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            var (code, message) = Describe(exception);
            await Console.Error.WriteLineAsync($"parley: {message}").ConfigureAwait(false);
            if (Environment.GetEnvironmentVariable("PARLEY_DEBUG") == "1")
            {
                await Console.Error.WriteLineAsync(exception.ToString()).ConfigureAwait(false);
            }

            return code;
        }
    }

    private static (int Code, string Message) Describe(Exception exception) => exception switch
    {
        UserError error => (1, error.Message),
        ServerIdentityException identity => (4, identity.Message),
        NotLoggedInException notLoggedIn => (1, notLoggedIn.Message),
        ParleyErrorException error => (1, $"{Name(error.Code)}: {error.Message}"),
        ProtocolException protocol => (1, $"protocol error from the server ({protocol.Code}): {protocol.Message}"),
        SocketException socket => (3, $"cannot reach the server: {socket.Message}"),
        AuthenticationException tls => (4, $"TLS failed: {tls.Message}"),
        IOException { InnerException: ParleyErrorException inner } => (1, $"{Name(inner.Code)}: {inner.Message}"),
        IOException io => (3, $"connection failed: {io.Message}"),
        OperationCanceledException => (130, "interrupted"),
        FormatException format => (1, format.Message),
        InvalidOperationException invalid => (1, invalid.Message),
        UnauthorizedAccessException access => (1, access.Message),
        _ => (1, $"unexpected error: {exception.Message}"),
    };

    private static string Name(ErrorCode code) => code switch
    {
        ErrorCode.AuthFailed => "login failed",
        ErrorCode.Throttled => "throttled",
        ErrorCode.UnknownUser => "unknown user",
        ErrorCode.UserExists => "name taken",
        ErrorCode.BadId => "bad name",
        _ => code.ToString(),
    };
}
