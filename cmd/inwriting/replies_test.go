package main_test

import (
	"context"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	main "github.com/inwriting/inwriting/cmd/inwriting"
	"github.com/inwriting/inwriting/internal/sandbox"
)

// received is one mail that reached a person in the sandbox.
type received struct {
	kind agreements.MailKind
	raw  []byte
}

func (r received) body() string { return strings.ReplaceAll(string(r.raw), "=\r\n", "") }

// sandboxRun is the service wired as "dev" and "serve" wire it (reader,
// sender, poller), on the sandbox's mail servers and an injected clock,
// with Alice and Bob at their mail clients.
type sandboxRun struct {
	t          *testing.T
	ctx        context.Context
	db         *agreements.DB
	drain      func(context.Context) (int, error)
	poll       func(context.Context) error
	mu         sync.Mutex
	now        time.Time
	alice, bob *mailUser
	agreement  *agreements.Agreement
}

func newSandboxRun(t *testing.T, start time.Time) *sandboxRun {
	t.Helper()
	srv := sandbox.New()
	srv.IMAPAddr, srv.SMTPAddr = freeAddr(t), freeAddr(t)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	r := &sandboxRun{t: t, ctx: context.Background(), now: start}
	db, sender, poller, err := main.SandboxServiceForTest(r.ctx, srv, t.TempDir(), r.clock, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db, r.drain, r.poll = db, sender.Drain, poller.RunOnce
	text := strings.Replace(agreementText, "%s", "Evenings and phone calls", 1)
	text = strings.Replace(text, "%s", "Bob Example <bob@example.test>", 1)
	terms, err := agreements.ParseProposal(agreements.ProposalInput{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if r.agreement, err = db.CreateAgreement(r.ctx, terms); err != nil {
		t.Fatal(err)
	}
	r.alice, r.bob = newMailUser(t, srv, "alice"), newMailUser(t, srv, "bob")
	return r
}

func (r *sandboxRun) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

// advance moves the clock by d, running the schedule every 30 minutes.
func (r *sandboxRun) advance(d time.Duration) {
	r.t.Helper()
	for end := r.clock().Add(d); r.clock().Before(end); {
		r.mu.Lock()
		r.now = r.now.Add(30 * time.Minute)
		r.mu.Unlock()
		if _, err := r.db.RunSchedule(r.ctx); err != nil {
			r.t.Fatal(err)
		}
	}
}

// send delivers what the service queued, and returns what reached each
// person, by user.
func (r *sandboxRun) send() map[string][]received {
	r.t.Helper()
	if _, err := r.drain(r.ctx); err != nil {
		r.t.Fatal(err)
	}
	out := map[string][]received{}
	ms, err := r.db.FindOutbox(r.ctx, agreements.OutboxFilter{})
	if err != nil {
		r.t.Fatal(err)
	}
	for _, u := range []*mailUser{r.alice, r.bob} {
		for _, raw := range u.newMail(r.t) {
			m, err := mail.ReadMessage(strings.NewReader(string(raw)))
			if err != nil {
				r.t.Fatal(err)
			}
			id := strings.Trim(m.Header.Get("Message-Id"), "<>")
			var kind agreements.MailKind
			for _, o := range ms {
				if o.MessageID == id {
					kind = o.Kind
				}
			}
			out[u.user] = append(out[u.user], received{kind, raw})
		}
	}
	return out
}

// reply has u answer raw with text, and the service read it.
func (r *sandboxRun) reply(u *mailUser, raw []byte, text string) {
	r.t.Helper()
	u.reply(r.t, raw, text)
	if err := r.poll(r.ctx); err != nil {
		r.t.Fatal(err)
	}
}

func only(t *testing.T, got []received, kind agreements.MailKind) received {
	t.Helper()
	if len(got) != 1 || got[0].kind != kind {
		kinds := []agreements.MailKind{}
		for _, g := range got {
			kinds = append(kinds, g.kind)
		}
		t.Fatalf("got %v, want one %s", kinds, kind)
	}
	return got[0]
}

// TestReplies_InContext: replies as people write them, through the
// service as serve runs it, each read in the context of the mail it
// answers. Check-in answers in their own words are recorded against the
// writer's commitments and the digest leads with kind words; an answer
// sent as a reply to the help mail is the check-in, held until the
// digest; a wish for no more mail and a reply we cannot read are answered
// to their writer alone; "pause until 10 December" pauses.
func TestReplies_InContext(t *testing.T) {
	r := newSandboxRun(t, time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC)) // a Wednesday
	sent := r.send()
	r.reply(r.alice, only(t, sent["alice"], agreements.MailConfirmRequest).raw, "I agree")
	r.reply(r.bob, only(t, sent["bob"], agreements.MailConfirmRequest).raw, "Agreed.")
	r.send() // receipts and confirmed copies

	// Sunday's round.
	r.advance(4*24*time.Hour + 13*time.Hour + 30*time.Minute) // both check-ins, not yet a nudge
	sent = r.send()
	aliceCheckIn := only(t, sent["alice"], agreements.MailCheckIn)
	bobCheckIn := only(t, sent["bob"], agreements.MailCheckIn)

	// Bob asks for help, then answers his check-in by replying to the help.
	r.reply(r.bob, bobCheckIn.raw, "help")
	help := only(t, r.send()["bob"], agreements.MailNotice)
	r.reply(r.bob, help.raw, "kept both")
	sent = r.send()
	only(t, sent["bob"], agreements.MailReceipt)
	if len(sent["alice"]) != 0 {
		t.Fatalf("Alice got %d mails while Bob's answer is held, want none", len(sent["alice"]))
	}

	// Alice answers in her own words, with a kind word and no heading.
	r.reply(r.alice, aliceCheckIn.raw, "All kept this week.\n\nBob cooked dinner on Tuesday, that was lovely.")
	sent = r.send()
	var bobDigest received
	for _, m := range sent["bob"] {
		if m.kind == agreements.MailDigest {
			bobDigest = m
		}
	}
	if bobDigest.raw == nil {
		t.Fatalf("Bob got no digest once both answered: %v", sent["bob"])
	}
	body := bobDigest.body()
	kind, status := strings.Index(body, "Bob cooked dinner on Tuesday, that was lovely."), strings.Index(body, "kept")
	if kind < 0 || status < 0 || kind > status {
		t.Fatalf("Bob's digest does not lead with Alice's kind words:\n%s", body)
	}
	rounds, err := r.db.FindRounds(r.ctx, r.agreement.ID)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := rounds[0].Parties[0].Answer, rounds[0].Parties[1].Answer
	if alice == nil || alice.Statuses[1] != "kept" || alice.Statuses[2] != "kept" || alice.PositiveOther == "" {
		t.Fatalf("Alice's answer = %+v, want both kept and a kind word", alice)
	}
	if bob == nil || bob.Statuses[1] != "kept" {
		t.Fatalf("Bob's answer = %+v, want kept (from his reply to the help mail)", bob)
	}

	// The next round: numbers and words.
	r.advance(7 * 24 * time.Hour)
	sent = r.send()
	r.reply(r.alice, only(t, sent["alice"], agreements.MailCheckIn).raw, "1 yes 2 no")
	r.reply(r.bob, only(t, sent["bob"], agreements.MailCheckIn).raw, "Missed it, sorry.")
	sent = r.send()
	rounds, _ = r.db.FindRounds(r.ctx, r.agreement.ID)
	if a := rounds[1].Parties[0].Answer; a == nil || a.Statuses[1] != "kept" || a.Statuses[2] != "missed" {
		t.Fatalf("Alice's \"1 yes 2 no\" = %+v", a)
	}
	if a := rounds[1].Parties[1].Answer; a == nil || a.Statuses[1] != "missed" {
		t.Fatalf("Bob's \"Missed it, sorry.\" = %+v", a)
	}
	var digest, aliceDigest received
	for _, m := range sent["bob"] {
		if m.kind == agreements.MailDigest {
			digest = m
		}
	}
	for _, m := range sent["alice"] {
		if m.kind == agreements.MailDigest {
			aliceDigest = m
		}
	}

	// Words for nobody in particular go back to their writer alone.
	for _, text := range []string{"Please stop sending these.", "What time is it over there?"} {
		r.reply(r.bob, digest.raw, text)
		sent = r.send()
		if len(sent["alice"]) != 0 {
			t.Fatalf("%q reached Alice: %d mails", text, len(sent["alice"]))
		}
		want := agreements.MailNotUnderstood
		if strings.HasPrefix(text, "Please stop") {
			want = agreements.MailNotice
		}
		only(t, sent["bob"], want)
	}
	if got, _ := r.db.FindAgreementByID(r.ctx, r.agreement.ID); got.Status != agreements.StatusActive {
		t.Fatalf("status %s after a wish for fewer mails, want active until Bob says what he wants", got.Status)
	}

	// A pause in Alice's own words.
	r.reply(r.alice, aliceDigest.raw, "pause until 10 December")
	if got, _ := r.db.FindAgreementByID(r.ctx, r.agreement.ID); got.Status != agreements.StatusPaused {
		t.Fatalf("status %s after \"pause until 10 December\", want paused", got.Status)
	}
	events, err := r.db.FindEvents(r.ctx, r.agreement.ID)
	if err != nil {
		t.Fatal(err)
	}
	// The day Alice wrote, in her own zone (Lisbon is on UTC in December).
	if last := events[len(events)-1]; last.Type != agreements.EventPaused || !strings.Contains(string(last.Data), `"until":"2027-12-10T00:00:00Z"`) {
		t.Fatalf("last event = %s %s, want paused until 2027-12-10", last.Type, last.Data)
	}
}
