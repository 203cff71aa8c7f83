package mailin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/inwriting/inwriting/agreements"
)

// InboundStore is what the receiver needs of the store. *agreements.DB
// meets it.
type InboundStore interface {
	RecordInbound(ctx context.Context, in agreements.Inbound) (agreements.InboundOutcome, error)
	FindHandled(ctx context.Context, mailbox string, uidValidity, uid uint32) (*agreements.HandledMessage, error)
}

// Delivery is one message fetched from a mailbox.
type Delivery struct {
	Mailbox     string
	UIDValidity uint32
	UID         uint32
	Raw         []byte
	// TooLarge is set when only the header was fetched, because the
	// message is over the size limit; Raw then holds the header.
	TooLarge bool
	Size     int64
}

// Receiver reads each delivered message and records it in the store: it
// is the poller's Handler.
type Receiver struct {
	Store InboundStore

	// Address is the service's mailbox: replies come to its plus-addresses.
	Address string

	// AuthServID is the authserv-id of the receiving server whose
	// Authentication-Results are trusted (RFC 8601 §5); "" trusts none.
	AuthServID string

	MaxSize int64
}

// Handled reports where a message already handled at uid went.
func (r *Receiver) Handled(ctx context.Context, mailbox string, uidValidity, uid uint32) (agreements.Folder, bool, error) {
	h, err := r.Store.FindHandled(ctx, mailbox, uidValidity, uid)
	if errors.Is(err, agreements.ErrNotFound) {
		return "", false, nil
	} else if err != nil {
		return "", false, err
	}
	return h.Folder, true, nil
}

// Deliver reads d and records it; it returns the folder to move it to.
// An error means nothing was recorded: leave the message and try again.
func (r *Receiver) Deliver(ctx context.Context, d Delivery) (agreements.Folder, error) {
	in := r.Read(d)
	// A handling that has begun finishes, even when the poller is
	// stopping: it is one short transaction.
	out, err := r.Store.RecordInbound(context.WithoutCancel(ctx), in)
	if err != nil {
		return "", err
	}
	return out.Folder, nil
}

// Read turns a delivery into what the store records.
func (r *Receiver) Read(d Delivery) agreements.Inbound {
	m, err := ParseMessage(d.Raw, ParseOptions{MaxSize: r.MaxSize})
	if d.TooLarge {
		// Only the header is here: read it for who and what, not the text.
		m, _ = ParseMessage(d.Raw, ParseOptions{MaxSize: r.MaxSize})
		err = fmt.Errorf("%w (%d bytes)", ErrTooLarge, d.Size)
	}
	in := agreements.Inbound{Mailbox: d.Mailbox, UIDValidity: d.UIDValidity, UID: d.UID}
	if m.MessageID != "" {
		in.MessageID = "<" + m.MessageID + ">"
		in.Key = in.MessageID
	} else {
		sum := sha256.Sum256(d.Raw)
		in.Key = "sha256:" + hex.EncodeToString(sum[:])
	}
	if m.From != nil {
		in.From, in.FromName = m.From.Address, m.From.Name
	}
	in.To, in.Cc = m.To, m.Cc
	in.Tokens = r.tokens(m)
	in.References = append(append([]string{}, m.InReplyTo...), m.References...)
	if m.Auto.Kind != Human {
		in.Auto, in.AutoReason = string(m.Auto.Kind), m.Auto.Reason
		if m.Auto.Kind == Bounce {
			b := &agreements.InboundBounce{Permanent: m.Auto.Permanent(), OriginalMessageID: m.Auto.OriginalMessageID}
			for _, f := range m.Auto.Failed {
				b.Recipients = append(b.Recipients, f.Address)
			}
			in.Bounce = b
		}
	}
	switch {
	case errors.Is(err, ErrTooLarge):
		in.Unreadable, in.SizeLimit = agreements.UnreadableTooLarge, r.maxSize()
	case errors.Is(err, ErrUnknownCharset):
		in.Unreadable = agreements.UnreadableCharset
	case errors.Is(err, ErrNoText):
		in.Unreadable = agreements.UnreadableNoText
	}
	in.AuthResult, in.AuthPass = r.authResults(m)
	// The text is read once the store knows which mail it answers (Reader).
	in.Subject, in.Body = m.Subject, m.Body
	return in
}

func (r *Receiver) maxSize() int64 {
	if r.MaxSize > 0 {
		return r.MaxSize
	}
	return DefaultMaxSize
}

// tokens returns the candidate reply tokens of m: the service's reply
// addresses in To, Cc, Delivered-To and X-Original-To, then the subject
// tags in the subject and the text.
func (r *Receiver) tokens(m *Message) []string {
	var addrs []string
	for _, list := range [][]*mail.Address{m.To, m.Cc} {
		for _, a := range list {
			addrs = append(addrs, a.Address)
		}
	}
	addrs = append(addrs, m.DeliveredTo...)
	return agreements.FindTokens(r.Address, addrs, m.Subject, m.Body)
}

// authResults reads the trusted Authentication-Results: the results as one
// line, and whether DKIM or DMARC passed.
func (r *Receiver) authResults(m *Message) (string, bool) {
	if r.AuthServID == "" || m.Header.Header.Len() == 0 {
		return "none", false
	}
	var parts []string
	pass := false
	fields := m.Header.FieldsByKey("Authentication-Results")
	for fields.Next() {
		id, results, err := authres.Parse(fields.Value())
		if err != nil {
			if strings.EqualFold(strings.TrimSpace(strings.SplitN(fields.Value(), ";", 2)[0]), r.AuthServID) {
				parts = append(parts, "unparsed")
			}
			continue
		}
		if !strings.EqualFold(id, r.AuthServID) {
			continue // anyone can write this header; only our server's counts
		}
		for _, res := range results {
			switch v := res.(type) {
			case *authres.DKIMResult:
				parts = append(parts, "dkim="+string(v.Value))
				pass = pass || v.Value == authres.ResultPass
			case *authres.DMARCResult:
				parts = append(parts, "dmarc="+string(v.Value))
				pass = pass || v.Value == authres.ResultPass
			case *authres.SPFResult:
				parts = append(parts, "spf="+string(v.Value))
			}
		}
	}
	if len(parts) == 0 {
		return "none", false
	}
	return strings.Join(parts, " "), pass
}
