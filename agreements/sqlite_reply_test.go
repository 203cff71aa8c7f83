package agreements_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// queuedSince returns the mails queued to each address after outbox id
// after.
func queuedSince(t *testing.T, db *agreements.DB, after int64) map[string][]agreements.MailKind {
	t.Helper()
	out := map[string][]agreements.MailKind{}
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.ID > after {
			out[m.To] = append(out[m.To], m.Kind)
		}
	}
	return out
}

func lastOutboxID(t *testing.T, db *agreements.DB) int64 {
	t.Helper()
	var id int64
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		id = max(id, m.ID)
	}
	return id
}

// TestInbound_WriterAlone: what the service could not understand goes back
// to its writer alone; a thank-you is kept without an answer; words on a
// pending agreement still reach the other party as a comment.
func TestInbound_WriterAlone(t *testing.T) {
	c := newInboundCase(t)
	alice, bob := c.a.Terms.Parties[0].Address, c.a.Terms.Parties[1].Address
	confirmTok := c.tokenOf(t, 0, agreements.MailConfirmRequest)

	// Pending: a comment is for Bob.
	before := lastOutboxID(t, c.db)
	if out := c.record(t, c.reply(alice, confirmTok, "Can we make it 17:30 instead?")); out.Outcome != "comment" {
		t.Fatalf("a question on a pending agreement = %s, want comment", out.Outcome)
	}
	if q := queuedSince(t, c.db, before); len(q[bob]) != 1 || q[bob][0] != agreements.MailComment {
		t.Fatalf("queued %v, want a comment to Bob", q)
	}

	// Active: the same kind of words are answered to Alice alone.
	c.record(t, c.reply(alice, confirmTok, "I agree"))
	c.record(t, c.reply(bob, c.tokenOf(t, 1, agreements.MailConfirmRequest), "I agree"))
	if got := c.status(t); got != agreements.StatusActive {
		t.Fatalf("status %s, want active", got)
	}
	cmdTok := c.tokenOf(t, 0, agreements.MailConfirmed)
	for _, tt := range []struct {
		name, token, text, outcome string
		toAlice                    []agreements.MailKind
	}{
		{"OnConfirmRequest", confirmTok, "Is the check-in on Sunday evening?", "not-understood", []agreements.MailKind{agreements.MailNotUnderstood}},
		{"OnConfirmed", cmdTok, "What happens now?", "not-understood", []agreements.MailKind{agreements.MailNotUnderstood}},
		{"Thanks", cmdTok, "Thanks!", "kept", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := lastOutboxID(t, c.db)
			if out := c.record(t, c.reply(alice, tt.token, tt.text)); out.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s", out.Outcome, tt.outcome)
			}
			q := queuedSince(t, c.db, before)
			if len(q[bob]) != 0 {
				t.Fatalf("Bob got %v", q[bob])
			}
			if !slices.Equal(q[alice], tt.toAlice) {
				t.Fatalf("Alice got %v, want %v", q[alice], tt.toAlice)
			}
		})
	}
}

// TestInbound_LoopBreaker: the same text from a party in answer to the same
// mail is handled once a day; past AnswersPerDay answered replies a day, a
// party's replies get no answer and words for nobody are dropped; the day
// after, replies are answered again.
func TestInbound_LoopBreaker(t *testing.T) {
	c := newInboundCase(t)
	now := Now
	c.db.Now = func() time.Time { return now }
	alice, bob := c.a.Terms.Parties[0].Address, c.a.Terms.Parties[1].Address
	tok := c.tokenOf(t, 0, agreements.MailConfirmRequest)
	const ooo = "I am out of the office until Monday 7 December."

	before := lastOutboxID(t, c.db)
	if out := c.record(t, c.reply(alice, tok, ooo)); out.Outcome != "comment" {
		t.Fatalf("first auto-reply = %s, want comment (no detector caught it)", out.Outcome)
	}
	// The same words again, a counter or a date changed: once is enough.
	for i, text := range []string{ooo, "I am out of the office until Monday 14 December."} {
		if out := c.record(t, c.reply(alice, tok, text)); out.Outcome != "repeat" {
			t.Fatalf("repeat %d = %s, want repeat", i, out.Outcome)
		}
	}
	if q := queuedSince(t, c.db, before); len(q[bob]) != 1 {
		t.Fatalf("Bob got %v, want the one comment", q[bob])
	}

	// Different words each time: three answered replies a day.
	before = lastOutboxID(t, c.db)
	outcomes := []string{}
	for _, text := range []string{"Away, back soon.", "Currently travelling.", "On leave this week.", "Out sick today."} {
		outcomes = append(outcomes, c.record(t, c.reply(alice, tok, text)).Outcome)
	}
	if strings.Join(outcomes, ",") != "comment,comment,over-limit,over-limit" {
		t.Fatalf("outcomes %v, want two more comments (three with the first), then nothing", outcomes)
	}
	if q := queuedSince(t, c.db, before); len(q[bob]) != 2 {
		t.Fatalf("Bob got %v, want 2 more comments", q[bob])
	}
	// A confirmation still counts, and is still answered.
	before = lastOutboxID(t, c.db)
	if out := c.record(t, c.reply(alice, tok, "I agree")); out.Outcome != "confirmed" {
		t.Fatalf("agree over the limit = %s, want confirmed", out.Outcome)
	}
	if q := queuedSince(t, c.db, before); len(q[alice]) != 1 || q[alice][0] != agreements.MailReceipt {
		t.Fatalf("Alice got %v, want her receipt", q[alice])
	}

	// A day later the count starts again.
	now = now.Add(25 * time.Hour)
	if out := c.record(t, c.reply(bob, c.tokenOf(t, 1, agreements.MailConfirmRequest), ooo)); out.Outcome != "comment" {
		t.Fatalf("Bob's first reply = %s, want comment", out.Outcome)
	}
}
