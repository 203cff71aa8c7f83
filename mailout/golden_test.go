package mailout_test

import (
	"bytes"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailtest"
	"github.com/inwriting/inwriting/mailout"
	"github.com/inwriting/inwriting/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var (
	canonical = mailtest.Canonical
	fixture   = mailtest.MailData
)

func compose(t *testing.T, set *templates.Set, d *agreements.MailData, public string) []byte {
	t.Helper()
	c := &mailout.Composer{Identity: mailout.Identity{Address: "service@example.test", Name: "inwriting", PublicURL: public}, Templates: set}
	m := &agreements.OutboxMail{
		ID: 1, Kind: d.Kind, MessageID: "iw.0123456789abcdef@example.test", AgreementID: 7, PartyID: 1,
		To: "alice@example.test", ToName: "Alice Example", ReplyToken: "abcdefghijklmnopqrstuvwx", CommandsToken: "commandstokencommandstok",
		ThreadID: "iw.root@example.test", Data: *d,
	}
	if d.Agreement == nil {
		// Mail about no agreement (yet) has no tokens and no thread.
		m.AgreementID, m.PartyID, m.ReplyToken, m.CommandsToken, m.ThreadID = 0, 0, "", "", ""
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
			mailtest.Golden(t, filepath.Join("testdata", string(kind)+".eml"), stable(compose(t, set, fixture(kind), "")), *update)
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
			if d.Agreement == nil {
				// About no agreement: to its writer alone, answered at the
				// plain address, with nothing to unsubscribe from.
				for h, want := range map[string]string{"From": `"inwriting" <service@example.test>`, "Reply-To": `"inwriting" <service@example.test>`,
					"Auto-Submitted": "auto-generated", "List-Unsubscribe": ""} {
					if got := p.Header.Get(h); got != want {
						t.Errorf("%s = %q, want %q", h, got, want)
					}
				}
				if p.Text == "" || p.HTML == "" || len(p.Attachments) != 0 {
					t.Fatalf("text %d bytes, html %d bytes, %d attachments; want both parts and no attachment", len(p.Text), len(p.HTML), len(p.Attachments))
				}
				return
			}
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

// TestNoPlus: where the server refuses plus-addresses, replies go to the
// service's own address and the token rides in the subject, in the
// Reply-To's mail and in the unsubscribe link's.
func TestNoPlus(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	c := &mailout.Composer{Identity: mailout.Identity{Address: "service@example.test", Name: "inwriting", NoPlus: true}, Templates: set}
	m := &agreements.OutboxMail{
		ID: 1, Kind: agreements.MailConfirmRequest, MessageID: "iw.1@example.test", AgreementID: 7, PartyID: 1,
		To: "alice@example.test", ToName: "Alice Example", ReplyToken: "abcdefghijklmnopqrstuvwx", CommandsToken: "commandstokencommandstok",
		Data: *fixture(agreements.MailConfirmRequest),
	}
	raw, err := c.Compose(m, mailtest.Now)
	if err != nil {
		t.Fatal(err)
	}
	h := mailtest.Parse(t, raw).Header
	if got := h.Get("Reply-To"); got != `"inwriting" <service@example.test>` {
		t.Errorf("Reply-To = %q, want the plain address", got)
	}
	if got, _ := h.Subject(); !strings.HasSuffix(got, "[ref abcdefghijklmnopqrstuvwx]") {
		t.Errorf("Subject = %q, want the tag", got)
	}
	if got := h.Get("List-Unsubscribe"); got != "<mailto:service@example.test?subject=unsubscribe%20%5Bref%20commandstokencommandstok%5D>" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
}
