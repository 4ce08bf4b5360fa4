namespace Parley.Protocol.Frames;

/// <summary>
/// WATCH (0x18), client to server, logged in only: start (<see cref="Add"/>) or stop following the presence of
/// <see cref="Users"/>. The server pushes PRESENCE only for users a session watches, and answers an add with one
/// PRESENCE per added user giving their state now. Presence is opt-in per session, like IRC's MONITOR, so a login
/// costs the server work proportional to the users who follow that user, not to everyone online.
/// </summary>
public sealed record WatchFrame(bool Add, IReadOnlyList<string> Users) : Frame
{
    /// <summary>Most users in one WATCH frame; a client with more sends several.</summary>
    public const int MaxUsers = 256;

    public override FrameType Type => FrameType.Watch;

    public override int PayloadLength()
    {
        var size = 1 + 2;
        foreach (var user in Users)
        {
            size += PayloadSize.String(user);
        }

        return size;
    }

    public override void WritePayload(ref PayloadWriter writer)
    {
        if (Users.Count > MaxUsers)
        {
            throw new ArgumentException($"at most {MaxUsers} users per WATCH frame", nameof(Users));
        }

        writer.WriteU8(Add ? (byte)1 : (byte)0);
        writer.WriteU16((ushort)Users.Count);
        foreach (var user in Users)
        {
            writer.WriteString(user);
        }
    }

    internal static WatchFrame Read(ref PayloadReader reader)
    {
        var add = reader.ReadU8() switch
        {
            0 => false,
            1 => true,
            _ => throw new ProtocolException(ErrorCode.Malformed, "watch flag must be 0 or 1"),
        };
        int count = reader.ReadU16();
        if (count > MaxUsers)
        {
            throw new ProtocolException(ErrorCode.Malformed, $"WATCH lists {count} users; at most {MaxUsers} per frame");
        }

        var users = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            users.Add(reader.ReadString(256));
        }

        return new WatchFrame(add, users);
    }

    public bool Equals(WatchFrame? other) => other is not null && Add == other.Add && Users.SequenceEqual(other.Users);

    public override int GetHashCode() => HashCode.Combine(Add, Users.Count);
}
