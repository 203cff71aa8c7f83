package agreements

import "net/mail"

// Folder is where the poller moves a handled message.
type Folder string

// The folders of handled mail.
const (
	FolderProcessed Folder = "Processed" // handled: recorded, answered, or rightly ignored
	FolderUnmatched Folder = "Unmatched" // no reply token: not for any agreement
	FolderRejected  Folder = "Rejected"  // not accepted: wrong sender, failed authentication, unreadable
)

// Inbound is one incoming message as the poller read it, for
// RecordInbound.
type Inbound struct {
	// Key identifies the message for "exactly once": its Message-ID in
	// angle brackets, or "sha256:<hex>" of its bytes when it has none.
	Key       string
	MessageID string // as the message gives it, in angle brackets; "" for none

	// Where it was: the mailbox, its UIDVALIDITY and the message's UID.
	Mailbox     string
	UIDValidity uint32
	UID         uint32

	From       string // the sender's address, without display name
	FromName   string // the sender's display name, "" for none
	To, Cc     []*mail.Address
	Tokens     []string // candidate reply tokens, most trusted first
	References []string // In-Reply-To and References Message-IDs, without brackets

	Auto       string // "" for a person; else auto-reply, bounce, list, receipt
	AutoReason string
	Bounce     *InboundBounce

	// Unreadable says why the message could not be read, one of the
	// Unreadable… reasons; "" when it was.
	Unreadable string
	// SizeLimit is, for UnreadableTooLarge, the largest message taken, in
	// bytes.
	SizeLimit int64

	// What the message says, before it is read in the context of the
	// mail it answers (see Reader).
	Subject string
	Body    string // the text: the first text/plain part, else the HTML as text

	AuthResult string // the trusted Authentication-Results, e.g. "dkim=pass dmarc=pass"; "none"
	AuthPass   bool   // DKIM or DMARC passed
}

// InboundBounce is what a delivery status notification reports.
type InboundBounce struct {
	Recipients        []string
	Permanent         bool
	OriginalMessageID string // without brackets
}

// InboundOutcome is what RecordInbound did with a message.
type InboundOutcome struct {
	Folder      Folder
	Outcome     string // e.g. confirmed, comment, rejected-sender, duplicate
	Duplicate   bool   // the message was handled before; nothing changed
	AgreementID int64
	PartyID     int64
	// LoopBroken is set when the message was recorded without the answer
	// it would have had: the same words again, or too many answers to
	// its writer today (a mail loop, or the start of one).
	LoopBroken bool
}

// HandledMessage is a message the store has handled, by its place in a
// mailbox.
type HandledMessage struct {
	Key    string
	Folder Folder
}

// Why a message could not be read (Inbound.Unreadable). The words that
// tell its writer are in the templates (could-not-process).
const (
	UnreadableTooLarge = "too-large" // larger than SizeLimit
	UnreadableCharset  = "charset"   // in a character set we cannot decode
	UnreadableNoText   = "no-text"   // no text part (only attachments?)
)
