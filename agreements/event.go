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
