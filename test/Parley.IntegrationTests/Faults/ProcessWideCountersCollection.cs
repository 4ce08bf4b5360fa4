namespace Parley.IntegrationTests.Faults;

/// <summary>Tests that read process-wide counters (such as <see cref="Timer.ActiveCount"/>) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideCountersCollection
{
    public const string Name = "process-wide counters";
}
