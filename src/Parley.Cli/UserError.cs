namespace Parley.Cli;

/// <summary>A mistake or condition the user can fix; printed as one line, exit code 1.</summary>
internal sealed class UserError : Exception
{
    public UserError() { }

    public UserError(string message) : base(message) { }

    public UserError(string message, Exception inner) : base(message, inner) { }
}
