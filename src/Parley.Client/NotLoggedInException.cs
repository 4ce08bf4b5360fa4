namespace Parley.Client;

/// <summary>The home has no account or no valid token: the user must run `parley login` (or `register`).</summary>
public sealed class NotLoggedInException : Exception
{
    public NotLoggedInException() : base("not logged in: run `parley login --server HOST:PORT --user NAME` first") { }

    public NotLoggedInException(string message) : base(message) { }

    public NotLoggedInException(string message, Exception inner) : base(message, inner) { }
}
