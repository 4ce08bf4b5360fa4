namespace Parley.Protocol;

/// <summary>The type byte of a frame. Client-to-server types are below 0x80, server-to-client types at or above it.</summary>
public enum FrameType : byte
{
    Hello = 0x01,
    Register = 0x02,
    Login = 0x03,
    Resume = 0x04,
    Logout = 0x05,
    Send = 0x10,
    Ack = 0x11,
    Sync = 0x12,
    Who = 0x13,
    Ping = 0x14,
    Pong = 0x15,
    History = 0x16,
    ChangePassword = 0x17,
    UploadStart = 0x20,
    UploadChunk = 0x21,
    Download = 0x22,

    Welcome = 0x81,
    AuthOk = 0x82,
    SendOk = 0x90,
    Deliver = 0x91,
    Synced = 0x92,
    WhoList = 0x93,
    Presence = 0x94,
    HistoryPage = 0x95,
    Receipt = 0x96,
    UploadReady = 0xA0,
    UploadDone = 0xA1,
    FileInfo = 0xA2,
    FileChunk = 0xA3,
    FileEnd = 0xA4,
    DeliverFile = 0xA5,
    Error = 0xE0,
}
