package agreements

import (
	"time"
)

// MailKind names one of the mails the service sends.
type MailKind string

// The mails of the confirmation flow (design F2) and its replies.
const (
	MailConfirmRequest  MailKind = "confirm-request"   // please confirm version N
	MailConfirmReminder MailKind = "confirm-reminder"  // a reminder to confirm
	MailConfirmed       MailKind = "confirmed"         // everyone confirmed: the final copy
	MailExpired         MailKind = "expired"           // not confirmed in time
	MailDeclined        MailKind = "declined"          // a party declined
	MailComment         MailKind = "comment"           // what the other party wrote
	MailUnsure          MailKind = "unsure"            // not sure what you meant
	MailNotUnderstood   MailKind = "not-understood"    // we could not tell what your reply meant
	MailReceipt         MailKind = "receipt"           // what we recorded from your reply
	MailCouldNotProcess MailKind = "could-not-process" // a bad message
	MailSuperseded      MailKind = "superseded"        // a reply to a replaced version
	MailSpoofNotice     MailKind = "spoof-notice"      // someone tried to reply for you
	MailBounceNotice    MailKind = "bounce-notice"     // the other party's address bounces
	MailCheckIn         MailKind = "checkin"           // a round's check-in questions
	MailNudge           MailKind = "nudge"             // one gentle reminder to answer
	MailDigest          MailKind = "digest"            // the other's check-in, positives first
	MailNotice          MailKind = "notice"            // paused, resumed, stopped, help, history
	MailTermsReminder   MailKind = "terms-reminder"    // the party's commitments, on the reminder schedule
	MailStartHelp       MailKind = "start-help"        // a message that would start an agreement, answered instead (Reason)
)

// MailKinds lists every kind, in the order the documentation shows them.
var MailKinds = []MailKind{
	MailConfirmRequest, MailConfirmReminder, MailConfirmed, MailExpired, MailDeclined,
	MailComment, MailUnsure, MailNotUnderstood, MailReceipt, MailCouldNotProcess, MailSuperseded, MailSpoofNotice, MailBounceNotice,
	MailCheckIn, MailNudge, MailDigest, MailNotice, MailTermsReminder, MailStartHelp,
}

// MailData is what a mail shows, captured when it is queued: the agreement
// as it stood then and the kind's own fields. Validate says which fields a
// kind needs, so that no mail goes out with a blank where a fact belongs.
type MailData struct {
	Kind         MailKind       `json:"kind"`
	Agreement    *MailTerms     `json:"agreement,omitempty"` // nil only for could-not-process about no agreement
	Recipient    MailParty      `json:"recipient"`
	Others       []MailParty    `json:"others,omitempty"`
	Audit        []MailConfirm  `json:"audit,omitempty"`         // confirmed: who confirmed, when, from which message
	Author       *MailParty     `json:"author,omitempty"`        // comment, declined: who wrote
	Quote        string         `json:"quote,omitempty"`         // comment, unsure, receipt: what was read
	Reason       string         `json:"reason,omitempty"`        // could-not-process: what was wrong and what to do
	Deadline     time.Time      `json:"deadline,omitzero"`       // confirm-request, confirm-reminder: when it expires
	Recorded     []string       `json:"recorded,omitempty"`      // receipt: what was recorded, one line each
	AskAmend     bool           `json:"ask_amend,omitempty"`     // comment to the initiator: ask whether to amend
	Amends       int            `json:"amends,omitempty"`        // confirm-request of a new version: the version it changes
	Changes      []string       `json:"changes,omitempty"`       // confirm-request of a new version: the lines removed ("- ") and added ("+ ")
	InForce      int            `json:"in_force,omitempty"`      // an amendment's confirm-request, declined, expired: the version in force meanwhile, or that stays
	Problem      string         `json:"problem,omitempty"`       // notice amend-unclear, start-help: what could not be read, and where
	Understood   []string       `json:"understood,omitempty"`    // start-help: what was read, a line each; too-many: the people named
	Template     string         `json:"template,omitempty"`      // start-help unreadable: the agreement's text to fill in and send back
	StartAt      string         `json:"start_at,omitempty"`      // declined, expired, notice too-late-to-resume: where the reader may start a new agreement by mail; "" where they may not
	RepliedTo    int            `json:"replied_to,omitempty"`    // superseded: the replaced version the reply was about
	Round        string         `json:"round,omitempty"`         // checkin, nudge, digest: the round's day
	Answers      []MailAnswer   `json:"answers,omitempty"`       // digest: the others' check-ins
	History      []MailHistory  `json:"history,omitempty"`       // digest, history notice: earlier rounds
	Calendar     string         `json:"calendar,omitempty"`      // confirmed: the check-ins as an iCalendar file
	Confirmed    int            `json:"confirmed,omitempty"`     // receipt: the version the reader confirmed
	FirstCheckIn time.Time      `json:"first_check_in,omitzero"` // confirmed: when the reader's first check-in comes
	Corrected    bool           `json:"corrected,omitempty"`     // receipt: the others, who had the digest, were sent the correction
	Answer       *CheckInAnswer `json:"answer,omitempty"`        // receipt: the check-in answer recorded
	Awaits       string         `json:"awaits,omitempty"`        // not-understood: what we wait for from the reader, "check-in" or "confirmation"
	Limit        int            `json:"limit,omitempty"`         // could-not-process too-large: the largest message taken, in MB
	Notice       Notice         `json:"notice,omitempty"`        // notice: which one
	Until        time.Time      `json:"until,omitzero"`          // notice paused: when the pause ends
	Status       Status         `json:"status,omitempty"`        // notice cannot-…, already-over: the agreement's status
	Command      string         `json:"command,omitempty"`       // notice not-a-command: the word that is not one
	Count        int            `json:"count,omitempty"`         // notice missed: how many in a row
	Title        string         `json:"title,omitempty"`         // notice queued before notices had names: its title
	Lines        []string       `json:"lines,omitempty"`         // notice queued before notices had names: its paragraphs; not-understood: what can be replied
}

// A Notice names a short notice (mail kind notice). Its words are in the
// templates, as NAME.title and NAME (see templates/mail/notices.txt); the
// store says only which notice and its facts. Author is who acted.
type Notice string

// The notices.
const (
	NoticeHelp            Notice = "help"               // what can be replied
	NoticeFewerMails      Notice = "fewer-mails"        // asks what "no more mail" means
	NoticePaused          Notice = "paused"             // Author paused, maybe Until
	NoticePauseEnded      Notice = "pause-ended"        // a "pause until" is over
	NoticePausedForNow    Notice = "paused-for-now"     // the others: someone unsubscribed, theirs to tell
	NoticeResumed         Notice = "resumed"            // Author resumed
	NoticeResubscribed    Notice = "resubscribed"       // mail is back on
	NoticeEnded           Notice = "ended"              // Author ended the agreement
	NoticeHistory         Notice = "history"            // every check-in so far: History
	NoticeMissed          Notice = "missed"             // Author missed Count rounds in a row
	NoticeCannotPause     Notice = "cannot-pause"       // the agreement is Status
	NoticeCannotResume    Notice = "cannot-resume"      // the agreement is Status
	NoticeTooLateToResume Notice = "too-late-to-resume" // ended more than 7 days ago
	NoticeStillPaused     Notice = "still-paused"       // someone else asked for no mail
	NoticeAlreadyOver     Notice = "already-over"       // the agreement is Status
	NoticeNothingToFix    Notice = "nothing-to-fix"     // no check-in answered yet
	NoticeNotACommand     Notice = "not-a-command"      // Command is not one
	NoticeNoThread        Notice = "no-thread"          // a message that answers none of our mails
	NoticeStopAgain       Notice = "stop-again"         // "stop" once: say it again to end it for both
	NoticeNotYours        Notice = "not-yours"          // Author paused (Status paused) or ended it: theirs to take back
	NoticeResumeWished    Notice = "resume-wished"      // to who paused or ended: Author would like to go on
	NoticeCorrected       Notice = "corrected"          // Author's fix of Round, after its digest: Answer
	NoticeCannotAmend     Notice = "cannot-amend"       // the agreement is Status
	NoticeAmendUnclear    Notice = "amend-unclear"      // an "amend:" that could not be read: Problem, and Quote, what was read
)

// Notices lists every notice, for the templates to check that each has
// its words.
var Notices = []Notice{
	NoticeHelp, NoticeFewerMails, NoticePaused, NoticePauseEnded, NoticePausedForNow, NoticeResumed, NoticeResubscribed,
	NoticeEnded, NoticeHistory, NoticeMissed, NoticeCannotPause, NoticeCannotResume, NoticeTooLateToResume,
	NoticeStillPaused, NoticeAlreadyOver, NoticeNothingToFix, NoticeNotACommand, NoticeNoThread,
	NoticeStopAgain, NoticeNotYours, NoticeResumeWished, NoticeCorrected, NoticeCannotAmend, NoticeAmendUnclear,
}

// MailAnswer is one party's check-in as a digest shows it.
type MailAnswer struct {
	Party         MailParty `json:"party"`
	Answered      bool      `json:"answered"`
	Statuses      []string  `json:"statuses,omitempty"` // per commitment: kept, partly, missed, or "no answer"
	PositiveOther string    `json:"positive_other,omitempty"`
	PositiveSelf  string    `json:"positive_self,omitempty"`
	WentWrong     string    `json:"went_wrong,omitempty"`
	Text          string    `json:"text,omitempty"`
}

// MailHistory is one round in a short history: ✓ kept, ~ partly, ✗
// missed, · no answer, per commitment.
type MailHistory struct {
	Round string `json:"round"`
	Party string `json:"party"`
	Marks string `json:"marks"`
	Words string `json:"words,omitempty"` // a few of their words: the kind ones, else what to talk about
}

// CheckInAnswer is what a party answered to a check-in.
type CheckInAnswer struct {
	Statuses      map[int]string `json:"statuses,omitempty"` // by commitment number: kept, partly, missed
	PositiveOther string         `json:"positive_other,omitempty"`
	PositiveSelf  string         `json:"positive_self,omitempty"`
	WentWrong     string         `json:"went_wrong,omitempty"`
	Text          string         `json:"text"`
}

// MailTerms is an agreement's version as a mail shows it.
type MailTerms struct {
	ID            int64  `json:"id"`
	Title         string `json:"title"`
	Version       int    `json:"version"`
	Fingerprint   string `json:"fingerprint"`
	WhatWentWrong string `json:"what_went_wrong"`
	CheckIn       string `json:"check_in"`
	Reminder      string `json:"reminder,omitempty"`
	// Author is who wrote the agreement down (its first party): the "I"
	// of its texts.
	AuthorName    string `json:"author_name,omitempty"`
	AuthorAddress string `json:"author_address,omitempty"`
	// CanonicalText is the version's canonical text. The outbox does not
	// store it: reading a mail from the outbox fills it in from the version.
	CanonicalText string `json:"canonical_text,omitempty"`
}

// ShortFingerprint is the fingerprint's first 16 hex digits, grouped.
func (t *MailTerms) ShortFingerprint() string { return ShortFingerprint(t.Fingerprint) }

// AttachmentName is the canonical text's file name: agreement-ID-vN.txt.
func (t *MailTerms) AttachmentName() string {
	return "agreement-" + itoa(int(t.ID)) + "-v" + itoa(t.Version) + ".txt"
}

// MailParty is a party as a mail shows it.
type MailParty struct {
	Name        string   `json:"name"`
	FirstName   string   `json:"first_name"`
	Address     string   `json:"address"`
	TimeZone    string   `json:"time_zone"`
	Commitments []string `json:"commitments,omitempty"`
}

// MailConfirm is one line of a confirmed copy's audit trail.
type MailConfirm struct {
	Party      string    `json:"party"`
	At         time.Time `json:"at"`
	MessageID  string    `json:"message_id"`
	AuthResult string    `json:"auth_result"`
}

// Validate returns an EINVALID error naming the first field that d's kind
// needs and lacks.
func (d *MailData) Validate() error { return d.validate(whole) }

// The two ways validate checks mail data.
const (
	whole  = false // as a template renders it
	stored = true  // as the outbox stores it (newOutboxRow)
)

// validate is Validate, or, for data as the outbox stores it, the same
// without what an agreement's version says: stored data refers to the
// version (its ID and number), whose terms were checked when it was made,
// and reading the outbox fills in the rest (fillAgreement).
func (d *MailData) validate(asStored bool) error {
	missing := func(field string) error {
		return Errorf(EINVALID, "%s mail: %s is missing", d.Kind, field)
	}
	known := false
	for _, k := range MailKinds {
		known = known || k == d.Kind
	}
	if !known {
		return Errorf(EINVALID, "unknown mail kind %q", d.Kind)
	}
	if d.Recipient.Address == "" {
		return missing("the recipient's address")
	}
	if d.Recipient.FirstName == "" {
		return missing("the recipient's name")
	}
	if d.Agreement == nil {
		if d.Kind != MailCouldNotProcess && d.Kind != MailStartHelp {
			return missing("the agreement")
		}
	} else {
		a := d.Agreement
		switch {
		case a.ID == 0:
			return missing("the agreement's ID")
		case a.Version == 0:
			return missing("the version")
		case asStored:
		case a.Title == "":
			return missing("the title")
		case len(a.Fingerprint) != 64:
			return missing("the fingerprint")
		case a.CanonicalText == "":
			return missing("the canonical text")
		case a.CheckIn == "":
			return missing("the check-in schedule")
		case a.WhatWentWrong == "":
			return missing("what went wrong")
		case len(d.Others) == 0:
			return missing("the other parties")
		case len(d.Recipient.Commitments) == 0:
			return missing("the recipient's commitments")
		}
	}
	switch d.Kind {
	case MailConfirmRequest, MailConfirmReminder:
		if d.Deadline.IsZero() {
			return missing("the deadline")
		}
	case MailConfirmed:
		if len(d.Audit) == 0 {
			return missing("the audit trail")
		}
	case MailDeclined:
		if d.Author == nil {
			return missing("who declined")
		}
	case MailComment:
		if d.Author == nil {
			return missing("who wrote the comment")
		}
		if d.Quote == "" {
			return missing("the comment")
		}
	case MailUnsure:
		if d.Quote == "" {
			return missing("what was read")
		}
	case MailNotUnderstood:
		if d.Quote == "" {
			return missing("what was read")
		}
	case MailReceipt:
		if len(d.Recorded) == 0 && d.Confirmed == 0 && d.Answer == nil {
			return missing("what was recorded")
		}
		if d.Answer != nil && d.Round == "" {
			return missing("the round answered")
		}
	case MailCouldNotProcess:
		if d.Reason == "" || d.Reason == UnreadableTooLarge && d.Limit == 0 {
			return missing("the reason")
		}
	case MailSuperseded:
		if d.RepliedTo < 1 || d.RepliedTo >= d.Agreement.Version {
			return missing("the replaced version")
		}
	case MailBounceNotice:
		if d.Author == nil {
			return missing("whose address bounces")
		}
	case MailCheckIn, MailNudge:
		if d.Round == "" || d.Deadline.IsZero() {
			return missing("the round and its deadline")
		}
	case MailDigest:
		if d.Round == "" || len(d.Answers) == 0 {
			return missing("the round and the answers")
		}
	case MailNotice:
		switch d.Notice {
		case "":
			if d.Title == "" || len(d.Lines) == 0 {
				return missing("which notice it is")
			}
		case NoticePaused, NoticeResumed, NoticeEnded, NoticeResumeWished:
			if d.Author == nil {
				return missing("who acted")
			}
		case NoticeMissed:
			if d.Author == nil || d.Count == 0 {
				return missing("who missed how many check-ins")
			}
		case NoticeCorrected:
			if d.Author == nil || d.Round == "" || d.Answer == nil {
				return missing("whose correction of which check-in")
			}
		case NoticeNotYours:
			if d.Author == nil || d.Status == "" {
				return missing("who paused or ended it")
			}
		case NoticeCannotPause, NoticeCannotResume, NoticeAlreadyOver:
			if d.Status == "" {
				return missing("the agreement's status")
			}
		case NoticeNotACommand:
			if d.Command == "" {
				return missing("the command")
			}
		}
	}
	return nil
}

// MailStatus is where an outbox mail stands.
type MailStatus string

// The statuses of an outbox mail.
const (
	MailPending MailStatus = "pending"
	MailSent    MailStatus = "sent"
	MailFailed  MailStatus = "failed"
	// MailCancelled is mail not sent because its recipient unsubscribed
	// before it went out.
	MailCancelled MailStatus = "cancelled"
)

// OutboxMail is one row of the outbox: a mail to one recipient.
type OutboxMail struct {
	ID            int64
	Key           string // the dedupe key, e.g. confirm-request:1:2:3
	MessageID     string // without angle brackets
	Kind          MailKind
	AgreementID   int64 // 0 for a mail about no agreement
	PartyID       int64
	To            string
	ToName        string
	ReplyToken    string // the reply address's token; "" for none
	CommandsToken string // the token of List-Unsubscribe; "" for none
	ThreadID      string // the Message-ID to thread under; "" for a first mail
	Data          MailData
	Status        MailStatus
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	Raw           []byte // the message as sent; nil until the first attempt
	CreatedAt     time.Time
	SentAt        time.Time
}

// OutboxFilter selects outbox mail for FindOutbox.
type OutboxFilter struct {
	Status    MailStatus // "" for any
	SentSince time.Time  // with Status sent: only mail sent since then
	Limit     int
}

// Mailer is told when mail has been queued, so that it can send it without
// waiting for its next round. *mailout.Sender meets it.
type Mailer interface {
	Notify()
}
