package mailtest

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// Now is the fixed clock of the golden mails.
var Now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// Canonical is the canonical text the golden mails attach.
const Canonical = "inwriting agreement, format 1\nAgreement: 7\nVersion: 2\nTitle: Evenings and phone calls\n"

// MailData returns complete data for a mail of kind to Alice about an
// agreement with Bob, as of Now: what the golden mails are made of.
func MailData(kind agreements.MailKind) *agreements.MailData {
	alice := agreements.MailParty{Name: "Alice Example", FirstName: "Alice", Address: "alice@example.test", TimeZone: "Europe/Lisbon",
		Commitments: []string{"Call or text before 18:00 when I will be home after 19:00.", "Tell Bob myself when plans change,\nbefore he hears it from someone else."}}
	bob := agreements.MailParty{Name: "Bob Example", FirstName: "Bob", Address: "bob@example.test", TimeZone: "America/Chicago",
		Commitments: []string{"Ask directly when something worries me."}}
	d := &agreements.MailData{
		Kind: kind,
		Agreement: &agreements.MailTerms{
			ID: 7, Title: "Evenings and phone calls", Version: 2, Fingerprint: agreements.Fingerprint(Canonical),
			WhatWentWrong: "I said I would call when I was late, and twice I did not.\nBob heard it from a friend.",
			CheckIn:       "every Sunday at 19:00", CanonicalText: Canonical,
			AuthorName: "Alice", AuthorAddress: "alice@example.test",
		},
		Recipient: alice,
		Others:    []agreements.MailParty{bob},
	}
	switch kind {
	case agreements.MailConfirmRequest, agreements.MailConfirmReminder:
		d.Deadline = Now.Add(7 * 24 * time.Hour)
	case agreements.MailConfirmed:
		d.FirstCheckIn = time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC)
		d.Audit = []agreements.MailConfirm{
			{Party: "Alice Example <alice@example.test>", At: Now.Add(-2 * time.Hour), MessageID: "<a1@example.test>", AuthResult: "dkim=pass dmarc=pass"},
			{Party: "Bob Example <bob@example.test>", At: Now, MessageID: "<b1@example.test>", AuthResult: "dkim=pass"},
		}
	case agreements.MailDeclined:
		d.Author = &bob
	case agreements.MailComment:
		d.Author = &bob
		d.Quote = "I agree, except point 2: can we say 17:30?"
		d.AskAmend = true
	case agreements.MailUnsure:
		d.Quote = "yes but"
	case agreements.MailNotUnderstood:
		d.Quote = "Sounds good to me, see you then"
		d.Awaits = "check-in"
	case agreements.MailReceipt:
		d.Confirmed = 2
		d.Quote = "I agree"
	case agreements.MailCouldNotProcess:
		d.Reason, d.Limit = agreements.UnreadableTooLarge, 10
	case agreements.MailSuperseded:
		d.RepliedTo = 1
	case agreements.MailSpoofNotice:
	case agreements.MailBounceNotice:
		d.Author = &bob
	case agreements.MailCheckIn, agreements.MailNudge:
		// Sunday's check-in, 19:00 in Lisbon: open until Monday 19:00.
		d.Round, d.Deadline = "2026-11-29", time.Date(2026, 11, 30, 19, 0, 0, 0, time.UTC)
	case agreements.MailDigest:
		d.Round = "2026-11-29"
		d.Answers = []agreements.MailAnswer{{Party: bob, Answered: true, Statuses: []string{"kept"}, PositiveOther: "Alice called on Tuesday.", PositiveSelf: "I asked instead of guessing.", WentWrong: "The weekend plans."}}
		d.History = []agreements.MailHistory{{Round: "2026-11-22", Party: "Bob", Marks: "~"}, {Round: "2026-11-29", Party: "Bob", Marks: "✓"}}
	case agreements.MailStartHelp:
		// Alice's start message lacked the check-in and Bob's list.
		d.Agreement, d.Others = nil, nil
		d.Recipient = agreements.MailParty{Name: alice.Name, FirstName: alice.FirstName, Address: alice.Address}
		d.Reason, d.Title = agreements.StartUnreadable, "Evenings and phone calls"
		d.Problem = `The agreement is missing how often to check in ("Check in: every Sunday at 19:00")`
		d.Understood = []string{"Title: Evenings and phone calls", "With: Bob Example <bob@example.test>", "What went wrong: 2 lines", "I will: 2 commitments"}
		d.Template = "What went wrong:\nI said I would call when I was late, and twice I did not.\nBob heard it from a friend.\n\nI will:\n1. Call or text before 18:00.\n2. Tell Bob myself when plans change.\n\nBob will:\n1. (one thing they will do, a line each)\n\nCheck in: (how often, such as every Sunday at 19:00)\n"
	case agreements.MailNotice:
		d.Notice, d.Author, d.Until = agreements.NoticePaused, &bob, time.Date(2026, 12, 10, 6, 0, 0, 0, time.UTC)
	}
	return d
}

// Golden compares got with the golden file at path, after writing got
// there when update is set (go test -update): a difference fails tb and
// shows got, so that the change can be reviewed and the file rewritten.
func Golden(tb testing.TB, path string, got []byte, update bool) {
	tb.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs (run go test -update in its package and review the diff):\n%s", path, got)
	}
}
