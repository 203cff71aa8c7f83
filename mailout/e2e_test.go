package mailout_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailstack"
	"github.com/inwriting/inwriting/internal/mailtest"
	"github.com/inwriting/inwriting/mailin"
	"github.com/inwriting/inwriting/mailout"
	"github.com/inwriting/inwriting/templates"
)

// TestEndToEnd sends a real "please confirm" through Postfix and reads it
// back from alice's mailbox in Dovecot.
func TestEndToEnd(t *testing.T) {
	st := mailstack.Require(t)
	ctx := context.Background()
	db := agreements.NewDB(filepath.Join(t.TempDir(), "db"))
	db.Reader = mailin.Reader{}
	db.MessageIDDomain = st.Domain
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	terms := agreements.Terms{
		Title: "Evenings and phone calls", WhatWentWrong: "I did not call when I was late.",
		Parties: []agreements.Party{
			{Name: "Alice Example", Address: st.Address("mo-alice"), TimeZone: "Europe/Lisbon", Commitments: []string{"Call when late."}},
			{Name: "Bob Example", Address: st.Address("mo-bob"), TimeZone: "America/Chicago", Commitments: []string{"Ask when worried."}},
		},
		CheckIn: agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Sunday}, Hour: 19},
	}
	a, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		t.Fatal(err)
	}
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	s := mailout.NewSender(db, &mailout.Composer{
		Identity:  mailout.Identity{Address: st.Address("mailout"), Name: "inwriting", PublicURL: "https://inwriting.example.test"},
		Templates: set,
	})
	s.Addr, s.TLSConfig = st.Submission, st.TLS
	s.Username, s.Password = "mailout", st.Password("mailout")
	if !testing.Verbose() {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if n, err := s.Drain(ctx); err != nil || n != 2 {
		t.Fatalf("Drain = %d, %v", n, err)
	}
	ms, err := db.FindOutbox(ctx, agreements.OutboxFilter{Status: agreements.MailSent})
	if err != nil || len(ms) != 2 {
		t.Fatalf("sent = %d, %v", len(ms), err)
	}
	var toAlice *agreements.OutboxMail
	for _, m := range ms {
		if m.To == st.Address("mo-alice") {
			toAlice = m
		}
	}

	c, err := imapclient.DialStartTLS(st.IMAP, &imapclient.Options{TLSConfig: st.TLS})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("mo-alice", st.Password("mo-alice")).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	var uid imap.UID
	mailtest.Eventually(t, "the mail reaching alice", func() bool {
		data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: toAlice.MessageID}}}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if uids := data.AllUIDs(); len(uids) > 0 {
			uid = uids[0]
		}
		return uid != 0
	})
	bufs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(bufs) != 1 {
		t.Fatalf("fetch: %v", err)
	}
	raw := bufs[0].FindBodySection(&imap.FetchItemBodySection{})
	defer c.Store(imap.UIDSetNum(uid), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()

	p := mailtest.Parse(t, raw)
	h := p.Header
	checks := map[string]string{
		"Message-ID":               "<" + toAlice.MessageID + ">",
		"Reply-To":                 "mailout+" + toAlice.ReplyToken + "@" + st.Domain,
		"Auto-Submitted":           "auto-generated",
		"X-Auto-Response-Suppress": "All",
		"List-Id":                  "<1.agreements." + st.Domain + ">",
		"List-Unsubscribe":         "<https://inwriting.example.test/unsubscribe/" + toAlice.CommandsToken + ">, <mailto:mailout+" + toAlice.CommandsToken + "@" + st.Domain + "?subject=unsubscribe>",
		"List-Unsubscribe-Post":    "List-Unsubscribe=One-Click",
		"From":                     `"inwriting" <mailout@` + st.Domain + ">",
		"To":                       st.Address("mo-alice"),
	}
	for k, want := range checks {
		if got := h.Get(k); !strings.Contains(got, want) {
			t.Fatalf("%s = %q, want %q in it", k, got, want)
		}
	}
	if d, err := h.Date(); err != nil || d.IsZero() {
		t.Fatalf("Date: %v", err)
	}
	if subj, _ := h.Subject(); subj != "Please confirm: Evenings and phone calls [ref "+toAlice.ReplyToken+"]" {
		t.Fatalf("Subject = %q", subj)
	}
	if !strings.Contains(p.Text, `Reply "I agree" to confirm.`) || !strings.Contains(p.HTML, "I agree") {
		t.Fatalf("parts: text %d bytes, html %d bytes", len(p.Text), len(p.HTML))
	}
	att, ok := p.Attachments["agreement-1-v1.txt"]
	if !ok || agreements.Fingerprint(att) != a.Fingerprint {
		t.Fatalf("attachment's fingerprint = %s, want %s", agreements.Fingerprint(att), a.Fingerprint)
	}
	if !strings.Contains(p.Text, agreements.ShortFingerprint(a.Fingerprint)) {
		t.Fatal("the text does not quote the fingerprint")
	}
}
