using System.Text.Json.Serialization;

namespace Parley.Storage.Nats.Internal;

/// <summary>Source-generated JSON for every body Parley keeps in NATS: no reflection, one options instance.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EntryBody))]
[JsonSerializable(typeof(SubmitRecord))]
[JsonSerializable(typeof(TokenBody))]
[JsonSerializable(typeof(ReceiptBody))]
[JsonSerializable(typeof(LiveBody))]
[JsonSerializable(typeof(PresenceBody))]
[JsonSerializable(typeof(CloseBody))]
[JsonSerializable(typeof(DirectoryBody))]
[JsonSerializable(typeof(BlobRecord))]
[JsonSerializable(typeof(Dictionary<string, QuotaEntry>))]
[JsonSerializable(typeof(Dictionary<string, ulong>))]
[JsonSerializable(typeof(Dictionary<string, object>))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(long))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(bool))]
internal sealed partial class JsonContext : JsonSerializerContext;
