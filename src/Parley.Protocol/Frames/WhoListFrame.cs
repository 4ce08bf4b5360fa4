namespace Parley.Protocol.Frames;

/// <summary>WHO_LIST (0x93), server to client: the users online now, each with how many devices.</summary>
public sealed record WhoListFrame(IReadOnlyList<OnlineUser> Users) : Frame
{
    public override FrameType Type => FrameType.WhoList;

    public override int PayloadLength()
    {
        var size = 2;
        foreach (var user in Users)
        {
            size += PayloadSize.String(user.User) + 2;
        }

        return size;
    }

    public override void WritePayload(ref PayloadWriter writer)
    {
        writer.WriteU16(checked((ushort)Users.Count));
        foreach (var user in Users)
        {
            writer.WriteString(user.User);
            writer.WriteU16(user.Devices);
        }
    }

    internal static WhoListFrame Read(ref PayloadReader reader)
    {
        int count = reader.ReadU16();
        var users = new List<OnlineUser>(Math.Min(count, reader.Remaining / 3));
        for (var i = 0; i < count; i++)
        {
            users.Add(new OnlineUser(reader.ReadString(256), reader.ReadU16()));
        }

        return new WhoListFrame(users);
    }

    public bool Equals(WhoListFrame? other) => other is not null && Users.SequenceEqual(other.Users);

    public override int GetHashCode() => Users.Count;
}
