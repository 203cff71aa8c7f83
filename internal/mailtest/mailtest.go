// Package mailtest reads composed messages back, for tests that check what
// a recipient would see.
package mailtest

import (
	"bytes"
	"io"
	"testing"

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
