// Package mailin reads the mail that comes in: it parses a message, finds
// the text its sender wrote (MIME, charsets, HTML, quoted history and
// signatures), reads what they meant (intent, check-in answers), and tells
// automatic mail (auto-replies, bounces) from people.
package mailin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"
	gocharset "github.com/emersion/go-message/charset"
	gomsgmail "github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"
)

// DefaultMaxSize is the largest message ParseMessage reads by default.
const DefaultMaxSize = 10 << 20

// Errors of ParseMessage, for errors.Is.
var (
	ErrTooLarge       = errors.New("the message is larger than the service accepts")
	ErrUnknownCharset = errors.New("the text is in a character set the service cannot read")
	ErrNoText         = errors.New("the message has no text part")
	ErrMalformed      = errors.New("the message is not well-formed MIME")
)

func init() {
	message.CharsetReader = charsetReader
}

// charsetReader decodes a text part's charset. Text labelled ISO-8859-1 or
// US-ASCII is read as windows-1252, its superset that mail programs really
// write (curly quotes, the euro sign), unless it is valid UTF-8, which is
// the other common mislabel.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "cp1252", "windows-1252", "x-cp1252":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		if utf8.Valid(b) {
			return bytes.NewReader(b), nil
		}
		return charmap.Windows1252.NewDecoder().Reader(bytes.NewReader(b)), nil
	}
	return gocharset.Reader(label, r)
}

// ParseOptions limits ParseMessage.
type ParseOptions struct {
	MaxSize int64 // 0 means DefaultMaxSize
}

// Message is an inbound message, parsed.
type Message struct {
	Header      gomsgmail.Header
	MessageID   string // without angle brackets; "" when the message has none
	From        *mail.Address
	To, Cc      []*mail.Address
	DeliveredTo []string // Delivered-To and X-Original-To
	Subject     string
	InReplyTo   []string // without angle brackets
	References  []string
	Date        time.Time
	Size        int

	Body        string // the text: the first text/plain part, else HTML as text
	FromHTML    bool   // Body came from an HTML part
	HTML        string // the first text/html part, as HTML; "" for none
	Attachments []Attachment

	Auto Auto // auto-reply or bounce verdict
}

// Attachment is a part that is not the text.
type Attachment struct {
	Name        string
	ContentType string
	Size        int
}

// ParseMessage parses raw. A message over the size limit is not parsed
// (ErrTooLarge). A message whose text cannot be read returns an error that
// says why (ErrUnknownCharset, ErrNoText, ErrMalformed), along with the
// Message as far as it was read, so the service can still answer the
// sender. It never panics on bad input.
func ParseMessage(raw []byte, opts ParseOptions) (*Message, error) {
	max := opts.MaxSize
	if max <= 0 {
		max = DefaultMaxSize
	}
	m := &Message{Size: len(raw)}
	if int64(len(raw)) > max {
		return m, fmt.Errorf("%w (%d bytes; the limit is %d)", ErrTooLarge, len(raw), max)
	}
	e, err := message.Read(bytes.NewReader(stripMbox(raw)))
	if e == nil {
		return m, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return m, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	// A single-part message in an unknown charset: its text is unreadable.
	topUnknown := message.IsUnknownCharset(err)
	m.Header = gomsgmail.Header{Header: e.Header}
	m.readHeader()

	var plain, htmlText *string
	var textErr error
	var dsn, origHeaders []byte
	walkErr := e.Walk(func(path []int, part *message.Entity, err error) error {
		if err != nil {
			if message.IsUnknownCharset(err) {
				ct, params, _ := part.Header.ContentType()
				if strings.HasPrefix(ct, "text/") && !isAttachment(part) && textErr == nil {
					textErr = fmt.Errorf("%w (%q)", ErrUnknownCharset, params["charset"])
				}
				io.Copy(io.Discard, part.Body)
				return nil
			}
			return err
		}
		ct, params, _ := part.Header.ContentType()
		if strings.HasPrefix(ct, "multipart/") {
			return nil
		}
		if len(path) == 0 && topUnknown && (strings.HasPrefix(ct, "text/") || ct == "") {
			_, params, _ := part.Header.ContentType()
			textErr = fmt.Errorf("%w (%q)", ErrUnknownCharset, params["charset"])
			return nil
		}
		body, err := io.ReadAll(io.LimitReader(part.Body, max))
		if err != nil {
			if message.IsUnknownCharset(err) {
				return nil
			}
			return err
		}
		switch ct {
		case "message/delivery-status", "message/global-delivery-status":
			dsn = body
		case "text/rfc822-headers", "message/rfc822", "message/global", "message/global-headers":
			if origHeaders == nil {
				origHeaders = body
			}
		}
		if isAttachment(part) || !(ct == "text/plain" || ct == "text/html" || ct == "") {
			name := params["name"]
			if _, dp, err := part.Header.ContentDisposition(); err == nil && dp["filename"] != "" {
				name = dp["filename"]
			}
			m.Attachments = append(m.Attachments, Attachment{Name: name, ContentType: ct, Size: len(body)})
			return nil
		}
		text := string(body)
		if !utf8.ValidString(text) {
			// Undeclared 8-bit text: the windows-1252 reading is the one
			// that never fails and is right far more often than not.
			if dec, err := charmap.Windows1252.NewDecoder().String(text); err == nil {
				text = dec
			}
		}
		switch {
		case (ct == "text/plain" || ct == "") && plain == nil:
			plain = &text
		case ct == "text/html" && htmlText == nil:
			htmlText = &text
		}
		return nil
	})
	switch {
	case plain != nil && strings.TrimSpace(*plain) != "":
		m.Body = *plain
	case htmlText != nil:
		m.Body = HTMLToText(*htmlText)
		m.FromHTML = true
	case plain != nil:
		m.Body = *plain
	}
	m.Body = strings.ToValidUTF8(m.Body, "\uFFFD")
	if htmlText != nil {
		m.HTML = strings.ToValidUTF8(*htmlText, "\uFFFD")
	}
	m.Auto = classifyAuto(m, dsn, origHeaders)
	switch {
	case plain == nil && htmlText == nil && textErr != nil:
		return m, textErr
	case walkErr != nil:
		return m, fmt.Errorf("%w: %v", ErrMalformed, walkErr)
	case plain == nil && htmlText == nil:
		return m, ErrNoText
	}
	return m, nil
}

// stripMbox drops what some stores put before a message's header: an mbox
// "From " line, blank lines or a line of spaces.
func stripMbox(raw []byte) []byte {
	for len(raw) > 0 {
		line, rest, _ := bytes.Cut(raw, []byte("\n"))
		if bytes.HasPrefix(line, []byte("From ")) || len(bytes.TrimSpace(line)) == 0 {
			raw = rest
			continue
		}
		break
	}
	return raw
}

func isAttachment(part *message.Entity) bool {
	disp, _, err := part.Header.ContentDisposition()
	return err == nil && disp == "attachment"
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

func (m *Message) readHeader() {
	h := m.Header
	if id, err := h.MessageID(); err == nil {
		m.MessageID = id
	}
	if from, err := h.AddressList("From"); err == nil && len(from) > 0 {
		m.From = (*mail.Address)(from[0])
	} else if v := h.Get("From"); v != "" {
		// An unparsable From is kept as written, address-less: it can
		// never match a party.
		m.From = &mail.Address{Name: v}
	}
	for _, f := range []struct {
		key string
		to  *[]*mail.Address
	}{{"To", &m.To}, {"Cc", &m.Cc}} {
		if as, err := h.AddressList(f.key); err == nil {
			for _, a := range as {
				*f.to = append(*f.to, (*mail.Address)(a))
			}
		}
	}
	for _, key := range []string{"Delivered-To", "X-Original-To"} {
		fields := h.FieldsByKey(key)
		for fields.Next() {
			if v := strings.Trim(strings.TrimSpace(fields.Value()), "<>"); v != "" {
				m.DeliveredTo = append(m.DeliveredTo, v)
			}
		}
	}
	if s, err := h.Subject(); err == nil {
		m.Subject = s
	} else if s, err := wordDecoder.DecodeHeader(h.Get("Subject")); err == nil {
		m.Subject = s
	} else {
		m.Subject = h.Get("Subject")
	}
	m.InReplyTo, _ = h.MsgIDList("In-Reply-To")
	m.References, _ = h.MsgIDList("References")
	m.Date, _ = h.Date()
}
