// Package agreements is inwriting's domain: agreements between two or more
// parties, their versions and confirmations, reply tokens, and the
// hash-chained event log, with the SQLite store that keeps them.
package agreements

import (
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Status is where an agreement stands.
type Status string

// The statuses of an agreement.
const (
	StatusDraft    Status = "draft"    // written, not yet sent for confirmation
	StatusPending  Status = "pending"  // sent; waiting for every party to confirm the current version
	StatusActive   Status = "active"   // every party confirmed the current version
	StatusPaused   Status = "paused"   // active, but no check-ins are sent
	StatusEnded    Status = "ended"    // stopped by a party or the operator
	StatusExpired  Status = "expired"  // not confirmed in time
	StatusDeclined Status = "declined" // a party declined
)

// Final reports whether no further change is possible.
func (s Status) Final() bool {
	return s == StatusEnded || s == StatusExpired || s == StatusDeclined
}

// Agreement is an agreement as it stands now: its current version's terms.
type Agreement struct {
	ID          int64
	Status      Status
	Version     int    // the current version's number
	Fingerprint string // the current version's fingerprint
	Terms       Terms
	// Proposed is the number of an amendment that waits for every
	// party's confirmation while Version stays in force; 0 for none.
	Proposed  int
	CreatedAt time.Time
	UpdatedAt time.Time

	activeSince string // the day it first became active (YYYY-MM-DD), as loaded; "" before
	timerGen    int64  // the generation of its timers that fire
}

// Party returns the party with the given ID, or nil.
func (a *Agreement) Party(id int64) *Party {
	for i := range a.Terms.Parties {
		if a.Terms.Parties[i].ID == id {
			return &a.Terms.Parties[i]
		}
	}
	return nil
}

// PartyByAddress returns the party whose address is addr, compared without
// regard to case, or nil.
func (a *Agreement) PartyByAddress(addr string) *Party {
	for i := range a.Terms.Parties {
		if strings.EqualFold(a.Terms.Parties[i].Address, addr) {
			return &a.Terms.Parties[i]
		}
	}
	return nil
}

// Terms are what the parties agree to: what a version records.
type Terms struct {
	Title         string    `json:"title"`
	WhatWentWrong string    `json:"what_went_wrong"`
	Parties       []Party   `json:"parties"`
	CheckIn       Schedule  `json:"check_in"`
	Reminder      *Schedule `json:"reminder,omitempty"`
	// MissedAfter, when set, tells every party when one has missed that
	// many check-ins in a row. Zero (the default) does nothing more.
	MissedAfter int `json:"missed_after,omitempty"`
}

// Party is one person on an agreement and what they will do.
type Party struct {
	ID          int64    `json:"-"` // set by the store
	Name        string   `json:"name"`
	Address     string   `json:"address"`
	TimeZone    string   `json:"time_zone"`
	Commitments []string `json:"commitments"`

	threadID      string // the Message-ID the party's mail threads under, as loaded
	unsubscribed  string // when the party unsubscribed; "" while subscribed
	commandsToken string // the party's token for commands, as loaded; "" for none yet
}

// Unsubscribed reports whether the party has asked for no more mail.
func (p Party) Unsubscribed() bool { return p.unsubscribed != "" }

// Display returns "Name <address>" as people read it (not encoded for a
// mail header), or the bare address without a name.
func (p Party) Display() string {
	if p.Name == "" {
		return p.Address
	}
	return p.Name + " <" + p.Address + ">"
}

// FirstName returns the first word of the name, or the address's local part
// when there is no name; it is how templates and headings call a party.
func (p Party) FirstName() string {
	if f := strings.Fields(p.Name); len(f) > 0 {
		return f[0]
	}
	local, _, _ := strings.Cut(p.Address, "@")
	return local
}

// Limits on what an agreement may hold, so that a copy stays readable.
const (
	MaxTitle       = 200
	MaxText        = 10000
	MaxParties     = 2 // inwriting is made for two people
	MaxCommitments = 20
	MaxCommitment  = 1000
)

// Normalize puts t in the form that is stored and rendered: text in NFC with
// LF line endings, no trailing white space, no surrounding blank lines, one
// line for the title and names, addresses without display names.
func (t *Terms) Normalize() {
	t.Title = oneLine(t.Title)
	t.WhatWentWrong = cleanText(t.WhatWentWrong)
	for i := range t.Parties {
		p := &t.Parties[i]
		p.Name = oneLine(p.Name)
		p.Address = oneLine(p.Address)
		p.TimeZone = oneLine(p.TimeZone)
		var cs []string
		for _, c := range p.Commitments {
			if c = cleanText(c); c != "" {
				cs = append(cs, c)
			}
		}
		p.Commitments = cs
	}
}

// Validate returns an EINVALID error that names the first problem in t.
// It expects t to be normalized.
func (t *Terms) Validate() error {
	switch {
	case t.Title == "":
		return Errorf(EINVALID, "the agreement needs a title")
	case len([]rune(t.Title)) > MaxTitle:
		return Errorf(EINVALID, "the title is longer than %d characters", MaxTitle)
	case t.WhatWentWrong == "":
		return Errorf(EINVALID, `the agreement needs a "What went wrong" text`)
	case len([]rune(t.WhatWentWrong)) > MaxText:
		return Errorf(EINVALID, `"What went wrong" is longer than %d characters`, MaxText)
	case len(t.Parties) < 2:
		return Errorf(EINVALID, "an agreement needs at least two parties, not %d", len(t.Parties))
	case len(t.Parties) > MaxParties:
		return Errorf(EINVALID, "an agreement is between two people, not %d: inwriting is made for two people rebuilding trust", len(t.Parties))
	}
	seen := map[string]bool{}
	for i, p := range t.Parties {
		who := p.Address
		if who == "" {
			who = "party " + itoa(i+1)
		}
		a, err := mail.ParseAddress(p.Address)
		if err != nil || a.Address != p.Address || !strings.Contains(p.Address, "@") {
			return Errorf(EINVALID, "%q is not an email address", p.Address)
		}
		key := strings.ToLower(p.Address)
		if seen[key] {
			return Errorf(EINVALID, "%s is on the agreement twice", p.Address)
		}
		seen[key] = true
		if p.TimeZone == "" {
			return Errorf(EINVALID, "%s needs a time zone, like Europe/Lisbon", who)
		}
		if _, err := LoadLocation(p.TimeZone); err != nil {
			return err
		}
		if len(p.Commitments) == 0 {
			return Errorf(EINVALID, "%s has no commitments; each party says what they will do", who)
		}
		if len(p.Commitments) > MaxCommitments {
			return Errorf(EINVALID, "%s has more than %d commitments", who, MaxCommitments)
		}
		for _, c := range p.Commitments {
			if len([]rune(c)) > MaxCommitment {
				return Errorf(EINVALID, "a commitment of %s is longer than %d characters", who, MaxCommitment)
			}
		}
	}
	if err := t.CheckIn.Validate(); err != nil {
		return err
	}
	if t.Reminder != nil {
		if err := t.Reminder.Validate(); err != nil {
			return err
		}
	}
	if t.MissedAfter < 0 || t.MissedAfter > 52 {
		return Errorf(EINVALID, "the rule for missed check-ins counts 1 to 52 rounds, not %d", t.MissedAfter)
	}
	return nil
}

// LoadLocation loads an IANA time zone by name, with an EINVALID error that
// says what is wrong. "Local" and "" are refused: a party's time zone must
// mean the same on every machine.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, Errorf(EINVALID, "%q is not an IANA time zone name like Europe/Lisbon", name)
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	// time.LoadLocation reads the zone's file at every call; the scheduler
	// asks for the same few zones thousands of times a pass.
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, Errorf(EINVALID, "%q is not an IANA time zone name like Europe/Lisbon", name)
	}
	locations.Store(name, loc)
	return loc, nil
}

var locations sync.Map // zone name to *time.Location
