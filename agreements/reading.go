package agreements

import "time"

// IntentKind is what a reply means.
type IntentKind string

// The intents of a reply.
const (
	IntentAgree   IntentKind = "agree"   // an explicit, unqualified confirmation
	IntentDecline IntentKind = "decline" // an explicit refusal of the agreement
	IntentCommand IntentKind = "command" // pause, resume, stop, history, help, fix, unsubscribe
	IntentCheckIn IntentKind = "checkin" // an answer to a check-in
	IntentComment IntentKind = "comment" // words about a pending agreement, for the other party
	IntentAck     IntentKind = "ack"     // "thanks", "ok", "got it": kept for the record, not answered
	IntentUnclear IntentKind = "unclear" // none of these: answered to its writer alone
)

// The commands a reply can give (design F4).
const (
	CommandPause       = "pause"
	CommandResume      = "resume"
	CommandStop        = "stop"
	CommandHistory     = "history"
	CommandHelp        = "help"
	CommandFix         = "fix"
	CommandAmend       = "amend"
	CommandUnsubscribe = "unsubscribe"
	// CommandStopMail is a wish for no more mail in the writer's own
	// words ("please stop sending these"): the writer is asked whether
	// they mean to pause, to stop for both, or to unsubscribe, and nothing
	// changes until they say.
	CommandStopMail = "stop-mail"
)

// How a commitment went, in a check-in answer.
const (
	CheckInKept   = "kept"
	CheckInPartly = "partly"
	CheckInMissed = "missed"
)

// Intent is what a reply means.
type Intent struct {
	Kind IntentKind

	// Unsure marks a reply to a "please confirm" that is short and close
	// to agreement ("yes", "ok", "agree?"): the service asks instead of
	// guessing.
	Unsure bool

	// For a command.
	Command string
	Until   time.Time // pause until the start of this day in the writer's zone; zero for none
	Fix     string    // the correction after "fix:"
	Amend   string    // the parts that change, after "amend:"
}

// ReplyContext is what the service knows when it reads a reply: which of
// its mails the reply answers and who wrote it. A reply is never read
// without it.
type ReplyContext struct {
	Purpose Purpose // what the answered mail asked for, from its reply token

	// Pending is set while a version of the agreement waits for the
	// writer's confirmation: only then are words for the other party a
	// comment.
	Pending bool

	// RoundOpen is set while a check-in round waits for the writer's
	// answer: a reply to any mail that reads as a check-in answer is one.
	RoundOpen bool

	Writer      string   // the writer's first name
	Others      []string // the other people's first names
	Commitments []string // the writer's own commitments, in order

	// Sent is the mail answered, as it was sent (the whole message), so
	// that its quote can be found in the reply; nil when it is not known.
	// SentID is its Message-ID, which names it for a reader's cache.
	Sent   []byte
	SentID string

	Now      time.Time      // when the reply is read
	Location *time.Location // the writer's time zone, for the dates they write
}

// Reading is what a reply says, read in its context.
type Reading struct {
	Text   string // what the writer wrote: quoted mail and signatures removed
	Elided string // what was removed

	// Matched is set when the quote of the mail answered was found in the
	// reply and cut there.
	Matched bool

	Intent  Intent
	CheckIn *CheckInAnswer // set when Intent.Kind is IntentCheckIn, or for "fix:"
}

// ReplyMessage is a reply as mail: its subject and its text before
// trimming.
type ReplyMessage struct {
	Subject string
	Body    string
}

// Reader reads a reply in the context of the mail it answers. mailin
// implements it; the store calls it once it knows, from the reply token,
// which mail the reply answers.
type Reader interface {
	ReadReply(m ReplyMessage, rc ReplyContext) Reading

	// ReadMessage returns what the writer of m, a message that starts
	// something (an agreement), wrote: without the quoted mail (sent,
	// when m answers one of ours, else nil), signature and closing.
	ReadMessage(m ReplyMessage, sent []byte) string
}
