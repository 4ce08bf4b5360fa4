using System.Net;
using Microsoft.Extensions.Logging;
using Parley.Protocol;

namespace Parley.Server;

/// <summary>The server's log events. Ids and names are a contract operators filter on: never renumber.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Listening on {EndPoint}", EventName = "Listening")]
    public static partial void Listening(ILogger logger, EndPoint endPoint);

    [LoggerMessage(2, LogLevel.Information, "Stopping: {Connections} connections open", EventName = "Stopping")]
    public static partial void Stopping(ILogger logger, int connections);

    [LoggerMessage(3, LogLevel.Information, "Stopped", EventName = "Stopped")]
    public static partial void Stopped(ILogger logger);

    [LoggerMessage(10, LogLevel.Debug, "Connection {Id} from {Address}", EventName = "ConnectionOpened")]
    public static partial void ConnectionOpened(ILogger logger, long id, string address);

    [LoggerMessage(11, LogLevel.Debug, "Connection {Id} closed: {Reason}", EventName = "ConnectionClosed")]
    public static partial void ConnectionClosed(ILogger logger, long id, string reason);

    [LoggerMessage(12, LogLevel.Information, "Connection {Id} from {Address} failed TLS: {Reason}", EventName = "TlsFailed")]
    public static partial void TlsFailed(ILogger logger, long id, string address, string reason);

    [LoggerMessage(14, LogLevel.Warning, "Connection from {Address} refused: {Reason}", EventName = "ConnectionRefused")]
    public static partial void ConnectionRefused(ILogger logger, string address, string reason);

    [LoggerMessage(13, LogLevel.Warning, "Connection {Id} broke the protocol ({Code}): {Reason}", EventName = "ProtocolViolation")]
    public static partial void ProtocolViolation(ILogger logger, long id, ErrorCode code, string reason);

    [LoggerMessage(20, LogLevel.Information, "{User} logged in on device {Device} (connection {Id})", EventName = "LoggedIn")]
    public static partial void LoggedIn(ILogger logger, string user, string device, long id);

    [LoggerMessage(21, LogLevel.Information, "Login failed for {User} from {Address}: {Code}", EventName = "LoginFailed")]
    public static partial void LoginFailed(ILogger logger, string user, string address, ErrorCode code);

    [LoggerMessage(22, LogLevel.Information, "Account {User} registered", EventName = "Registered")]
    public static partial void Registered(ILogger logger, string user);

    [LoggerMessage(23, LogLevel.Information, "{User}/{Device} replaced by a newer login", EventName = "SessionReplaced")]
    public static partial void SessionReplaced(ILogger logger, string user, string device);

    [LoggerMessage(30, LogLevel.Warning, "Slow consumer {User}/{Device} disconnected", EventName = "SlowConsumer")]
    public static partial void SlowConsumer(ILogger logger, string user, string device);

    [LoggerMessage(31, LogLevel.Error, "Store write failed", EventName = "StoreFailed")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(32, LogLevel.Error, "Connection {Id} failed unexpectedly", EventName = "ConnectionFailed")]
    public static partial void ConnectionFailed(ILogger logger, long id, Exception exception);

    [LoggerMessage(50, LogLevel.Information, "Seed-compat listener (the note's old client, guests) on {EndPoint}", EventName = "SeedCompatListening")]
    public static partial void SeedCompatListening(ILogger logger, EndPoint endPoint);

    [LoggerMessage(51, LogLevel.Information, "Guest {User} connected from {Address}", EventName = "GuestJoined")]
    public static partial void GuestJoined(ILogger logger, string user, string address);

    [LoggerMessage(52, LogLevel.Information, "Guest connection from {Address} refused: {Reason}", EventName = "GuestRefused")]
    public static partial void GuestRefused(ILogger logger, string address, string reason);

    [LoggerMessage(53, LogLevel.Information, "Guest {User} left: {Reason}", EventName = "GuestLeft")]
    public static partial void GuestLeft(ILogger logger, string user, string reason);

    [LoggerMessage(54, LogLevel.Information, "Guest {User}: {Problem}", EventName = "GuestFrameRefused")]
    public static partial void GuestFrameRefused(ILogger logger, string user, string problem);

    [LoggerMessage(55, LogLevel.Error, "Guest connection {User} failed unexpectedly", EventName = "GuestFailed")]
    public static partial void GuestFailed(ILogger logger, string user, Exception exception);

    [LoggerMessage(40, LogLevel.Information,
        "Load: {Connections} connections open ({Accepted} accepted since start), {Sessions} sessions, {DirectoryEntries} directory entries, {Stored} messages stored",
        EventName = "Load")]
    public static partial void Load(ILogger logger, long connections, long accepted, long sessions, long directoryEntries, long stored);

    [LoggerMessage(41, LogLevel.Information, "Directory: {User}/{Device} registered at {Endpoint}", EventName = "DirectoryRegistered")]
    public static partial void DirectoryRegistered(ILogger logger, string user, string device, string endpoint);

    [LoggerMessage(42, LogLevel.Information, "Directory: {User}/{Device} forgotten after {Missed} missed heartbeats", EventName = "DirectoryExpired")]
    public static partial void DirectoryExpired(ILogger logger, string user, string device, int missed);

    [LoggerMessage(43, LogLevel.Warning, "Directory: {User} tried to register {Target}/{Device}", EventName = "DirectoryRefused")]
    public static partial void DirectoryRefused(ILogger logger, string user, string target, string device);

    [LoggerMessage(44, LogLevel.Warning, "Directory: sweep failed; the next interval tries again", EventName = "DirectorySweepFailed")]
    public static partial void DirectorySweepFailed(ILogger logger, Exception exception);

    [LoggerMessage(60, LogLevel.Debug, "Idle: gave back the memory of {GarbageMiB} MiB allocated since the last collection in {Milliseconds} ms; the heap is {HeapMiB} MiB", EventName = "IdleMemoryReleased")]
    public static partial void IdleMemoryReleased(ILogger logger, long garbageMiB, long milliseconds, long heapMiB);

    [LoggerMessage(900, LogLevel.Error, "File {FileId}: {Operation} failed in the file storage", EventName = "FileStorageFailed")]
    public static partial void FileStorageFailed(ILogger logger, Parley.Protocol.MessageId fileId, string operation, Exception exception);
}
