using System.Text;

namespace Parley.Cli;

/// <summary>Reads a password: from the first line of stdin with --password-stdin, else from the terminal without echo.</summary>
internal static class PasswordInput
{
    public static string Read(bool fromStdin, bool confirm, string label = "Password: ")
    {
        if (fromStdin)
        {
            var line = Console.In.ReadLine() ?? throw new UserError("--password-stdin: standard input is empty");
            return line.TrimEnd('\r', '\n');
        }

        if (Console.IsInputRedirected)
        {
            throw new UserError("standard input is not a terminal: pass the password with --password-stdin");
        }

        var password = Prompt(label);
        if (confirm && Prompt("Again: ") != password)
        {
            throw new UserError("the passwords differ");
        }

        return password;
    }

    private static string Prompt(string label)
    {
        Console.Error.Write(label);
        var text = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (text.Length > 0)
                {
                    text.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return text.ToString();
    }
}
