package agreements

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// EventType names what happened to an agreement.
type EventType string

// The event types of the log.
const (
	EventCreated      EventType = "created"
	EventVersionAdded EventType = "version_added"
	EventProposed     EventType = "proposed"
	EventMailed       EventType = "mailed"
	EventConfirmed    EventType = "confirmed"
	EventActivated    EventType = "activated"
	EventDeclined     EventType = "declined"
	EventCommented    EventType = "commented"
	EventCheckIn      EventType = "checkin_recorded"
	EventPaused       EventType = "paused"
	EventResumed      EventType = "resumed"
	EventEnded        EventType = "ended"
	EventExpired      EventType = "expired"
	EventUnsubscribed EventType = "unsubscribed"
	EventResubscribed EventType = "resubscribed"
	// EventStopAsked: a party replied "stop" and was asked to say it
	// again; nothing changed.
	EventStopAsked EventType = "stop_asked"
)

// Event is one entry of an agreement's append-only log. Hash is the SHA-256
// of PrevHash and the event's own content (see EventHash), so the log is a
// hash chain: changing or removing an entry breaks every hash after it.
type Event struct {
	AgreementID int64           `json:"agreement_id"`
	Seq         int64           `json:"seq"` // 1, 2, 3, … within the agreement
	Type        EventType       `json:"type"`
	At          time.Time       `json:"at"`
	Data        json.RawMessage `json:"data"`
	PrevHash    string          `json:"prev_hash"` // "" for the first event
	Hash        string          `json:"hash"`
}

// EventHash returns the hash of e given its PrevHash: the lowercase hex
// SHA-256 of these lines joined by LF: "inwriting event v1", PrevHash,
// AgreementID, Seq, Type, At in UTC RFC 3339 with nanoseconds, and Data as
// compact JSON. Indenting Data (as an export does) does not change the hash.
func EventHash(e Event) string {
	var data bytes.Buffer
	if len(e.Data) > 0 {
		if err := json.Compact(&data, e.Data); err != nil {
			data.Reset()
			data.Write(e.Data) // not JSON: hash the bytes; verification will differ from any stored hash
		}
	}
	h := sha256.New()
	for _, s := range []string{
		"inwriting event v1",
		e.PrevHash,
		strconv.FormatInt(e.AgreementID, 10),
		strconv.FormatInt(e.Seq, 10),
		string(e.Type),
		e.At.UTC().Format(time.RFC3339Nano),
	} {
		h.Write([]byte(s))
		h.Write([]byte{'\n'})
	}
	h.Write(data.Bytes())
	return hex.EncodeToString(h.Sum(nil))
}

// ChainError says where and how an event log fails to verify.
type ChainError struct {
	Seq    int64 // the first event that does not verify; 0 for the log as a whole
	Reason string
}

func (e *ChainError) Error() string {
	if e.Seq == 0 {
		return "event log: " + e.Reason
	}
	return fmt.Sprintf("event log: event %d: %s", e.Seq, e.Reason)
}

// VerifyChain checks that events, in order, form an unbroken hash chain for
// one agreement that ends in head after count events. It returns a
// *ChainError for an edited, inserted, reordered or deleted event. Pass head
// "" and count -1 to check the links alone (the end of the chain is then not
// known, so a removed last event cannot be noticed).
func VerifyChain(events []Event, head string, count int64) error {
	prev := ""
	for i, e := range events {
		want := int64(i + 1)
		switch {
		case e.Seq != want:
			return &ChainError{Seq: want, Reason: fmt.Sprintf("missing (found event %d in its place)", e.Seq)}
		case e.AgreementID != events[0].AgreementID:
			return &ChainError{Seq: e.Seq, Reason: "belongs to another agreement"}
		case e.PrevHash != prev:
			return &ChainError{Seq: e.Seq, Reason: "does not link to the event before it"}
		case EventHash(e) != e.Hash:
			return &ChainError{Seq: e.Seq, Reason: "its content does not match its hash (edited)"}
		}
		prev = e.Hash
	}
	if count >= 0 && int64(len(events)) != count {
		return &ChainError{Reason: fmt.Sprintf("%d events where %d were recorded (removed or added at the end)", len(events), count)}
	}
	if head != "" && prev != head {
		return &ChainError{Reason: "the last event is not the recorded head of the chain"}
	}
	return nil
}

// A Payload is the data of an event, one type for each kind of event: the
// log's contract with whoever reads it (show, export, verify). The JSON
// names are part of that contract: events already logged keep them.
type Payload interface{ payload() }

// CreatedEvent is the data of EventCreated.
type CreatedEvent struct {
	Title   string   `json:"title"`
	Parties []string `json:"parties"` // addresses, in the agreement's order
	Status  Status   `json:"status"`  // draft or pending
}

// VersionEvent is the data of EventVersionAdded and EventActivated: the
// version added, or the version whose confirmation by all made the
// agreement active.
type VersionEvent struct {
	Version     int    `json:"version"`
	Fingerprint string `json:"fingerprint"`
}

// MailedEvent is the data of EventMailed: a mail handed to the mail server.
type MailedEvent struct {
	Kind      MailKind `json:"kind"`
	To        string   `json:"to"`
	MessageID string   `json:"message_id"` // with angle brackets
}

// ConfirmedEvent is the data of EventConfirmed: a party confirmed a
// version, by the message MessageID.
type ConfirmedEvent struct {
	Version     int    `json:"version"`
	Fingerprint string `json:"fingerprint"`
	Party       string `json:"party"`
	MessageID   string `json:"message_id"`
	AuthResult  string `json:"auth_result"`
}

// ReplyEvent is the data of EventDeclined and EventCommented: what a
// party said of a version; Text is the comment.
type ReplyEvent struct {
	Version   int    `json:"version"`
	Party     string `json:"party"`
	MessageID string `json:"message_id"`
	Text      string `json:"text,omitempty"`
}

// CheckInEvent is the data of EventCheckIn: a party's answer to the round
// of day Round, by commitment number.
type CheckInEvent struct {
	Round     string         `json:"round"`
	Party     string         `json:"party"`
	MessageID string         `json:"message_id"`
	Statuses  map[int]string `json:"statuses"`
}

// ChangeEvent is the data of EventProposed, EventPaused, EventResumed,
// EventEnded, EventExpired, EventUnsubscribed, EventResubscribed and
// EventStopAsked. By
// is the address of the party who asked (or "pause ended"); Until is the
// end of a pause, in UTC; Paused says that an unsubscribe paused the
// check-ins; Message is what brought a party back.
type ChangeEvent struct {
	Version int    `json:"version,omitempty"`
	By      string `json:"by,omitempty"`
	Until   string `json:"until,omitempty"`
	Paused  bool   `json:"paused,omitempty"`
	Message string `json:"message,omitempty"`
}

func (CreatedEvent) payload()   {}
func (VersionEvent) payload()   {}
func (MailedEvent) payload()    {}
func (ConfirmedEvent) payload() {}
func (ReplyEvent) payload()     {}
func (CheckInEvent) payload()   {}
func (ChangeEvent) payload()    {}

// Payload decodes the data of e into the type for its Type. An event of a
// type this inwriting does not know is an error.
func (e Event) Payload() (Payload, error) {
	var p Payload
	var err error
	switch e.Type {
	case EventCreated:
		p, err = decodePayload[CreatedEvent](e.Data)
	case EventVersionAdded, EventActivated:
		p, err = decodePayload[VersionEvent](e.Data)
	case EventMailed:
		p, err = decodePayload[MailedEvent](e.Data)
	case EventConfirmed:
		p, err = decodePayload[ConfirmedEvent](e.Data)
	case EventDeclined, EventCommented:
		p, err = decodePayload[ReplyEvent](e.Data)
	case EventCheckIn:
		p, err = decodePayload[CheckInEvent](e.Data)
	case EventProposed, EventPaused, EventResumed, EventEnded, EventExpired, EventUnsubscribed, EventResubscribed, EventStopAsked:
		p, err = decodePayload[ChangeEvent](e.Data)
	default:
		return nil, fmt.Errorf("event %d: unknown type %q", e.Seq, e.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("event %d (%s): %w", e.Seq, e.Type, err)
	}
	return p, nil
}

func decodePayload[T Payload](data json.RawMessage) (Payload, error) {
	var d T
	err := json.Unmarshal(data, &d)
	return d, err
}
