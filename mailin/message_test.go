package mailin_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/inwriting/inwriting/mailin"
)

// msg builds a raw message from header lines and a body, with CRLF.
func msg(headers []string, body string) []byte {
	h := append([]string{"From: Alice <alice@example.test>", "To: service+tok@example.test", "Subject: Re: Please confirm", "Message-ID: <m1@example.test>", "Date: Fri, 27 Nov 2026 10:00:00 +0000"}, headers...)
	return []byte(strings.ReplaceAll(strings.Join(h, "\n")+"\n\n"+body, "\n", "\r\n"))
}

func TestParseMessage(t *testing.T) {
	for _, tt := range []struct {
		name     string
		raw      []byte
		body     string // the trimmed reply
		fromHTML bool
		err      error
	}{
		{"Plain", msg([]string{"Content-Type: text/plain; charset=utf-8"}, "I agree\n\nOn Fri, 27 Nov 2026 at 10:00, inwriting <service@example.test> wrote:\n> Please confirm\n"), "I agree", false, nil},
		{"NoContentType", msg(nil, "I agree\n"), "I agree", false, nil},
		{"QuotedPrintable", msg([]string{"Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: quoted-printable"}, "Je suis d=E2=80=99accord, =C3=A7a me va.\n"), "Je suis d’accord, ça me va.", false, nil},
		{"Base64", msg([]string{"Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64"}, "SWNoIHN0aW1tZSB6dSDwn5GN\n"), "Ich stimme zu 👍", false, nil},
		{"Latin1IsReallyWindows1252", msg([]string{"Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: quoted-printable"}, "=93I agree=94 =96 caf=E9 =80\n"), "“I agree” – café €", false, nil},
		{"Latin1ThatIsUTF8", msg([]string{"Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: 8bit"}, "café\n"), "café", false, nil},
		{"Undeclared8bit", msg([]string{"Content-Transfer-Encoding: 8bit"}, "caf\xe9\n"), "café", false, nil},
		{"KOI8R", msg([]string{"Content-Type: text/plain; charset=koi8-r", "Content-Transfer-Encoding: base64"}, "8NLJ18XU\n"), "Привет", false, nil},
		{"HTMLOnly", msg([]string{"Content-Type: text/html; charset=utf-8"}, "<html><body><p>I&nbsp;agree &amp; thanks</p><ul><li>one</li><li>two</li></ul><div class=\"gmail_quote\">On Fri wrote:<blockquote>Please confirm</blockquote></div></body></html>"), "I agree & thanks\n\n- one\n- two", true, nil},
		{"Alternative", msg([]string{"MIME-Version: 1.0", "Content-Type: multipart/alternative; boundary=b1"},
			"--b1\nContent-Type: text/plain; charset=utf-8\n\nPlain wins\n--b1\nContent-Type: text/html\n\n<p>HTML loses</p>\n--b1--\n"), "Plain wins", false, nil},
		{"NestedMultipart", msg([]string{"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=outer"},
			"--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/plain\n\nNested text\n--inner\nContent-Type: text/html\n\n<b>x</b>\n--inner--\n--outer\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=\"a.pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--outer--\n"), "Nested text", false, nil},
		{"AttachmentOnly", msg([]string{"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b"},
			"--b\nContent-Type: image/jpeg\nContent-Disposition: attachment; filename=\"photo.jpg\"\nContent-Transfer-Encoding: base64\n\n/9j/4AAQ\n--b--\n"), "", false, mailin.ErrNoText},
		{"UnknownCharset", msg([]string{"Content-Type: text/plain; charset=x-klingon"}, "qapla'\n"), "", false, mailin.ErrUnknownCharset},
		{"TruncatedMultipart", msg([]string{"MIME-Version: 1.0", "Content-Type: multipart/mixed; boundary=b"},
			"--b\nContent-Type: text/plain\n\nThe text before the cut\n--b\nContent-Type: text/pl"), "The text before the cut", false, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := mailin.ParseMessage(tt.raw, mailin.ParseOptions{})
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil && !errors.Is(err, mailin.ErrMalformed) {
				t.Fatal(err)
			}
			if got := mailin.Trim(m.Body).Text; got != tt.body || m.FromHTML != tt.fromHTML {
				t.Fatalf("Reply = %q (html %v), want %q (html %v)", got, m.FromHTML, tt.body, tt.fromHTML)
			}
		})
	}
}

func TestParseMessage_Header(t *testing.T) {
	raw := msg([]string{
		"Cc: Bob <BOB@example.test>",
		"Delivered-To: service+AbC@example.test",
		"X-Original-To: service+abc@example.test",
		"In-Reply-To: <iw.1@example.test>",
		"References: <iw.0@example.test>\n <iw.1@example.test>",
		"Content-Type: text/plain",
	}, "hi\n")
	m, err := mailin.ParseMessage(raw, mailin.ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.MessageID != "m1@example.test" || m.From.Address != "alice@example.test" || m.Cc[0].Address != "BOB@example.test" {
		t.Fatalf("header = %+v", m)
	}
	if len(m.DeliveredTo) != 2 || m.DeliveredTo[0] != "service+AbC@example.test" {
		t.Fatalf("DeliveredTo = %q", m.DeliveredTo)
	}
	if len(m.References) != 2 || m.References[1] != "iw.1@example.test" || m.InReplyTo[0] != "iw.1@example.test" {
		t.Fatalf("References %q In-Reply-To %q", m.References, m.InReplyTo)
	}
	if m.Subject != "Re: Please confirm" || m.Date.IsZero() {
		t.Fatalf("Subject %q Date %v", m.Subject, m.Date)
	}

	t.Run("DisplayNameTrick", func(t *testing.T) {
		raw := []byte("From: \"alice@example.test\" <mallory@evil.test>\r\nSubject: x\r\n\r\nI agree\r\n")
		m, _ := mailin.ParseMessage(raw, mailin.ParseOptions{})
		if m.From.Address != "mallory@evil.test" {
			t.Fatalf("From = %q, want mallory's address", m.From.Address)
		}
	})
}

func TestParseMessage_Errors(t *testing.T) {
	t.Run("TooLarge", func(t *testing.T) {
		raw := msg(nil, strings.Repeat("x", 2000))
		m, err := mailin.ParseMessage(raw, mailin.ParseOptions{MaxSize: 1000})
		if !errors.Is(err, mailin.ErrTooLarge) || m == nil || m.Body != "" {
			t.Fatalf("err = %v, want ErrTooLarge and nothing parsed", err)
		}
	})
	t.Run("Garbage", func(t *testing.T) {
		for _, raw := range [][]byte{nil, []byte("\x00\x01\x02"), []byte("no header at all"), []byte("Content-Type: multipart/mixed\r\n\r\nno boundary")} {
			if _, err := mailin.ParseMessage(raw, mailin.ParseOptions{}); err == nil {
				continue // some garbage parses as a header-less text; that is fine
			}
		}
	})
}

func TestHTMLToText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"a<br>b<br/>c", "a\nb\nc"},
		{"<ol><li>x</li><li>y</li></ol>", "1. x\n2. y"},
		{"<blockquote>quoted<br>text</blockquote>after", "> quoted\n> text\n\nafter"},
		{"<script>alert(1)</script><style>p{}</style>visible &lt;tag&gt; &euro;", "visible <tag> €"},
		{"<pre>  keep\n    spaces</pre>", "  keep\n    spaces"},
		{"x<hr>y", "x\n________________________________\ny"},
		{"<div>Reply</div><div id=\"divRplyFwdMsg\"><b>From:</b> Bob</div>", "Reply\n\n________________________________\nFrom: Bob"},
	} {
		if got := mailin.HTMLToText(tt.in); got != tt.want {
			t.Errorf("HTMLToText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
