package agreements_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// replyTo returns an Inbound from party i of a, replying to the mail m
// (the party's newest mail of that kind when m is nil), saying text read
// as kind.
type inboundCase struct {
	db *agreements.DB
	a  *agreements.Agreement
	n  int
}

func newInboundCase(t *testing.T) *inboundCase {
	db := MustOpenDB(t)
	db.ServiceAddress = "service@example.test"
	return &inboundCase{db: db, a: mustCreate(t, db)}
}

// tokenOf returns the reply token of the newest mail of kind to party i.
func (c *inboundCase) tokenOf(t *testing.T, i int, kind agreements.MailKind) string {
	t.Helper()
	ms, err := c.db.FindOutbox(context.Background(), agreements.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	tok := ""
	for _, m := range ms {
		if m.Kind == kind && m.To == c.a.Terms.Parties[i].Address {
			tok = m.ReplyToken
		}
	}
	if tok == "" {
		t.Fatalf("no %s mail to party %d", kind, i)
	}
	return tok
}

func (c *inboundCase) reply(from, token, text string) agreements.Inbound {
	c.n++
	return agreements.Inbound{
		Key: fmt.Sprintf("<r%d@example.test>", c.n), MessageID: fmt.Sprintf("<r%d@example.test>", c.n),
		Mailbox: "INBOX", UIDValidity: 1, UID: uint32(c.n),
		From: from, Tokens: []string{token}, Body: text, AuthResult: "dkim=pass", AuthPass: true,
	}
}

func (c *inboundCase) record(t *testing.T, in agreements.Inbound) agreements.InboundOutcome {
	t.Helper()
	out, err := c.db.RecordInbound(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (c *inboundCase) status(t *testing.T) agreements.Status {
	t.Helper()
	a, err := c.db.FindAgreementByID(context.Background(), c.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a.Status
}

func (c *inboundCase) mailKinds(t *testing.T) map[agreements.MailKind]int {
	return kinds(outbox(t, c.db, agreements.OutboxFilter{}))
}

func TestRecordInbound_ConfirmFlow(t *testing.T) {
	c := newInboundCase(t)
	aliceTok, bobTok := c.tokenOf(t, 0, agreements.MailConfirmRequest), c.tokenOf(t, 1, agreements.MailConfirmRequest)

	in := c.reply("Alice@Example.test", aliceTok, "I agree")
	out := c.record(t, in)
	if out.Outcome != "confirmed" || out.Folder != agreements.FolderProcessed || out.AgreementID != c.a.ID {
		t.Fatalf("outcome = %+v", out)
	}
	// The same message again changes nothing and sends nothing.
	before := len(outbox(t, c.db, agreements.OutboxFilter{}))
	again := in
	again.UIDValidity, again.UID = 2, 99
	if out := c.record(t, again); !out.Duplicate || out.Folder != agreements.FolderProcessed {
		t.Fatalf("second time = %+v", out)
	}
	if after := len(outbox(t, c.db, agreements.OutboxFilter{})); after != before {
		t.Fatalf("outbox grew from %d to %d on a duplicate", before, after)
	}
	if c.status(t) != agreements.StatusPending {
		t.Fatal("active after one confirmation")
	}
	if out := c.record(t, c.reply("bob@example.test", bobTok, "Agreed")); out.Outcome != "confirmed" {
		t.Fatalf("bob = %+v", out)
	}
	if c.status(t) != agreements.StatusActive {
		t.Fatal("not active after both confirmed")
	}
	n := c.mailKinds(t)
	// Alice's receipt; then to each the confirmed copy, which is also
	// the answer to Bob's reply: one mail each, not two.
	if n[agreements.MailReceipt] != 1 || n[agreements.MailConfirmed] != 2 {
		t.Fatalf("outbox = %v", n)
	}
	cs, _ := c.db.FindConfirmations(context.Background(), c.a.ID)
	if len(cs) != 2 || cs[0].MessageID != "<r1@example.test>" || cs[0].AuthResult != "dkim=pass" {
		t.Fatalf("confirmations = %+v", cs)
	}
	// Confirming again (a new message) changes nothing.
	if out := c.record(t, c.reply("bob@example.test", bobTok, "I agree")); out.Outcome != "refused" {
		t.Fatalf("third confirmation = %+v", out)
	}
	h, err := c.db.FindHandled(context.Background(), "INBOX", 1, 1)
	if err != nil || h.Folder != agreements.FolderProcessed || h.Key != "<r1@example.test>" {
		t.Fatalf("FindHandled = %+v, %v", h, err)
	}
	if err := c.db.VerifyEvents(context.Background(), c.a.ID); err != nil {
		t.Fatal(err)
	}
}

func TestRecordInbound_NeverConfirms(t *testing.T) {
	for _, tt := range []struct {
		name    string
		mutate  func(c *inboundCase, in *agreements.Inbound, alice, bob string)
		folder  agreements.Folder
		outcome string
	}{
		{"WrongAddress", func(c *inboundCase, in *agreements.Inbound, alice, bob string) { in.From = "mallory@evil.test" }, agreements.FolderRejected, "rejected-sender"},
		{"OtherPartysToken", func(c *inboundCase, in *agreements.Inbound, alice, bob string) { in.Tokens = []string{bob} }, agreements.FolderRejected, "rejected-sender"},
		{"MadeUpToken", func(c *inboundCase, in *agreements.Inbound, alice, bob string) {
			in.Tokens = []string{"aaaaaaaaaaaaaaaaaaaaaaaa"}
		}, agreements.FolderUnmatched, "unmatched-asked"},
		{"NoToken", func(c *inboundCase, in *agreements.Inbound, alice, bob string) { in.Tokens = nil }, agreements.FolderUnmatched, "unmatched-asked"},
		{"NoTokenStranger", func(c *inboundCase, in *agreements.Inbound, alice, bob string) {
			in.Tokens, in.From = nil, "carol@example.test"
		}, agreements.FolderUnmatched, "unmatched"},
		{"EmptyFrom", func(c *inboundCase, in *agreements.Inbound, alice, bob string) { in.From = "" }, agreements.FolderRejected, "rejected-sender"},
		{"AutoReply", func(c *inboundCase, in *agreements.Inbound, alice, bob string) {
			in.Auto, in.AutoReason = "auto-reply", "Auto-Submitted"
		}, agreements.FolderProcessed, "auto-reply"},
		{"FromSelf", func(c *inboundCase, in *agreements.Inbound, alice, bob string) { in.From = "service+x@example.test" }, agreements.FolderProcessed, "from-self"},
		{"Qualified", func(c *inboundCase, in *agreements.Inbound, alice, bob string) {
			in.Body = "I agree except point 2"
		}, agreements.FolderProcessed, "comment"},
		{"Unsure", func(c *inboundCase, in *agreements.Inbound, alice, bob string) {
			in.Body = "yes but"
		}, agreements.FolderProcessed, "unsure"},
		{"UnsureComment", func(c *inboundCase, in *agreements.Inbound, alice, bob string) {
			in.Body = "yes, I agree except point 2"
		}, agreements.FolderProcessed, "comment"},
		{"AuthRequired", func(c *inboundCase, in *agreements.Inbound, alice, bob string) {
			c.db.RequireAuth = true
			in.AuthPass, in.AuthResult = false, "dkim=fail"
		}, agreements.FolderRejected, "rejected-auth"},
		{"Unreadable", func(c *inboundCase, in *agreements.Inbound, alice, bob string) {
			in.Unreadable = "the message is too large"
		}, agreements.FolderRejected, "unreadable"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newInboundCase(t)
			alice, bob := c.tokenOf(t, 0, agreements.MailConfirmRequest), c.tokenOf(t, 1, agreements.MailConfirmRequest)
			in := c.reply("alice@example.test", alice, "I agree")
			tt.mutate(c, &in, alice, bob)
			out := c.record(t, in)
			if out.Folder != tt.folder || out.Outcome != tt.outcome {
				t.Fatalf("outcome = %+v, want %s in %s", out, tt.outcome, tt.folder)
			}
			cs, _ := c.db.FindConfirmations(context.Background(), c.a.ID)
			if len(cs) != 0 {
				t.Fatalf("%d confirmations, want 0", len(cs))
			}
		})
	}

	t.Run("SpoofNoticeOnceADay", func(t *testing.T) {
		c := newInboundCase(t)
		alice := c.tokenOf(t, 0, agreements.MailConfirmRequest)
		for range 3 {
			c.record(t, c.reply("mallory@evil.test", alice, "I agree"))
		}
		if n := c.mailKinds(t)[agreements.MailSpoofNotice]; n != 1 {
			t.Fatalf("spoof notices = %d, want 1", n)
		}
		later := Now.Add(25 * time.Hour)
		c.db.Now = func() time.Time { return later }
		c.record(t, c.reply("mallory@evil.test", alice, "I agree"))
		if n := c.mailKinds(t)[agreements.MailSpoofNotice]; n != 2 {
			t.Fatalf("spoof notices a day later = %d, want 2", n)
		}
	})

	// A party whose message answers none of our mails is asked, once a
	// day, to answer one itself; a party of two live agreements is not
	// (which one would it be?).
	t.Run("NoThreadOnceADay", func(t *testing.T) {
		c := newInboundCase(t)
		asked := func() int {
			n := 0
			for _, m := range outbox(t, c.db, agreements.OutboxFilter{}) {
				if m.Kind == agreements.MailNotice && m.Data.Notice == agreements.NoticeNoThread {
					if m.To != "alice@example.test" {
						t.Fatalf("the no-thread notice went to %s", m.To)
					}
					n++
				}
			}
			return n
		}
		for range 3 {
			c.record(t, c.reply("alice@example.test", "", "Can we talk on Sunday?"))
		}
		if n := asked(); n != 1 {
			t.Fatalf("no-thread notices = %d, want 1", n)
		}
		later := Now.Add(25 * time.Hour)
		c.db.Now = func() time.Time { return later }
		c.record(t, c.reply("alice@example.test", "", "Can we talk on Sunday?"))
		if n := asked(); n != 2 {
			t.Fatalf("no-thread notices a day later = %d, want 2", n)
		}
		terms := testTerms()
		terms.Parties[1].Address = "carol@example.test"
		if _, err := c.db.CreateAgreement(context.Background(), terms); err != nil {
			t.Fatal(err)
		}
		later = later.Add(25 * time.Hour)
		if out := c.record(t, c.reply("alice@example.test", "", "Can we talk on Sunday?")); out.Outcome != "unmatched" || asked() != 2 {
			t.Fatalf("a party of two agreements: %s, %d notices", out.Outcome, asked())
		}
	})

	t.Run("CommentForwarded", func(t *testing.T) {
		c := newInboundCase(t)
		bob := c.tokenOf(t, 1, agreements.MailConfirmRequest)
		in := c.reply("bob@example.test", bob, "I agree except point 2")
		c.record(t, in)
		ms := outbox(t, c.db, agreements.OutboxFilter{})
		last := ms[len(ms)-1]
		if last.Kind != agreements.MailComment || last.To != "alice@example.test" || last.Data.Quote != "I agree except point 2" || !last.Data.AskAmend {
			t.Fatalf("last mail = %s to %s %+v", last.Kind, last.To, last.Data)
		}
	})
}

func TestRecordInbound_Superseded(t *testing.T) {
	c := newInboundCase(t)
	oldTok := c.tokenOf(t, 0, agreements.MailConfirmRequest)
	terms := c.a.Terms
	terms.Title = "Amended"
	if _, err := c.db.AmendAgreement(context.Background(), c.a.ID, terms); err != nil {
		t.Fatal(err)
	}
	out := c.record(t, c.reply("alice@example.test", oldTok, "I agree"))
	if out.Outcome != "superseded" {
		t.Fatalf("outcome = %+v", out)
	}
	cs, _ := c.db.FindConfirmations(context.Background(), c.a.ID)
	if len(cs) != 0 {
		t.Fatal("a reply to version 1 confirmed something")
	}
	ms := outbox(t, c.db, agreements.OutboxFilter{})
	last := ms[len(ms)-1]
	if last.Kind != agreements.MailSuperseded || last.Data.RepliedTo != 1 || last.Data.Agreement.Version != 2 {
		t.Fatalf("last mail = %s %+v", last.Kind, last.Data)
	}
	// Its reply token confirms version 2.
	out = c.record(t, c.reply("alice@example.test", last.ReplyToken, "I agree"))
	if out.Outcome != "confirmed" {
		t.Fatalf("reply to the superseded notice = %+v", out)
	}
}

func TestRecordInbound_ReferencesAndBounce(t *testing.T) {
	c := newInboundCase(t)
	ms := outbox(t, c.db, agreements.OutboxFilter{})
	toBob := ms[1]

	t.Run("ByReferences", func(t *testing.T) {
		in := c.reply("bob@example.test", "", "I agree")
		in.Tokens = nil
		in.References = []string{"unknown@x", toBob.MessageID}
		if out := c.record(t, in); out.Outcome != "confirmed" || out.PartyID != c.a.Terms.Parties[1].ID {
			t.Fatalf("outcome = %+v", out)
		}
	})

	t.Run("RefusedAtRCPT", func(t *testing.T) {
		c := newInboundCase(t)
		ms, err := c.db.ClaimMail(context.Background(), "o", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second refusal tells no one again
			if err := c.db.RecordOutcomes(context.Background(), "o", []agreements.MailOutcome{{ID: ms[1].ID, Status: agreements.MailFailed, Bounced: true, Reason: "550 5.1.1 no such user"}}); err != nil && !agreements.IsNotClaimed(err) {
				t.Fatal(err)
			}
		}
		if n := c.mailKinds(t)[agreements.MailBounceNotice]; n != 1 {
			t.Fatalf("bounce notices = %d, want 1", n)
		}
	})

	t.Run("Bounce", func(t *testing.T) {
		b := agreements.Inbound{Key: "<dsn1@x>", Mailbox: "INBOX", UIDValidity: 1, UID: 500, From: "mailer-daemon@example.test", Auto: "bounce",
			Bounce: &agreements.InboundBounce{Recipients: []string{"alice@example.test"}, Permanent: true, OriginalMessageID: ms[0].MessageID}}
		if out := c.record(t, b); out.Outcome != "bounce" || out.Folder != agreements.FolderProcessed {
			t.Fatalf("outcome = %+v", out)
		}
		b2 := b
		b2.Key = "<dsn2@x>"
		c.record(t, b2)
		if n := c.mailKinds(t)[agreements.MailBounceNotice]; n != 1 {
			t.Fatalf("bounce notices = %d, want 1", n)
		}
	})
}

// TestConfirmTimers: the one reminder to confirm and the expiry of a
// version that waits come from its confirmation timer, as the schedule
// passes: a pass before its time does nothing, passes after it remind
// once, and only the party who has not confirmed; the version expires
// once ConfirmFor has passed, and an amendment starts the clock again.
func TestConfirmTimers(t *testing.T) {
	c := newInboundCase(t)
	ctx := context.Background()
	pass := func(d time.Duration) agreements.ScheduleStats {
		t.Helper()
		now := Now.Add(d)
		c.db.Now = func() time.Time { return now }
		st, err := c.db.RunSchedule(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	c.record(t, c.reply("alice@example.test", c.tokenOf(t, 0, agreements.MailConfirmRequest), "I agree"))
	if st := pass(47 * time.Hour); st.ConfirmReminders != 0 || st.Expired != 0 {
		t.Fatalf("at 47h: %+v", st)
	}
	if st := pass(49 * time.Hour); st.ConfirmReminders != 1 {
		t.Fatalf("at 49h: %+v, want 1 reminder (Bob's)", st)
	}
	for _, d := range []time.Duration{50 * time.Hour, 100 * time.Hour, 7*24*time.Hour - time.Minute} {
		if st := pass(d); st != (agreements.ScheduleStats{}) {
			t.Fatalf("at %v: %+v, want nothing", d, st)
		}
	}
	n := c.mailKinds(t)
	if n[agreements.MailConfirmReminder] != 1 {
		t.Fatalf("reminders = %d, want 1 (bob only, once)", n[agreements.MailConfirmReminder])
	}
	if st := pass(7*24*time.Hour + time.Minute); st.Expired != 1 {
		t.Fatalf("at 7 days: %+v, want 1 expired", st)
	}
	if c.status(t) != agreements.StatusExpired || c.mailKinds(t)[agreements.MailExpired] != 2 {
		t.Fatalf("status %s, mails %v", c.status(t), c.mailKinds(t))
	}
	if st := pass(30 * 24 * time.Hour); st != (agreements.ScheduleStats{}) {
		t.Fatalf("after expiry: %+v", st)
	}
}

// TestConfirmTimers_Amended: a version amended while it waits gets a full
// ConfirmFor of its own; the timer of the version it replaced is void.
func TestConfirmTimers_Amended(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := mustCreate(t, db)
	now := Now.Add(6 * 24 * time.Hour)
	db.Now = func() time.Time { return now }
	terms := a.Terms
	terms.Title = "Evenings, calls and weekends"
	if _, err := db.AmendAgreement(ctx, a.ID, terms); err != nil {
		t.Fatal(err)
	}
	now = Now.Add(8 * 24 * time.Hour) // past the first version's expiry
	st, err := db.RunSchedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Expired != 0 || st.ConfirmReminders != 2 {
		t.Fatalf("two days into version 2: %+v, want its 2 reminders and no expiry", st)
	}
	now = Now.Add(13*24*time.Hour + time.Minute)
	if st, err = db.RunSchedule(ctx); err != nil || st.Expired != 1 {
		t.Fatalf("seven days into version 2: %+v, %v; want it expired", st, err)
	}
}

// TestConfirmTimers_Upgrade: an agreement that waited for confirmation
// when migration 10 ran (before confirmation timers) gets its timer, and
// is reminded and expired on time.
func TestConfirmTimers_Upgrade(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := mustCreate(t, db)
	// Undo migrations 10 to 12, and the timer this inwriting set.
	if _, err := db.SQL().Exec(`DELETE FROM timers WHERE kind = 'confirm'; ALTER TABLE round_parties DROP COLUMN deadline; ALTER TABLE agreements DROP COLUMN proposed; DELETE FROM migrations WHERE number >= 10`); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	now := Now.Add(49 * time.Hour)
	db.Now = func() time.Time { return now }
	if st, err := db.RunSchedule(ctx); err != nil || st.ConfirmReminders != 2 {
		t.Fatalf("at 49h: %+v, %v; want 2 reminders", st, err)
	}
	now = Now.Add(7 * 24 * time.Hour)
	if st, err := db.RunSchedule(ctx); err != nil || st.Expired != 1 {
		t.Fatalf("at 7 days: %+v, %v; want agreement %d expired", st, err, a.ID)
	}
}

// TestConfirmedCopy_LoopBreaker: the confirmed copy reaches the party who
// confirmed last even when the loop breaker holds back their answers for
// the day; they get it instead of a receipt, at once.
func TestConfirmedCopy_LoopBreaker(t *testing.T) {
	c := newInboundCase(t)
	c.db.AnswersPerDay = 1
	alice, bob := c.tokenOf(t, 0, agreements.MailConfirmRequest), c.tokenOf(t, 1, agreements.MailConfirmRequest)
	c.record(t, c.reply("alice@example.test", alice, "I agree"))
	c.record(t, c.reply("bob@example.test", bob, "yes but")) // unsure: his one answer today
	if out := c.record(t, c.reply("bob@example.test", bob, "I agree")); out.Outcome != "confirmed" {
		t.Fatalf("Bob's confirmation: %+v", out)
	}
	var toBob *agreements.OutboxMail
	for _, m := range outbox(t, c.db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailConfirmed && m.To == "bob@example.test" {
			toBob = m
		}
		if m.Kind == agreements.MailReceipt && m.To == "bob@example.test" {
			t.Errorf("Bob got a receipt as well as the confirmed copy")
		}
	}
	if toBob == nil || !toBob.NextAttemptAt.Equal(toBob.CreatedAt) {
		t.Fatalf("Bob's confirmed copy: %+v, want it queued to go at once", toBob)
	}
}
