package agreements_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

func outbox(t *testing.T, db *agreements.DB, f agreements.OutboxFilter) []*agreements.OutboxMail {
	t.Helper()
	ms, err := db.FindOutbox(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func kinds(ms []*agreements.OutboxMail) map[agreements.MailKind]int {
	n := map[agreements.MailKind]int{}
	for _, m := range ms {
		n[m.Kind]++
	}
	return n
}

func TestOutbox_Queue(t *testing.T) {
	ctx := context.Background()
	t.Run("ConfirmFlow", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		ms := outbox(t, db, agreements.OutboxFilter{})
		if len(ms) != 2 || ms[0].Kind != agreements.MailConfirmRequest || ms[0].To != "alice@example.test" || ms[1].To != "bob@example.test" {
			t.Fatalf("outbox after create = %+v", ms)
		}
		m := ms[0]
		if m.ReplyToken == "" || m.CommandsToken == "" || m.ReplyToken == m.CommandsToken || m.ThreadID != "" || m.Status != agreements.MailPending {
			t.Fatalf("first mail = %+v", m)
		}
		tok, err := db.FindToken(ctx, m.ReplyToken)
		if err != nil || tok.Purpose != agreements.PurposeConfirm || tok.Ref != 1 || tok.PartyID != a.Terms.Parties[0].ID {
			t.Fatalf("reply token = %+v, %v", tok, err)
		}
		if !m.Data.Deadline.Equal(Now.Add(7 * 24 * time.Hour)) {
			t.Fatalf("Deadline = %v", m.Data.Deadline)
		}
		if m.Data.Agreement.CanonicalText == "" || m.Data.Recipient.Address != "alice@example.test" || m.Data.Others[0].Address != "bob@example.test" {
			t.Fatalf("data = %+v", m.Data)
		}

		for _, p := range a.Terms.Parties {
			if _, err := confirm(db, a, 1, p.ID, "<"+p.FirstName()+"@x>"); err != nil {
				t.Fatal(err)
			}
		}
		ms = outbox(t, db, agreements.OutboxFilter{})
		if n := kinds(ms); n[agreements.MailConfirmed] != 2 || len(ms) != 4 {
			t.Fatalf("outbox after confirmations = %v", n)
		}
		confirmed := ms[2]
		if confirmed.ThreadID != ms[0].MessageID {
			t.Fatalf("ThreadID = %q, want the first mail's %q", confirmed.ThreadID, ms[0].MessageID)
		}
		if len(confirmed.Data.Audit) != 2 || confirmed.Data.Audit[1].MessageID != "<Bob@x>" {
			t.Fatalf("audit = %+v", confirmed.Data.Audit)
		}
	})

	t.Run("Dedupe", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		req := agreements.MailRequest{Key: "unsure:1:<m1@x>", Kind: agreements.MailUnsure, AgreementID: a.ID, PartyID: a.Terms.Parties[1].ID,
			Data: agreements.MailData{Quote: "yes but"}}
		for i, want := range []bool{true, false, false} {
			queued, err := db.QueueMail(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if queued != want {
				t.Fatalf("QueueMail #%d = %v, want %v", i+1, queued, want)
			}
		}
		// The same comment twice (a reply-all that reaches us twice)
		// forwards it once.
		for range 2 {
			if err := db.RecordComment(ctx, a.ID, 1, a.Terms.Parties[1].ID, "except point 2", "<c1@x>"); err != nil {
				t.Fatal(err)
			}
		}
		if n := kinds(outbox(t, db, agreements.OutboxFilter{})); n[agreements.MailUnsure] != 1 || n[agreements.MailComment] != 1 || n[agreements.MailConfirmRequest] != 2 {
			t.Fatalf("outbox = %v", n)
		}
	})

	t.Run("Amend", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		terms := a.Terms
		terms.Title = "New title"
		if _, err := db.AmendAgreement(ctx, a.ID, terms); err != nil {
			t.Fatal(err)
		}
		ms := outbox(t, db, agreements.OutboxFilter{})
		if len(ms) != 4 || ms[2].Data.Agreement.Version != 2 || ms[2].ReplyToken == ms[0].ReplyToken {
			t.Fatalf("outbox after amend = %d mails", len(ms))
		}
	})

	t.Run("DraftQueuesNothing", func(t *testing.T) {
		db := MustOpenDB(t)
		a, err := db.CreateDraft(ctx, testTerms())
		if err != nil {
			t.Fatal(err)
		}
		if ms := outbox(t, db, agreements.OutboxFilter{}); len(ms) != 0 {
			t.Fatalf("draft queued %d mails", len(ms))
		}
		if _, err := db.ProposeAgreement(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		if ms := outbox(t, db, agreements.OutboxFilter{}); len(ms) != 2 {
			t.Fatalf("proposing queued %d mails, want 2", len(ms))
		}
	})

	t.Run("DeclineAndExpire", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		if _, err := db.DeclineVersion(ctx, a.ID, 1, a.Terms.Parties[1].ID, "<no@x>"); err != nil {
			t.Fatal(err)
		}
		mustCreate(t, db)
		later := Now.Add(db.ConfirmFor)
		db.Now = func() time.Time { return later }
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
		n := kinds(outbox(t, db, agreements.OutboxFilter{}))
		if n[agreements.MailDeclined] != 2 || n[agreements.MailExpired] != 2 {
			t.Fatalf("outbox = %v", n)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		_, err := db.QueueMail(ctx, agreements.MailRequest{Key: "x", Kind: agreements.MailReceipt, AgreementID: a.ID, PartyID: a.Terms.Parties[0].ID})
		if !errors.Is(err, agreements.ErrInvalid) {
			t.Fatalf("receipt without Recorded = %v, want ErrInvalid", err)
		}
		_, err = db.QueueMail(ctx, agreements.MailRequest{Key: "y", Kind: "nonsense", AgreementID: a.ID, PartyID: a.Terms.Parties[0].ID})
		if !errors.Is(err, agreements.ErrInvalid) {
			t.Fatalf("unknown kind = %v, want ErrInvalid", err)
		}
	})

	t.Run("NoAgreement", func(t *testing.T) {
		db := MustOpenDB(t)
		queued, err := db.QueueMail(ctx, agreements.MailRequest{Key: "cnp:<z@x>", Kind: agreements.MailCouldNotProcess,
			Data: agreements.MailData{Recipient: agreements.MailParty{FirstName: "Sam", Address: "sam@example.test"}, Reason: "no title"}})
		if err != nil || !queued {
			t.Fatalf("QueueMail = %v, %v", queued, err)
		}
		m := outbox(t, db, agreements.OutboxFilter{})[0]
		if m.AgreementID != 0 || m.ReplyToken != "" || m.To != "sam@example.test" {
			t.Fatalf("mail = %+v", m)
		}
	})
}

func TestOutbox_Claim(t *testing.T) {
	ctx := context.Background()
	t.Run("NeverTwice", func(t *testing.T) {
		db := MustOpenDB(t)
		for range 5 {
			mustCreate(t, db) // 2 mails each
		}
		// Two senders claim at once; together they get each mail once.
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		for _, owner := range []string{"a", "b"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					ms, err := db.ClaimMail(ctx, owner, 3, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(ms) == 0 {
						return
					}
					mu.Lock()
					for _, m := range ms {
						if prev, ok := seen[m.ID]; ok {
							t.Errorf("mail %d claimed by %s and %s", m.ID, prev, owner)
						}
						seen[m.ID] = owner
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != 10 {
			t.Fatalf("claimed %d mails, want 10", len(seen))
		}
	})

	t.Run("LeaseAndRelease", func(t *testing.T) {
		db := MustOpenDB(t)
		mustCreate(t, db)
		now := Now
		db.Now = func() time.Time { return now }
		ms, err := db.ClaimMail(ctx, "a", 10, time.Minute)
		if err != nil || len(ms) != 2 {
			t.Fatalf("claim = %d, %v", len(ms), err)
		}
		if ms, _ := db.ClaimMail(ctx, "b", 10, time.Minute); len(ms) != 0 {
			t.Fatalf("b claimed %d held mails", len(ms))
		}
		now = now.Add(2 * time.Minute) // a's lease ran out (a crashed)
		if ms, _ := db.ClaimMail(ctx, "b", 10, time.Minute); len(ms) != 2 {
			t.Fatalf("b claimed %d expired mails, want 2", len(ms))
		}
		// a comes back: it no longer holds them.
		if err := db.MarkSent(ctx, ms[0].ID, "a", nil); !agreements.IsNotClaimed(err) {
			t.Fatalf("MarkSent by the old owner = %v, want not claimed", err)
		}
		if err := db.ReleaseMail(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if ms, _ := db.ClaimMail(ctx, "c", 10, time.Minute); len(ms) != 2 {
			t.Fatalf("c claimed %d released mails, want 2", len(ms))
		}
	})

	t.Run("Outcomes", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		ms, err := db.ClaimMail(ctx, "a", 10, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.MarkSent(ctx, ms[0].ID, "a", []byte("raw")); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkSent(ctx, ms[0].ID, "a", []byte("other")); !agreements.IsNotClaimed(err) {
			t.Fatalf("second MarkSent = %v", err)
		}
		next := Now.Add(time.Hour)
		if err := db.RetryMailAt(ctx, ms[1].ID, "a", next, "451 try later", []byte("first render")); err != nil {
			t.Fatal(err)
		}
		m, err := db.FindOutboxByID(ctx, ms[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != agreements.MailPending || m.Attempts != 1 || !m.NextAttemptAt.Equal(next) || m.LastError != "451 try later" {
			t.Fatalf("retried mail = %+v", m)
		}
		if got, _ := db.ClaimMail(ctx, "a", 10, time.Minute); len(got) != 0 {
			t.Fatal("claimed a mail before its retry time")
		}
		db.Now = func() time.Time { return next }
		got, _ := db.ClaimMail(ctx, "a", 10, time.Minute)
		if len(got) != 1 {
			t.Fatalf("claimed %d at retry time, want 1", len(got))
		}
		if err := db.FailMail(ctx, got[0].ID, "a", "550 no such user", []byte("second render")); err != nil {
			t.Fatal(err)
		}
		if failed := outbox(t, db, agreements.OutboxFilter{Status: agreements.MailFailed}); len(failed) != 1 || failed[0].LastError != "550 no such user" || string(failed[0].Raw) != "first render" {
			t.Fatalf("failed = %+v", failed)
		}
		sent := outbox(t, db, agreements.OutboxFilter{Status: agreements.MailSent, SentSince: Now.Add(-time.Hour)})
		if len(sent) != 1 || string(sent[0].Raw) != "raw" {
			t.Fatalf("sent = %+v", sent)
		}
		// The operator retries the failed one.
		r, err := db.RetryMail(ctx, got[0].ID)
		if err != nil || r.Status != agreements.MailPending {
			t.Fatalf("RetryMail = %+v, %v", r, err)
		}
		if _, err := db.RetryMail(ctx, ms[0].ID); !errors.Is(err, agreements.ErrConflict) {
			t.Fatalf("RetryMail of a sent mail = %v, want ErrConflict", err)
		}
		if _, err := db.RetryMail(ctx, 999); !errors.Is(err, agreements.ErrNotFound) {
			t.Fatalf("RetryMail(999) = %v, want ErrNotFound", err)
		}
		// Sending is in the agreement's log.
		es, _ := db.FindEvents(ctx, a.ID)
		if es[len(es)-1].Type != agreements.EventMailed {
			t.Fatalf("last event = %v, want mailed", es[len(es)-1].Type)
		}
		if err := db.VerifyEvents(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// notifier counts Notify calls.
type notifier struct{ n int }

func (n *notifier) Notify() { n.n++ }

func TestOutbox_Notify(t *testing.T) {
	db := MustOpenDB(t)
	var n notifier
	db.Mailer = &n
	a := mustCreate(t, db)
	if n.n != 1 {
		t.Fatalf("Notify after create = %d, want 1", n.n)
	}
	if _, err := db.Command(context.Background(), a.ID, "alice@example.test", agreements.Intent{Command: agreements.CommandPause}); !errors.Is(err, agreements.ErrConflict) {
		t.Fatal(err)
	}
	if n.n != 1 {
		t.Fatalf("Notify after a change that queued nothing = %d, want 1", n.n)
	}
}

func TestOutbox_ReleaseAllClaims(t *testing.T) {
	db := MustOpenDB(t)
	mustCreate(t, db)
	ctx := context.Background()
	if ms, _ := db.ClaimMail(ctx, "dead", 10, time.Hour); len(ms) != 2 {
		t.Fatalf("claimed %d", len(ms))
	}
	if n, err := db.ReleaseAllClaims(ctx); err != nil || n != 2 {
		t.Fatalf("ReleaseAllClaims = %d, %v", n, err)
	}
	if ms, _ := db.ClaimMail(ctx, "new", 10, time.Hour); len(ms) != 2 {
		t.Fatalf("claimed %d after the release, want 2", len(ms))
	}
}

// TestOutbox_VersionReference: the outbox keeps which version a mail shows,
// not a copy of it, and reading the mail back gives that version's terms
// and canonical text, even after the agreement has moved on. A mail stored
// whole, as before, is read back as it was.
func TestOutbox_VersionReference(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := mustCreate(t, db)
	v1, err := db.FindVersions(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	terms := testTerms()
	terms.Parties[1].Commitments = []string{"Ask directly when worried, the same day."}
	if _, err := db.AmendAgreement(ctx, a.ID, terms); err != nil {
		t.Fatal(err)
	}
	var first *agreements.OutboxMail
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailConfirmRequest && m.To == "bob@example.test" {
			first = m
			break
		}
	}
	if first == nil {
		t.Fatal("no confirm request to Bob")
	}
	d := first.Data
	if d.Agreement.Version != 1 || d.Agreement.CanonicalText != v1[0].CanonicalText || d.Agreement.Title != "Evenings and phone calls" ||
		d.Recipient.Address != "bob@example.test" || d.Recipient.Commitments[0] != "Ask directly when worried." ||
		len(d.Others) != 1 || d.Others[0].Address != "alice@example.test" {
		t.Fatalf("version 1's request reads back as %+v", d)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}

	// A row stored whole keeps its own data; only the text is filled in.
	whole := d
	whole.Agreement = &agreements.MailTerms{ID: a.ID, Version: 1, Title: "As it was", Fingerprint: d.Agreement.Fingerprint,
		WhatWentWrong: "x", CheckIn: "every Sunday at 19:00"}
	raw, _ := json.Marshal(whole)
	if _, err := db.SQL().Exec(`INSERT INTO outbox (dedupe_key, message_id, kind, agreement_id, party_id, rcpt, rcpt_name, data, status, next_attempt_at, created_at)
		VALUES ('old', 'old@x', 'confirm-request', ?, ?, 'bob@example.test', 'Bob', ?, 'sent', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')`, a.ID, first.PartyID, string(raw)); err != nil {
		t.Fatal(err)
	}
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.Key == "old" && (m.Data.Agreement.Title != "As it was" || m.Data.Agreement.CanonicalText != v1[0].CanonicalText) {
			t.Fatalf("a whole row reads back as %+v", m.Data.Agreement)
		}
	}

	// A version that is gone is an error, not a blank mail.
	if _, err := db.SQL().Exec(`UPDATE outbox SET data = json_set(data, '$.agreement.version', 9) WHERE id = ?`, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindOutbox(ctx, agreements.OutboxFilter{}); err == nil || !strings.Contains(err.Error(), "version 9") {
		t.Fatalf("a mail of a missing version: %v", err)
	}
}

// TestOutbox_MessageIDsSortByTime: Message-IDs begin with the time the
// mail was queued, so later mail sorts after earlier mail.
func TestOutbox_MessageIDsSortByTime(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 3, 7, 19, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	db.MessageIDDomain = "example.test"
	a := mustCreate(t, db)
	now = now.Add(time.Second) // the store keeps whole seconds
	terms := testTerms()
	terms.Title = "Evenings, phone calls and weekends"
	if _, err := db.AmendAgreement(ctx, a.ID, terms); err != nil {
		t.Fatal(err)
	}
	form := regexp.MustCompile(`^iw\.[0-9a-f]{12}\.[0-9a-f]{20}@example\.test$`)
	ms := outbox(t, db, agreements.OutboxFilter{})
	if len(ms) != 4 {
		t.Fatalf("%d mails, want 4 (two versions, two parties)", len(ms))
	}
	for i, m := range ms {
		if !form.MatchString(m.MessageID) {
			t.Fatalf("Message-ID %q is not iw.TIME.RANDOM@domain", m.MessageID)
		}
		if i > 0 && ms[i-1].MessageID[:15] > m.MessageID[:15] {
			t.Fatalf("Message-ID %q sorts before the earlier %q", m.MessageID, ms[i-1].MessageID)
		}
	}
	if ms[1].MessageID[:15] == ms[2].MessageID[:15] || ms[0].MessageID[:15] != ms[1].MessageID[:15] {
		t.Fatalf("Message-IDs %q, %q, %q: the time part should change with the time, and only then", ms[0].MessageID, ms[1].MessageID, ms[2].MessageID)
	}
}
