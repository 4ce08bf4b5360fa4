namespace Parley.Terminal.Tests;

public sealed class ChatStateTests
{
    private static readonly TimeZoneInfo Utc = TimeZoneInfo.Utc;

    [Fact]
    public void ConversationOpened_RaisedOncePerPeer_SoItsPresenceIsWatchedOnce()
    {
        var state = new ChatState("alice");
        var opened = new List<string>();
        state.ConversationOpened += opened.Add;

        state.Open("bob");
        state.Open("carol");
        state.Open("bob");

        Assert.Equal(["bob", "carol"], opened);
    }

    [Fact]
    public void Receive_InOtherConversation_CountsUnreadAndHighlightsMentions()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        state.Query("bob");

        state.Receive(Frames.Message(1, "carol", "alice", "hi"));
        state.Receive(Frames.Message(2, "carol", "alice", "are you there, Alice?"));
        state.Receive(Frames.Message(3, "bob", "alice", "in view"));

        var carol = state.Find("carol")!;
        Assert.Equal(2, carol.Unread);
        Assert.True(carol.Highlight);
        Assert.Equal(0, state.Find("bob")!.Unread);
        Assert.Equal("3!", state.Activity());
    }

    [Fact]
    public void Switching_ByWindowNextPreviousAndActivity()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        state.Open("bob");
        state.Open("carol");
        state.Open("dave");

        Assert.True(state.SwitchToWindow(2));
        Assert.Equal("bob", state.Current.Name);
        Assert.False(state.SwitchToWindow(9));
        state.Next();
        Assert.Equal("carol", state.Current.Name);
        state.Previous();
        state.Previous();
        Assert.True(state.Current.IsStatus);
        state.Receive(Frames.Message(1, "dave", "alice", "plain"));
        state.Receive(Frames.Message(2, "carol", "alice", "hey alice"));

        Assert.True(state.NextWithActivity()); // the highlight first
        Assert.Equal("carol", state.Current.Name);
        Assert.True(state.NextWithActivity());
        Assert.Equal("dave", state.Current.Name);
        Assert.False(state.NextWithActivity());
        Assert.Equal(string.Empty, state.Activity());
    }

    [Fact]
    public void ReadMarker_StaysWhereTheUserLeft()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        state.Query("bob");
        state.Receive(Frames.Message(1, "bob", "alice", "one"));
        state.SwitchToWindow(1);
        state.Receive(Frames.Message(2, "bob", "alice", "two"));

        var bob = state.Query("bob");

        Assert.Equal(1ul, bob.ReadMarker);
        var lines = ConversationView.Lines(state, bob, Utc).Select(l => (l.Kind, l.Plain)).ToList();
        var marker = lines.FindIndex(l => l.Kind == LineKind.ReadMarker);
        Assert.True(marker > 0);
        Assert.EndsWith("one", lines[marker - 1].Plain, StringComparison.Ordinal);
        Assert.EndsWith("two", lines[marker + 1].Plain, StringComparison.Ordinal);
    }

    [Fact]
    public void CatchUp_MarksOfflineSeparatorBeforeFirstMissedMessage()
    {
        var state = new ChatState("alice", readUpTo: 1) { CatchingUp = false };
        state.AddHistory(state.Conversations[0], [Frames.Message(1, "alice", "bob", "before")], 0);
        state.CatchingUp = true;
        state.Receive(Frames.Message(2, "bob", "alice", "while away 1"));
        state.Receive(Frames.Message(3, "bob", "alice", "while away 2"));
        state.CatchingUp = false;
        state.Receive(Frames.Message(4, "bob", "alice", "live"));

        var plain = ConversationView.Lines(state, state.Query("bob"), Utc).Select(l => l.Plain).ToList();

        var separator = plain.IndexOf("-- 2 messages arrived while you were offline --");
        Assert.True(separator > 0, string.Join('\n', plain));
        Assert.Contains("<alice> before", plain[separator - 1], StringComparison.Ordinal);
        Assert.Contains("unread", plain[separator + 1], StringComparison.Ordinal);
        Assert.EndsWith("while away 1", plain[separator + 2], StringComparison.Ordinal);
    }

    [Fact]
    public void DayChange_LineBetweenDays()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        var bob = state.Query("bob");
        state.Receive(Frames.Message(1, "bob", "alice", "late", new DateTimeOffset(2025, 10, 14, 23, 59, 0, TimeSpan.Zero)));
        state.Receive(Frames.Message(2, "bob", "alice", "early", new DateTimeOffset(2025, 10, 15, 0, 1, 0, TimeSpan.Zero)));

        var plain = ConversationView.Lines(state, bob, Utc).Select(l => l.Plain).ToList();

        Assert.Equal(["-- Tue 14 Oct 2025 --", "23:59 <bob> late", "-- Wed 15 Oct 2025 --", "00:01 <bob> early"], plain);
    }

    [Fact]
    public void SentMessage_GoesSendingThenStored_AndMergesWithItsCopy()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        var bob = state.Query("bob");
        var entry = state.AddPending("bob", "hello", Frames.Noon);
        Assert.Equal("  [sending]", ConversationView.StateSuffix(state, entry));

        state.MarkStored(entry.Id, 5, Frames.Noon);
        Assert.Equal(MessageState.Stored, entry.State);
        Assert.Equal("  [stored, bob offline]", ConversationView.StateSuffix(state, entry));
        state.SetPresence("bob", true);
        Assert.Equal("  [stored]", ConversationView.StateSuffix(state, entry));

        // The copy of our own message in our log does not show twice.
        state.Receive(new Parley.Protocol.Frames.DeliverFrame(5, entry.Id, "alice", "bob", Frames.Noon.ToUnixTimeMilliseconds(), "hello"));
        Assert.Single(bob.Entries);
    }

    [Fact]
    public void Receipt_MarksStoredMessagesUpToItsSequenceDelivered_AndLaterOnesStayStored()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        state.Query("bob");
        state.SetPresence("bob", true);
        var first = state.AddPending("bob", "one", Frames.Noon);
        var second = state.AddPending("bob", "two", Frames.Noon);
        var third = state.AddPending("bob", "three", Frames.Noon);
        state.MarkStored(first.Id, 5, Frames.Noon);
        state.MarkStored(second.Id, 6, Frames.Noon);

        state.MarkDelivered("bob", 6);
        state.MarkStored(third.Id, 9, Frames.Noon);

        Assert.Equal("  [delivered]", ConversationView.StateSuffix(state, first));
        Assert.Equal("  [delivered]", ConversationView.StateSuffix(state, second));
        Assert.Equal("  [stored]", ConversationView.StateSuffix(state, third));
    }

    [Fact]
    public void Receipt_BeforeSendOk_MessageShownDeliveredOnceStored()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        state.Query("bob");
        var entry = state.AddPending("bob", "fast", Frames.Noon);

        state.MarkDelivered("bob", 3);
        Assert.Equal(MessageState.Sending, entry.State);
        state.MarkStored(entry.Id, 3, Frames.Noon);

        Assert.Equal(MessageState.Delivered, entry.State);
    }

    [Fact]
    public void PendingMessages_StayBelowStoredOnes_AndFailuresSayWhy()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        var bob = state.Query("bob");
        var pending = state.AddPending("bob", "first", Frames.Noon);
        state.Receive(Frames.Message(7, "bob", "alice", "meanwhile"));
        Assert.Equal(["meanwhile", "first"], bob.Entries.Select(e => e.Text));

        state.MarkFailed(pending.Id, "unknown user");
        Assert.Equal("  [not sent: unknown user]", ConversationView.StateSuffix(state, pending));
    }

    [Fact]
    public void History_PrependsOlderEntriesWithoutDuplicatesOrUnread()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        state.SwitchToWindow(1);
        state.Receive(Frames.Message(10, "bob", "alice", "ten"));
        var bob = state.Find("bob")!;

        state.AddHistory(bob, [Frames.Message(8, "alice", "bob", "eight"), Frames.Message(9, "bob", "alice", "nine"), Frames.Message(10, "bob", "alice", "ten")], asked: 50);

        Assert.Equal(["eight", "nine", "ten"], bob.Entries.Select(e => e.Text));
        Assert.Equal(1, bob.Unread);
        Assert.True(bob.HistoryExhausted);
        Assert.Equal(8ul, bob.OldestSequence);
    }

    [Fact]
    public void Close_RemovesConversationButNotStatus_AndReopensOnMessage()
    {
        var state = new ChatState("alice") { CatchingUp = false };
        state.Query("bob");

        Assert.True(state.Close());
        Assert.True(state.Current.IsStatus);
        Assert.False(state.Close());
        Assert.Null(state.Find("bob"));

        state.Receive(Frames.Message(1, "bob", "alice", "back"));
        Assert.NotNull(state.Find("bob"));
    }
}
