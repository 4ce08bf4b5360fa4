namespace Parley.StoreFloor;

/// <summary>The layouts by name, cheapest first.</summary>
internal static class Shapes
{
    public static readonly string[] Names = ["batch-blob", "row-per-message", "packed-by-owner", "staged-merged", "indexed-direct"];

    public static StoreShape Create(string name, FloorDatabase database, MessageSource source) => name switch
    {
        "batch-blob" => new BatchBlobShape(database, source),
        "row-per-message" => new RowPerMessageShape(database, source),
        "packed-by-owner" => new PackedByOwnerShape(database, source),
        "staged-merged" => new StagedMergedShape(database, source),
        "indexed-direct" => new IndexedDirectShape(database, source),
        _ => throw new ArgumentException($"no layout named {name}", nameof(name)),
    };
}
