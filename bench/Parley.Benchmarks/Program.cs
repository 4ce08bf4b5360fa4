using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Parley.Benchmarks;

// The switcher takes BenchmarkDotNet's own arguments (--filter, --list, --job ...); every benchmark class carries
// BenchConfig, so a plain `--filter '*'` already gets the short job and the memory columns.
// Results go next to this project (bin/Release/net10.0 is three levels down), not into whatever directory the
// command was started from, so a run from the repository root leaves nothing outside bench/.
var artifacts = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "BenchmarkDotNet.Artifacts"));
BenchmarkSwitcher.FromAssembly(typeof(BenchConfig).Assembly).Run(args, DefaultConfig.Instance.WithArtifactsPath(artifacts));
