package templates_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailtest"
	"github.com/inwriting/inwriting/mailout"
	"github.com/inwriting/inwriting/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// Now is the fixed clock of the golden files.
var Now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

const canonical = "inwriting agreement, format 1\nAgreement: 7\nVersion: 2\nTitle: Evenings and phone calls\n"

// fixture returns complete data for a mail of kind to Alice about an
// agreement with Bob.
func fixture(kind agreements.MailKind) *agreements.MailData {
	alice := agreements.MailParty{Name: "Alice Example", FirstName: "Alice", Address: "alice@example.test", TimeZone: "Europe/Lisbon",
		Commitments: []string{"Call or text before 18:00 when I will be home after 19:00.", "Tell Bob myself when plans change,\nbefore he hears it from someone else."}}
	bob := agreements.MailParty{Name: "Bob Example", FirstName: "Bob", Address: "bob@example.test", TimeZone: "America/Chicago",
		Commitments: []string{"Ask directly when something worries me."}}
	d := &agreements.MailData{
		Kind: kind,
		Agreement: &agreements.MailTerms{
			ID: 7, Title: "Evenings and phone calls", Version: 2, Fingerprint: agreements.Fingerprint(canonical),
			WhatWentWrong: "I said I would call when I was late, and twice I did not.\nBob heard it from a friend.",
			CheckIn:       "every Sunday at 19:00", CanonicalText: canonical,
		},
		Recipient: alice,
		Others:    []agreements.MailParty{bob},
	}
	switch kind {
	case agreements.MailConfirmRequest, agreements.MailConfirmReminder:
		d.Deadline = Now.Add(7 * 24 * time.Hour)
	case agreements.MailConfirmed:
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
		d.Lines = []string{`Reply "help" to see everything you can reply, "pause" for a break from the check-ins, or "stop" to end them.`}
	case agreements.MailReceipt:
		d.Recorded = []string{"Your confirmation of version 2", "From the message <a1@example.test>"}
		d.Quote = "I agree"
	case agreements.MailCouldNotProcess:
		d.Reason = "the message was larger than 10 MB."
	case agreements.MailSuperseded:
		d.RepliedTo = 1
	case agreements.MailSpoofNotice:
	case agreements.MailBounceNotice:
		d.Author = &bob
	case agreements.MailCheckIn, agreements.MailNudge:
		d.Round, d.Deadline = "2026-11-29", Now.Add(24*time.Hour)
	case agreements.MailDigest:
		d.Round = "2026-11-29"
		d.Answers = []agreements.MailAnswer{{Party: bob, Answered: true, Statuses: []string{"kept"}, PositiveOther: "Alice called on Tuesday.", PositiveSelf: "I asked instead of guessing.", WentWrong: "The weekend plans."}}
		d.History = []agreements.MailHistory{{Round: "2026-11-22", Party: "Bob", Marks: "~"}, {Round: "2026-11-29", Party: "Bob", Marks: "✓"}}
	case agreements.MailNotice:
		d.Title, d.Lines = "Check-ins are paused", []string{"Bob has paused the check-ins.", `Reply "resume" to start them again.`}
	}
	return d
}

func compose(t *testing.T, set *templates.Set, d *agreements.MailData, public string) []byte {
	t.Helper()
	c := &mailout.Composer{Identity: mailout.Identity{Address: "service@example.test", Name: "inwriting", PublicURL: public}, Templates: set}
	m := &agreements.OutboxMail{
		ID: 1, Kind: d.Kind, MessageID: "iw.0123456789abcdef@example.test", AgreementID: 7, PartyID: 1,
		To: "alice@example.test", ToName: "Alice Example", ReplyToken: "abcdefghijklmnopqrstuvwx", CommandsToken: "commandstokencommandstok",
		ThreadID: "iw.root@example.test", Data: *d,
	}
	raw, err := c.Compose(m, Now)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

var boundaryRE = regexp.MustCompile(`boundary=([0-9a-f]+)`)

// stable replaces go-mail's random MIME boundaries with fixed names.
func stable(raw []byte) []byte {
	for i, m := range boundaryRE.FindAllSubmatch(raw, -1) {
		raw = bytes.ReplaceAll(raw, m[1], []byte("BOUNDARY"+string(rune('A'+i))))
	}
	return raw
}

func TestGolden(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range agreements.MailKinds {
		t.Run(string(kind), func(t *testing.T) {
			got := stable(compose(t, set, fixture(kind), ""))
			path := filepath.Join("testdata", string(kind)+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("message differs from %s (run go test ./templates -update and review the diff):\n%s", path, got)
			}
		})
	}
}

func TestParts(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range agreements.MailKinds {
		t.Run(string(kind), func(t *testing.T) {
			d := fixture(kind)
			p := mailtest.Parse(t, compose(t, set, d, "https://inwriting.example.test"))
			for _, h := range []string{"Message-ID", "In-Reply-To", "References", "Reply-To", "Auto-Submitted", "X-Auto-Response-Suppress",
				"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "Date", "From", "To", "Subject"} {
				if p.Header.Get(h) == "" {
					t.Fatalf("header %s is missing", h)
				}
			}
			if got := p.Header.Get("Reply-To"); !strings.Contains(got, "service+abcdefghijklmnopqrstuvwx@example.test") {
				t.Fatalf("Reply-To = %q", got)
			}
			if got, _ := p.Header.Subject(); !strings.HasSuffix(got, "[ref abcdefghijklmnopqrstuvwx]") || len(got) > 120 {
				t.Fatalf("Subject = %q", got)
			}
			if got := p.Header.Get("List-Unsubscribe"); got != "<https://inwriting.example.test/unsubscribe/commandstokencommandstok>, <mailto:service+commandstokencommandstok@example.test?subject=unsubscribe>" {
				t.Fatalf("List-Unsubscribe = %q", got)
			}
			if got := p.Header.Get("From"); got != `"inwriting" <service@example.test>` {
				t.Fatalf("From = %q", got)
			}
			if p.Text == "" || p.HTML == "" {
				t.Fatalf("text part %d bytes, html part %d bytes; want both", len(p.Text), len(p.HTML))
			}
			if att := p.Attachments["agreement-7-v2.txt"]; att != canonical {
				t.Fatalf("attachment = %q, want the canonical text", att)
			}
			short := agreements.ShortFingerprint(d.Agreement.Fingerprint)
			for name, body := range map[string]string{"text": p.Text, "html": p.HTML} {
				for _, want := range []string{"Evenings and phone calls", short, "Alice"} {
					if !strings.Contains(body, want) {
						t.Fatalf("%s part lacks %q:\n%s", name, want, body)
					}
				}
				if strings.Contains(body, "<no value>") || strings.Contains(body, "%!") {
					t.Fatalf("%s part has a blank:\n%s", name, body)
				}
			}
			if strings.Contains(p.HTML, "<img") || strings.Contains(p.HTML, "http://") || strings.Contains(p.HTML, "src=") {
				t.Fatal("the HTML part loads something remote")
			}
			if !strings.Contains(p.Text, "Reply") {
				t.Fatal("the text part does not say what replying does")
			}
		})
	}
	t.Run("NoPublicURL", func(t *testing.T) {
		p := mailtest.Parse(t, compose(t, set, fixture(agreements.MailConfirmRequest), ""))
		if p.Header.Get("List-Unsubscribe-Post") != "" {
			t.Fatal("List-Unsubscribe-Post without an https URL")
		}
		if got := p.Header.Get("List-Unsubscribe"); got != "<mailto:service+commandstokencommandstok@example.test?subject=unsubscribe>" {
			t.Fatalf("List-Unsubscribe = %q", got)
		}
	})
}

func TestRender_Errors(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(d *agreements.MailData){
		"NoRecipient":   func(d *agreements.MailData) { d.Recipient.Address = "" },
		"NoAgreement":   func(d *agreements.MailData) { d.Agreement = nil },
		"NoFingerprint": func(d *agreements.MailData) { d.Agreement.Fingerprint = "" },
		"NoDeadline":    func(d *agreements.MailData) { d.Deadline = time.Time{} },
		"NoOthers":      func(d *agreements.MailData) { d.Others = nil },
	} {
		t.Run(name, func(t *testing.T) {
			d := fixture(agreements.MailConfirmRequest)
			mutate(d)
			if _, _, _, err := set.Render(string(d.Kind), d); err == nil {
				t.Fatal("Render succeeded with a missing field")
			}
		})
	}
	t.Run("PerKind", func(t *testing.T) {
		for kind, mutate := range map[agreements.MailKind]func(d *agreements.MailData){
			agreements.MailConfirmed:       func(d *agreements.MailData) { d.Audit = nil },
			agreements.MailComment:         func(d *agreements.MailData) { d.Quote = "" },
			agreements.MailDeclined:        func(d *agreements.MailData) { d.Author = nil },
			agreements.MailUnsure:          func(d *agreements.MailData) { d.Quote = "" },
			agreements.MailReceipt:         func(d *agreements.MailData) { d.Recorded = nil },
			agreements.MailCouldNotProcess: func(d *agreements.MailData) { d.Reason = "" },
			agreements.MailSuperseded:      func(d *agreements.MailData) { d.RepliedTo = 2 },
			agreements.MailBounceNotice:    func(d *agreements.MailData) { d.Author = nil },
		} {
			d := fixture(kind)
			mutate(d)
			if _, _, _, err := set.Render(string(kind), d); err == nil {
				t.Fatalf("%s: Render succeeded with a missing field", kind)
			}
		}
	})
	t.Run("WrongKind", func(t *testing.T) {
		if _, _, _, err := set.Render("confirmed", fixture(agreements.MailConfirmRequest)); err == nil {
			t.Fatal("rendered confirm-request data as confirmed")
		}
		if _, _, _, err := set.Render("nonsense", fixture(agreements.MailConfirmRequest)); err == nil {
			t.Fatal("rendered an unknown kind")
		}
		if _, _, _, err := set.Render("confirmed", "hello"); err == nil {
			t.Fatal("rendered a string")
		}
	})
	t.Run("NoAgreementIsFineForCouldNotProcess", func(t *testing.T) {
		d := fixture(agreements.MailCouldNotProcess)
		d.Agreement, d.Others = nil, nil
		if _, text, _, err := set.Render(string(d.Kind), d); err != nil || !strings.Contains(text, "larger than 10 MB") {
			t.Fatalf("Render = %v\n%s", err, text)
		}
	})
}

func TestNew_Override(t *testing.T) {
	dir := t.TempDir()
	custom := `{{define "subject"}}Bitte bestätigen: {{.Agreement.Title}}{{end}}{{define "text"}}Hallo {{.Recipient.FirstName}}{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "confirm-request.txt"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := templates.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	subject, text, html, err := set.Render("confirm-request", fixture(agreements.MailConfirmRequest))
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Bitte bestätigen: Evenings and phone calls" || text != "Hallo Alice\n" || !strings.Contains(html, "I agree") {
		t.Fatalf("override: %q %q", subject, text)
	}

	t.Run("Broken", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "confirmed.txt"), []byte(`{{define "subject"}}{{.Nope`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := templates.New(dir); err == nil || !strings.Contains(err.Error(), "confirmed.txt") {
			t.Fatalf("New with a broken template = %v", err)
		}
	})
	t.Run("MissingDir", func(t *testing.T) {
		if _, err := templates.New(filepath.Join(dir, "nope")); err == nil {
			t.Fatal("New with a missing folder succeeded")
		}
	})
	t.Run("MissingField", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "unsure.txt"), []byte(`{{define "subject"}}x{{end}}{{define "text"}}{{.Agreement.Nonexistent}}{{end}}`), 0o644)
		set, err := templates.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := set.Render("unsure", fixture(agreements.MailUnsure)); err == nil {
			t.Fatal("a template using a field that does not exist rendered")
		}
	})
}
