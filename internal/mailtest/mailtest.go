// Package mailtest helps tests that check what a recipient would see: it
// reads composed messages back, holds the data of the golden mails and
// compares with golden files, and waits for what a real mail server does.
package mailtest

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/emersion/go-message/mail"
)

// Message is a message read back: its header, its text and HTML parts, and
// its attachments by file name.
type Message struct {
	Header      mail.Header
	Text, HTML  string
	Attachments map[string]string
}

// Parse reads raw, failing tb if it is not a well-formed message.
func Parse(tb testing.TB, raw []byte) Message {
	tb.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	m := Message{Header: r.Header, Attachments: map[string]string{}}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			tb.Fatal(err)
		}
		body, _ := io.ReadAll(part.Body)
		switch h := part.Header.(type) {
		case *mail.InlineHeader:
			switch ct, _, _ := h.ContentType(); ct {
			case "text/plain":
				m.Text = string(body)
			case "text/html":
				m.HTML = string(body)
			}
		case *mail.AttachmentHeader:
			name, _ := h.Filename()
			m.Attachments[name] = string(body)
		}
	}
	return m
}

// Hang is how long Eventually waits before it calls a wait a hang. It
// judges nothing about speed: a busy machine with two cores takes seconds
// for what takes milliseconds here, and a test must pass on it.
const Hang = 2 * time.Minute

// Eventually checks cond until it holds, for what happens outside the
// test's control: a real mail server delivering, a process it started
// getting there. A loop of the service's own is tested on synctest or an
// injected clock instead. If cond does not hold within Hang, the test
// fails, saying what did not happen.
func Eventually(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(Hang)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not within %v; something hangs", what, Hang)
		}
		time.Sleep(wait)
	}
}
