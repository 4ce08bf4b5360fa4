namespace Parley.Server.Tests.Infrastructure;

/// <summary>Tests that measure the whole process (allocations) run alone, after every parallel test.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}
