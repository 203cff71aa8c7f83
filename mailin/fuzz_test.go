package mailin_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

// seedCorpus adds the shared corpus's inputs, where they lie, as seeds.
func seedCorpus(f *testing.F, add func([]byte)) {
	paths, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*"))
	n := 0
	for _, p := range paths {
		if strings.HasSuffix(p, ".expected.txt") || strings.HasSuffix(p, ".md") || strings.Contains(p, "LICENSE") {
			continue
		}
		if b, err := os.ReadFile(p); err == nil && n < 300 {
			add(b)
			n++
		}
	}
}

// within fails f's current input if fn takes longer than d: no input may
// make the reader hang.
func within(t *testing.T, d time.Duration, fn func()) {
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("took longer than %v", d)
	}
}

func FuzzTrim(f *testing.F) {
	for _, s := range []string{"I agree", "a\n\nOn x wrote:\n> y", "-- \nsig", "\r\n\r\n>", "```\n--\n```", "From: a\nSent: b\nTo: c\nSubject: d"} {
		f.Add(s)
	}
	seedCorpus(f, func(b []byte) { f.Add(string(b)) })
	f.Fuzz(func(t *testing.T, in string) {
		var r mailin.Reply
		within(t, 2*time.Second, func() { r = mailin.Trim(in) })
		checkFromInput(t, in, r)
	})
}

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(dsn))
	f.Add(msg([]string{"Content-Type: multipart/alternative; boundary=b"}, "--b\nContent-Type: text/html\n\n<p>x</p>\n--b--\n"))
	f.Add(msg([]string{"Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: quoted-printable"}, "=93x=94\n"))
	seedCorpus(f, func(b []byte) {
		if len(b) < 64<<10 {
			f.Add(b)
		}
	})
	f.Fuzz(func(t *testing.T, raw []byte) {
		within(t, 2*time.Second, func() {
			m, _ := mailin.ParseMessage(raw, mailin.ParseOptions{MaxSize: 1 << 20})
			if m == nil {
				t.Fatal("nil Message")
			}
		})
	})
}

// qualifiedRE finds what must never be in a text read as agreement.
var qualifiedRE = regexp.MustCompile(`(?i)(\bnot\b|n't|\bno\b|except|\bbut\b|\bif\b|\?|unless|\bpas\b|sauf|\bmais\b|\bnicht\b|außer|\baber\b|\bpero\b|excepto|\bniet\b|behalve|\bmaar\b|\bnão\b|exceto|\bmas\b|👎)`)

func FuzzReadIntent(f *testing.F) {
	for _, s := range []string{"I agree", "I agree except point 2", "agree?", "👍", "pause until 2027-01-10", "fix: 1 kept", "Je suis d'accord", "I don't agree", "1 kept, 2 partly"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var in agreements.Intent
		within(t, 2*time.Second, func() {
			in = read(text, agreements.ReplyContext{Purpose: agreements.PurposeConfirm, Pending: true, Commitments: []string{"a", "b"}}).Intent
			read(text, agreements.ReplyContext{Purpose: agreements.PurposeCheckIn, Commitments: []string{"a", "b"}, Others: []string{"Bob"}})
			read(text, agreements.ReplyContext{Purpose: agreements.PurposeCommands, RoundOpen: true, Commitments: []string{"a", "b"}, Others: []string{"Bob"}})
		})
		if in.Kind == agreements.IntentAgree && qualifiedRE.MatchString(text) {
			t.Fatalf("%q read as agreement, but it is qualified", text)
		}
	})
}
