namespace Parley.Client;

/// <summary>What a home remembers about its account: the server, the user name and the device id.</summary>
public sealed record DeviceProfile(string Server, string User, string Device);
