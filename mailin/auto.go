package mailin

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// AutoKind says what kind of automatic mail a message is.
type AutoKind string

// The kinds of automatic mail. The zero value is mail from a person.
const (
	Human     AutoKind = ""
	AutoReply AutoKind = "auto-reply" // out of office, vacation, "I got your mail"
	Bounce    AutoKind = "bounce"     // a delivery status notification (RFC 3464)
	List      AutoKind = "list"       // mailing-list or bulk mail
	Receipt   AutoKind = "receipt"    // a read receipt (RFC 8098)
)

// Auto is the verdict on whether a message was written by a program. Such
// mail is never answered and never recorded as a confirmation or check-in.
type Auto struct {
	Kind   AutoKind
	Reason string // what gave it away, for the log

	// For a bounce: the recipients it reports and the Message-ID of the
	// mail that bounced, when the report carries it.
	Failed            []FailedRecipient
	OriginalMessageID string
}

// FailedRecipient is one recipient of a delivery status notification.
type FailedRecipient struct {
	Address    string
	Action     string // failed, delayed, delivered, relayed, expanded
	Status     string // e.g. 5.1.1
	Diagnostic string
}

// Permanent reports whether a bounce says delivery failed for good.
func (a Auto) Permanent() bool {
	for _, f := range a.Failed {
		if f.Action == "failed" || strings.HasPrefix(f.Status, "5") {
			return true
		}
	}
	return false
}

// Out-of-office subjects, as clients write them: the phrase, then a colon.
var autoSubjectRE = regexp.MustCompile(`(?i)^\s*(automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|out of (the )?office( reply| autoreply)?|vacation( reply)?|away from (the )?office|abwesenheitsnotiz|automatische antwort|abwesend|réponse automatique|absence|absent|respuesta automática|fuera de la oficina|resposta automática|ausente|fora do escritório|automatisch antwoord|afwezig|buiten kantoor|risposta automatica|fuori ufficio|automatiskt svar|fraværende|autosvar|automatyczna odpowiedź|автоматический ответ)\s*[:：]`)

// classifyAuto reads the verdict from the headers and, for reports, the
// structure of e.
func classifyAuto(m *Message, e *message.Entity) Auto {
	h := m.Header
	ct, params, _ := h.ContentType()
	if ct == "multipart/report" {
		switch strings.ToLower(params["report-type"]) {
		case "delivery-status", "global-delivery-status":
			return Auto{Kind: Bounce, Reason: "multipart/report; report-type=delivery-status"}
		case "disposition-notification":
			return Auto{Kind: Receipt, Reason: "multipart/report; report-type=disposition-notification"}
		}
	}
	from := ""
	if m.From != nil {
		from = strings.ToLower(m.From.Address)
	}
	local, _, _ := strings.Cut(from, "@")
	switch {
	case local == "mailer-daemon" || local == "postmaster":
		return Auto{Kind: Bounce, Reason: "From " + from}
	case strings.TrimSpace(h.Get("Return-Path")) == "<>":
		return Auto{Kind: AutoReply, Reason: "Return-Path: <>"}
	}
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		return Auto{Kind: AutoReply, Reason: "Auto-Submitted: " + v}
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply"} {
		if h.Has(k) {
			return Auto{Kind: AutoReply, Reason: k}
		}
	}
	if h.Has("X-MS-Exchange-Generated-Message-Source") || strings.EqualFold(h.Get("X-MS-Exchange-Inbox-Rules-Loop"), from) && from != "" {
		return Auto{Kind: AutoReply, Reason: "Exchange-generated"}
	}
	switch p := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); p {
	case "bulk", "junk", "list", "auto_reply":
		if p == "auto_reply" {
			return Auto{Kind: AutoReply, Reason: "Precedence: " + p}
		}
		return Auto{Kind: List, Reason: "Precedence: " + p}
	}
	if h.Has("List-Id") || h.Has("List-Unsubscribe") {
		return Auto{Kind: List, Reason: "List-Id or List-Unsubscribe"}
	}
	if h.Has("X-Failed-Recipients") {
		return Auto{Kind: Bounce, Reason: "X-Failed-Recipients"}
	}
	// X-Auto-Response-Suppress alone is not a verdict: Outlook puts it on
	// people's mail too.
	if autoSubjectRE.MatchString(m.Subject) {
		return Auto{Kind: AutoReply, Reason: "subject " + m.Subject}
	}
	return Auto{}
}

// readDeliveryStatus parses a message/delivery-status body (RFC 3464 §2):
// a block of per-message fields, then one block per recipient.
func readDeliveryStatus(body []byte) []FailedRecipient {
	r := bufio.NewReader(bytes.NewReader(body))
	var out []FailedRecipient
	for first := true; ; first = false {
		h, err := textproto.ReadHeader(r)
		if err != nil && h.Len() == 0 {
			break
		}
		if !first || h.Has("Final-Recipient") || h.Has("Original-Recipient") {
			addr := h.Get("Final-Recipient")
			if addr == "" {
				addr = h.Get("Original-Recipient")
			}
			if _, a, ok := strings.Cut(addr, ";"); ok {
				addr = a
			}
			addr = strings.Trim(strings.TrimSpace(addr), "<>")
			if addr != "" {
				out = append(out, FailedRecipient{
					Address:    addr,
					Action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
					Status:     strings.TrimSpace(h.Get("Status")),
					Diagnostic: strings.TrimSpace(h.Get("Diagnostic-Code")),
				})
			}
		}
		if err != nil {
			break
		}
		// Skip blank lines between blocks.
		for {
			b, err := r.Peek(1)
			if err != nil || (b[0] != '\n' && b[0] != '\r') {
				break
			}
			r.ReadByte()
		}
		if _, err := r.Peek(1); err != nil {
			break
		}
	}
	return out
}

// originalMessageID reads the Message-ID from the headers of the bounced
// mail (a text/rfc822-headers or message/rfc822 part).
func originalMessageID(headers []byte) string {
	h, _ := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(headers)))
	return strings.Trim(strings.TrimSpace(h.Get("Message-Id")), "<>")
}
