namespace Parley.IntegrationTests;

/// <summary>Account set-up through the real CLI.</summary>
public static class Accounts
{
    public const string Password = "correct horse battery";

    public static async Task RegisterAsync(ServerProcess server, string home, string user)
    {
        var result = await Parley.As(home, Password + "\n", "register", "--server", server.AddressFor(home), "--user", user, "--password-stdin", "--accept-new-server-key");
        Assert.True(result.ExitCode == 0, result.ToString());
    }

    public static async Task LoginAsync(ServerProcess server, string home, string user)
    {
        var result = await Parley.As(home, Password + "\n", "login", "--server", server.AddressFor(home), "--user", user, "--password-stdin", "--accept-new-server-key");
        Assert.True(result.ExitCode == 0, result.ToString());
    }
}
