package agreements

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
)

// StartRules say who may start an agreement by writing to the service's
// address (design F1), and the limits that keep the service from becoming
// a way to mail strangers.
type StartRules struct {
	// Allow lists the addresses ("alice@example.org") and domains
	// ("@example.org") whose people may start an agreement by mail.
	// Empty, nobody may.
	Allow []string

	// PerDay is how many start messages from one person are answered in
	// a day: agreements started and answers saying what is missing
	// together. 0 is 3.
	PerDay int

	// DeclinedWait is how long a person who declined an agreement that
	// someone started is not invited again by them.
	DeclinedWait time.Duration

	// DefaultTimeZone is the time zone of parties whose proposal gives
	// none; "" asks for it.
	DefaultTimeZone string
}

// Allows reports whether the person at address addr may start an
// agreement by mail.
func (r StartRules) Allows(addr string) bool {
	addr = strings.ToLower(strings.TrimSpace(addr))
	_, domain, ok := strings.Cut(addr, "@")
	if !ok || addr == "" {
		return false
	}
	for _, a := range r.Allow {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == addr || a == "@"+domain {
			return true
		}
	}
	return false
}

func (r StartRules) perDay() int {
	if r.PerDay <= 0 {
		return 3
	}
	return r.PerDay
}

// Why a start message got an answer instead of an agreement (MailData.Reason
// of a start-help mail).
const (
	StartUnreadable = "unreadable" // the text is not a whole agreement: Problem, Understood, Template
	StartTooMany    = "too-many"   // more than one other person was named: Understood
	StartLimit      = "limit"      // the sender reached the day's limit: Count
	StartDeclined   = "declined"   // the other person declined one lately: Author, Until
)

// startRequest reports whether in, which carries no reply token and
// answers none of our mails, asks to start an agreement: it is written to
// the service's own address with someone else in To or Cc. It returns
// the others, as written.
func (db *DB) startRequest(in *Inbound) ([]*mail.Address, bool) {
	if db.ServiceAddress == "" || in.From == "" {
		return nil, false
	}
	toService := false
	var others []*mail.Address
	for _, a := range slices.Concat(in.To, in.Cc) {
		switch {
		case strings.EqualFold(a.Address, db.ServiceAddress):
			toService = true
		case IsServiceAddress(a.Address, db.ServiceAddress), strings.EqualFold(a.Address, in.From):
		case slices.ContainsFunc(others, func(o *mail.Address) bool { return strings.EqualFold(o.Address, a.Address) }):
		default:
			others = append(others, a)
		}
	}
	return others, toService && len(others) > 0
}

// start handles in, a message that asks to start an agreement with
// others. Only an allowed sender gets anything: an agreement that every
// party is asked to confirm when the text reads whole, else one answer to
// the sender alone. Nobody else is mailed until the agreement reads
// whole. Anyone else gets no answer at all: the attempt is logged.
func (db *DB) start(ctx context.Context, tx *Tx, in *Inbound, others []*mail.Address) (InboundOutcome, string, error) {
	out := InboundOutcome{Folder: FolderUnmatched}
	from := strings.ToLower(strings.TrimSpace(in.From))
	if !db.Start.Allows(from) {
		db.Logger.Warn("start by mail refused: the sender may not start agreements", "from", from, "key", in.Key)
		out.Outcome = "start-refused"
		return out, "the sender may not start agreements by mail (start.allow)", nil
	}
	if db.RequireAuth && !in.AuthPass {
		db.Logger.Warn("start by mail refused: authentication did not pass", "from", from, "auth", in.AuthResult, "key", in.Key)
		out.Folder, out.Outcome = FolderRejected, "rejected-auth"
		return out, "authentication did not pass: " + in.AuthResult, nil
	}
	initiator := &mail.Address{Name: in.FromName, Address: in.From}
	// answer queues d to the sender alone, under key, threaded under
	// their message, and reports whether it was queued.
	answer := func(key string, d MailData) (bool, error) {
		d.Kind, d.Recipient = MailStartHelp, addressParty(initiator)
		return queueMail(ctx, tx, mailRequest{key: key, kind: MailStartHelp, answer: true, data: d, inReplyTo: strings.Trim(in.MessageID, "<>")})
	}
	// refuse answers the message once, as outcome.
	refuse := func(outcome string, d MailData) (InboundOutcome, string, error) {
		if _, err := answer(fmt.Sprintf("%s:%s", MailStartHelp, in.Key), d); err != nil {
			return out, "", err
		}
		out.Outcome = outcome
		return out, "answered to its writer alone: " + d.Reason, nil
	}

	// The day's limit: every answer counts, so that nothing can make the
	// service write to one person without end. Over it, one answer a day
	// says so.
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbox WHERE from_addr = ? AND received_at > ? AND outcome IN ('started', 'start-unclear', 'start-too-many', 'start-declined')`,
		from, formatTime(tx.now.Add(-24*time.Hour))).Scan(&n); err != nil {
		return out, "", fmt.Errorf("count starts: %w", err)
	}
	if n >= db.Start.perDay() {
		queued, err := answer(fmt.Sprintf("%s:limit:%s:%s", MailStartHelp, from, tx.now.Format(time.DateOnly)), MailData{Reason: StartLimit, Count: db.Start.perDay()})
		if err != nil {
			return out, "", err
		}
		out.Outcome = "start-limit"
		if !queued {
			return out, "the sender reached the day's limit of starts; told today already", nil
		}
		return out, "the sender reached the day's limit of starts", nil
	}

	subject := strings.TrimSpace(replyPrefixRE.ReplaceAllString(in.Subject, ""))
	if len(others) > MaxParties-1 {
		var named []string
		for _, o := range others {
			named = append(named, (&Party{Name: o.Name, Address: o.Address}).Display())
		}
		return refuse("start-too-many", MailData{Reason: StartTooMany, Understood: named, Title: subject})
	}

	// A person who declined one of the sender's agreements lately is not
	// invited again by them yet.
	if until, err := declinedUntil(ctx, tx, from, others[0].Address, db.Start.DeclinedWait); err != nil {
		return out, "", err
	} else if until.After(tx.now) {
		author := addressParty(others[0])
		return refuse("start-declined", MailData{Reason: StartDeclined, Author: &author, Until: until, Title: subject})
	}

	text := db.Reader.ReadMessage(ReplyMessage{Subject: in.Subject, Body: in.Body}, db.answered(ctx, tx, in))
	pin := ProposalInput{Text: text, Title: subject, From: initiator, Others: others, DefaultTimeZone: db.Start.DefaultTimeZone}
	terms, err := ParseProposal(pin)
	if err != nil {
		draft := DraftProposal(pin)
		return refuse("start-unclear", MailData{Reason: StartUnreadable, Problem: sentence(strings.Join(draft.Problems, "; ")),
			Understood: draft.Understood, Template: draft.Template, Title: subject})
	}
	a, err := db.createAgreementTx(ctx, tx, terms, StatusPending)
	if err != nil {
		var de *Error
		if errors.As(err, &de) { // read whole, but not valid (a title too long)
			draft := DraftProposal(pin)
			return refuse("start-unclear", MailData{Reason: StartUnreadable, Problem: sentence(de.Message),
				Understood: draft.Understood, Template: draft.Template, Title: subject})
		}
		return out, "", err
	}
	out.Folder, out.Outcome, out.AgreementID = FolderProcessed, "started", a.ID
	out.PartyID = a.Terms.Parties[0].ID
	return out, fmt.Sprintf("agreement %d started by mail", a.ID), nil
}

// replyPrefixRE is what mail clients put before a subject they answer or
// forward, in the six languages, once or more.
var replyPrefixRE = regexp.MustCompile(`(?i)^(\s*(re|fwd?|aw|wg|sv|vs|tr|rv|enc|doorst|antw)\s*(\[\d+\])?\s*:\s*)+`)

// answered returns the mail of ours that in answers, as sent, for the
// reader to cut its quote; nil for none.
func (db *DB) answered(ctx context.Context, tx *Tx, in *Inbound) []byte {
	for _, ref := range in.References {
		var raw []byte
		if err := tx.QueryRowContext(ctx, `SELECT raw FROM outbox WHERE message_id = ?`, strings.Trim(ref, "<>")).Scan(&raw); err == nil && len(raw) > 0 {
			return raw
		}
	}
	return nil
}

// declinedUntil returns until when the person at other is not invited
// again by initiator: wait after the last time other declined an
// agreement initiator started. The zero time when there is none.
func declinedUntil(ctx context.Context, tx *Tx, initiator, other string, wait time.Duration) (time.Time, error) {
	if wait <= 0 {
		return time.Time{}, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT e.at, e.data FROM agreements a
		JOIN parties i ON i.agreement_id = a.id AND i.position = 1 AND i.address_key = ?
		JOIN parties o ON o.agreement_id = a.id AND o.address_key = ?
		JOIN events e ON e.agreement_id = a.id AND e.type = ?
		WHERE a.status = ? AND e.at > ?`, strings.ToLower(initiator), strings.ToLower(other), EventDeclined, StatusDeclined, formatTime(tx.now.Add(-wait)))
	if err != nil {
		return time.Time{}, fmt.Errorf("find declines: %w", err)
	}
	defer rows.Close()
	var until time.Time
	for rows.Next() {
		var at, data string
		if err := rows.Scan(&at, &data); err != nil {
			return time.Time{}, err
		}
		var ev ReplyEvent
		if json.Unmarshal([]byte(data), &ev) != nil || !strings.EqualFold(ev.Party, other) {
			continue
		}
		t, err := parseTime(at)
		if err != nil {
			return time.Time{}, err
		}
		if t.Add(wait).After(until) {
			until = t.Add(wait)
		}
	}
	return until, rows.Err()
}

// addressParty is a person named by address, as a mail shows them.
func addressParty(a *mail.Address) MailParty {
	return MailParty{Name: a.Name, FirstName: (&Party{Name: a.Name, Address: a.Address}).FirstName(), Address: a.Address}
}
