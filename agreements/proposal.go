package agreements

import (
	"fmt"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
)

// ProposalInput is an agreement as its initiator wrote it (design F1): the
// body of an email, whose subject is the title and whose From, To and Cc are
// the parties, or a file that gives those as lines ("Title:", "From:",
// "To:"). Fields set here take the place of the lines.
type ProposalInput struct {
	Text            string
	Title           string
	From            *mail.Address
	Others          []*mail.Address
	DefaultTimeZone string // for parties the text gives no time zone
}

// ParseProposal reads the forgiving plain-text format of design F1:
//
//	Title: Evenings and phone calls
//	From: Alice Example <alice@example.test>
//	To: Bob Example <bob@example.test>
//	Time zones: Alice Europe/Lisbon, Bob America/Chicago
//
//	What went wrong:
//	…
//
//	I will:
//	1. …
//
//	Bob will:            ("You will:" works with two parties)
//	- …
//
//	Check in: every Sunday at 19:00
//	Reminders: every 2 weeks on Monday at 08:00   (optional)
//
// Headings are matched without regard to case. An error is EINVALID and
// names the line and what was expected there, or everything that is
// missing.
func ParseProposal(in ProposalInput) (Terms, error) {
	p := proposalParser{in: in, title: in.Title, from: in.From, others: in.Others}
	text := strings.ReplaceAll(strings.ReplaceAll(in.Text, "\r\n", "\n"), "\r", "\n")
	text = strings.TrimPrefix(text, "\uFEFF")
	for i, line := range strings.Split(text, "\n") {
		if err := p.line(i+1, line); err != nil {
			return Terms{}, err
		}
	}
	return p.terms()
}

var (
	headingRE    = regexp.MustCompile(`^\s*([\p{L}][\p{L}\p{M}\p{N}@+_'’ .\-]*?)\s*:\s*(.*)$`)
	willRE       = regexp.MustCompile(`^(?i)(.+?)(?:\s+(?:will|wil|shall|will do|agrees? to|promises? to|commits? to|will try to)|['’]ll)$`)
	missedRE     = regexp.MustCompile(`(?i)\b(?:after\s+)?(\d{1,2})\s+(?:missed|in a row|check-?ins?|rounds?)`)
	listMarkerRE = regexp.MustCompile(`^\s*(?:\(?\d{1,2}[.)]|[-*•–·])\s+`)
)

type commitmentBlock struct {
	who   string // as written: "I", "you", "Bob"
	line  int
	items []string
}

type proposalParser struct {
	in          ProposalInput
	title       string
	from        *mail.Address
	others      []*mail.Address
	zones       string
	zonesLine   int
	wrong       []string
	checkIn     *Schedule
	checkInLine int
	reminder    *Schedule
	remindLine  int
	missedAfter int
	missedLine  int
	blocks      []*commitmentBlock
	section     string // "", "wrong", "commit"

	// self is, in an amendment, the index of the party who writes it:
	// who "I" is. It is 0 in a proposal, whose writer proposes it.
	self int
}

func (p *proposalParser) line(n int, raw string) error {
	trimmed := strings.TrimSpace(raw)
	if trimmed == "" {
		if p.section == "wrong" {
			p.wrong = append(p.wrong, "")
		}
		return nil
	}
	if m := headingRE.FindStringSubmatch(raw); m != nil {
		known, err := p.heading(n, strings.Join(strings.Fields(m[1]), " "), strings.TrimSpace(m[2]))
		if known || err != nil {
			return err
		}
	}
	switch p.section {
	case "wrong":
		p.wrong = append(p.wrong, strings.TrimRight(raw, " \t"))
	case "commit":
		b := p.blocks[len(p.blocks)-1]
		marker := listMarkerRE.FindString(raw)
		item := strings.TrimSpace(raw[len(marker):])
		indented := raw[0] == ' ' || raw[0] == '\t'
		if marker == "" && indented && len(b.items) > 0 {
			b.items[len(b.items)-1] += "\n" + item
		} else {
			b.items = append(b.items, item)
		}
	default:
		return Errorf(EINVALID, `line %d: %q: expected a heading here, such as "Title:", "From:", "To:", "What went wrong:", "I will:", "<Name> will:" or "Check in:"`, n, clip(trimmed))
	}
	return nil
}

// heading handles a "Key: value" line and reports whether key is a heading.
func (p *proposalParser) heading(n int, written, value string) (bool, error) {
	switch key := strings.ToLower(written); key {
	case "title", "subject":
		if p.title != "" && p.in.Title == "" {
			return true, Errorf(EINVALID, "line %d: a second title; an agreement has one", n)
		}
		if p.in.Title == "" {
			p.title = value
		}
		p.section = ""
	case "from", "initiator":
		if p.in.From != nil {
			break
		}
		if p.from != nil {
			return true, Errorf(EINVALID, "line %d: a second From: line; one party proposes the agreement", n)
		}
		a, err := mail.ParseAddress(value)
		if err != nil {
			return true, Errorf(EINVALID, "line %d: %q is not an address like \"Alice Example <alice@example.test>\"", n, clip(value))
		}
		p.from = a
		p.section = ""
	case "to", "cc", "with", "other party", "other parties", "parties":
		if p.in.Others != nil {
			break
		}
		as, err := mail.ParseAddressList(value)
		if err != nil {
			return true, Errorf(EINVALID, "line %d: %q is not a list of addresses like \"Bob Example <bob@example.test>\"", n, clip(value))
		}
		p.others = append(p.others, as...)
		p.section = ""
	case "time zone", "time zones", "timezone", "timezones", "tz":
		p.zones, p.zonesLine = value, n
		p.section = ""
	case "what went wrong", "what happened", "what went wrong between us", "the problem", "the issue":
		p.section = "wrong"
		if value != "" {
			p.wrong = append(p.wrong, value)
		}
	case "check in", "check-in", "check ins", "check-ins", "checkin", "checkins", "check in schedule":
		if p.checkIn != nil {
			return true, Errorf(EINVALID, "line %d: a second %q line (the first is line %d): an agreement has one check-in schedule", n, "Check in:", p.checkInLine)
		}
		p.checkInLine = n
		s, err := ParseSchedule(value)
		if err != nil {
			return true, Errorf(EINVALID, "line %d: %s", n, ErrorMessage(err))
		}
		p.checkIn = &s
		p.section = ""
	case "missed check-ins", "missed check-in", "missed", "if we miss check-ins", "if a check-in is missed":
		p.section = ""
		m := missedRE.FindStringSubmatch(value)
		if m == nil {
			return true, Errorf(EINVALID, `line %d: %q: expected a rule like "after 2 missed rounds, tell both of us"`, n, clip(value))
		}
		p.missedAfter, _ = strconv.Atoi(m[1])
		p.missedLine = n
	case "reminder", "reminders", "remind", "remind us", "remind me", "remind us of the terms":
		p.section = ""
		if p.remindLine != 0 {
			return true, Errorf(EINVALID, "line %d: a second %q line (the first is line %d): an agreement has one reminder schedule", n, "Reminders:", p.remindLine)
		}
		p.remindLine = n
		if v := strings.ToLower(strings.TrimRight(value, ".")); v == "none" || v == "no" || v == "never" {
			p.reminder = nil
			break
		}
		s, err := ParseSchedule(value)
		if err != nil {
			return true, Errorf(EINVALID, "line %d: %s", n, ErrorMessage(err))
		}
		p.reminder = &s
	default:
		m := willRE.FindStringSubmatch(written)
		if m == nil {
			return false, nil
		}
		b := &commitmentBlock{who: m[1], line: n}
		if value != "" {
			b.items = append(b.items, strings.TrimSpace(value[len(listMarkerRE.FindString(value)):]))
		}
		p.blocks = append(p.blocks, b)
		p.section = "commit"
	}
	return true, nil
}

func (p *proposalParser) terms() (Terms, error) {
	var missing []string
	if strings.TrimSpace(p.title) == "" {
		missing = append(missing, `a title ("Title: …")`)
	}
	if p.from == nil {
		missing = append(missing, `who proposes it ("From: Name <address>")`)
	}
	if len(p.others) == 0 {
		missing = append(missing, `the other party ("To: Name <address>")`)
	}
	if strings.TrimSpace(strings.Join(p.wrong, "\n")) == "" {
		missing = append(missing, `what went wrong ("What went wrong:" and a few lines)`)
	}
	if len(p.blocks) == 0 {
		missing = append(missing, `what each person will do ("I will:", "Bob will:" and a list)`)
	}
	if p.checkIn == nil {
		missing = append(missing, `how often to check in ("Check in: every Sunday at 19:00")`)
	}
	if len(missing) > 0 {
		return Terms{}, Errorf(EINVALID, "end of text: the agreement is missing %s", joinAnd(missing))
	}

	t := Terms{Title: p.title, WhatWentWrong: strings.Join(p.wrong, "\n"), CheckIn: *p.checkIn, Reminder: p.reminder, MissedAfter: p.missedAfter}
	for _, a := range append([]*mail.Address{p.from}, p.others...) {
		t.Parties = append(t.Parties, Party{Name: a.Name, Address: a.Address, TimeZone: p.in.DefaultTimeZone})
	}
	if err := DistinctParties(t.Parties); err != nil {
		return Terms{}, err
	}
	if err := p.assignZones(&t); err != nil {
		return Terms{}, err
	}
	if _, err := p.commitments(&t); err != nil {
		return Terms{}, err
	}
	for _, party := range t.Parties {
		if len(party.Commitments) == 0 {
			return Terms{}, Errorf(EINVALID, "end of text: expected %q and a list: each person says what they will do", party.FirstName()+" will:")
		}
	}
	t.Normalize()
	if err := t.Validate(); err != nil {
		return Terms{}, err
	}
	return t, nil
}

// commitments adds the lists of the "… will:" blocks to the parties of
// t they are about, and reports which parties were given one.
func (p *proposalParser) commitments(t *Terms) ([]bool, error) {
	given := make([]bool, len(t.Parties))
	for _, b := range p.blocks {
		i, err := p.resolve(b, t.Parties)
		if err != nil {
			return nil, err
		}
		if len(b.items) == 0 {
			return nil, Errorf(EINVALID, "line %d: %q has no list under it; write one commitment a line", b.line, b.who+" will:")
		}
		t.Parties[i].Commitments = append(t.Parties[i].Commitments, b.items...)
		given[i] = true
	}
	return given, nil
}

// resolve returns the index of the party a "… will:" block is about.
func (p *proposalParser) resolve(b *commitmentBlock, parties []Party) (int, error) {
	if p.self != 0 && len(parties) == 2 {
		switch strings.ToLower(strings.TrimSpace(b.who)) {
		case "i", "me", "myself":
			return p.self, nil
		case "you":
			return 1 - p.self, nil
		}
	}
	i, err := PartyIndex(parties, b.who)
	if err != nil {
		return 0, Errorf(EINVALID, "line %d: %s", b.line, ErrorMessage(err))
	}
	return i, nil
}

// DistinctParties checks that parties are two people with an address
// each: what must hold before commitments can be given to them by name.
func DistinctParties(parties []Party) error {
	if len(parties) > MaxParties {
		return Errorf(EINVALID, "an agreement is between two people, not %d: inwriting is made for two people rebuilding trust", len(parties))
	}
	for i, p := range parties {
		for _, q := range parties[:i] {
			if strings.EqualFold(p.Address, q.Address) {
				return Errorf(EINVALID, "%s and %s have the same address, %s: each person needs their own", displayName(q), displayName(p), strings.ToLower(p.Address))
			}
		}
	}
	return nil
}

func displayName(p Party) string {
	if p.Name != "" {
		return p.Name
	}
	return p.Address
}

// PartyIndex returns the index in parties of the party that who names, the
// way people name one another in an agreement: "I" or "me" (the first
// party, who proposes), "you" (the other of two), a full or first name, an
// address or its local part, without regard to case. It returns an EINVALID
// error when who names nobody or more than one party.
func PartyIndex(parties []Party, who string) (int, error) {
	w := strings.ToLower(strings.TrimSpace(who))
	switch w {
	case "i", "me", "myself":
		return 0, nil
	case "you":
		if len(parties) != 2 {
			return 0, Errorf(EINVALID, "\"you\" is unclear with %d parties; use a name", len(parties))
		}
		return 1, nil
	}
	found := -1
	for i, party := range parties {
		local, _, _ := strings.Cut(party.Address, "@")
		if w == strings.ToLower(party.Name) || w == strings.ToLower(party.FirstName()) ||
			w == strings.ToLower(party.Address) || w == strings.ToLower(local) {
			if found >= 0 && found != i {
				return 0, Errorf(EINVALID, "%q could be more than one party; use the full name or the address", who)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, Errorf(EINVALID, "%q is not one of the parties (%s)", who, partyNames(parties))
	}
	return found, nil
}

// assignZones applies a "Time zone(s):" line: one zone for everyone, or
// "Alice Europe/Lisbon, Bob America/Chicago".
func (p *proposalParser) assignZones(t *Terms) error {
	if p.zones == "" {
		for _, party := range t.Parties {
			if party.TimeZone == "" {
				return Errorf(EINVALID, "end of text: the time zone of %s is missing; add a line like \"Time zone: Europe/Lisbon\"", party.FirstName())
			}
		}
		return nil
	}
	items := strings.Split(p.zones, ",")
	if len(items) == 1 && len(strings.Fields(items[0])) == 1 {
		if _, err := LoadLocation(strings.TrimSpace(items[0])); err != nil {
			return Errorf(EINVALID, "line %d: %s", p.zonesLine, ErrorMessage(err))
		}
		for i := range t.Parties {
			t.Parties[i].TimeZone = strings.TrimSpace(items[0])
		}
		return nil
	}
	for _, item := range items {
		f := strings.Fields(strings.ReplaceAll(item, ":", " "))
		if len(f) < 2 {
			return Errorf(EINVALID, "line %d: %q: expected a name and a time zone, like \"Alice Europe/Lisbon, Bob America/Chicago\"", p.zonesLine, strings.TrimSpace(item))
		}
		zone := f[len(f)-1]
		if _, err := LoadLocation(zone); err != nil {
			return Errorf(EINVALID, "line %d: %s", p.zonesLine, ErrorMessage(err))
		}
		i, err := p.resolve(&commitmentBlock{who: strings.Join(f[:len(f)-1], " "), line: p.zonesLine}, t.Parties)
		if err != nil {
			return err
		}
		t.Parties[i].TimeZone = zone
	}
	for _, party := range t.Parties {
		if party.TimeZone == "" {
			return Errorf(EINVALID, "line %d: the time zone of %s is missing", p.zonesLine, party.FirstName())
		}
	}
	return nil
}

func partyNames(ps []Party) string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.FirstName()
	}
	return strings.Join(names, ", ")
}

func joinAnd(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// clip shortens s for an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 60 {
		return string(r[:57]) + "..."
	}
	return s
}

// ParseAmendment reads an amendment of current written by party writer
// (an index into its parties): the same format as ParseProposal, but
// only the parts that change. Each part given takes the place of that
// part ("Bob will:" and a list replaces Bob's commitments; "Check in:"
// the schedule); what is not given stays. "I will:" is the writer's,
// "You will:" the other party's. An amendment keeps the parties: a
// "From:" or "To:" line is an error. An error is EINVALID and names the
// line, like ParseProposal's; an amendment that gives no part is one.
func ParseAmendment(current Terms, writer int, text string) (Terms, error) {
	if writer < 0 || writer >= len(current.Parties) {
		return Terms{}, Errorf(EINVALID, "party %d is not on the agreement", writer+1)
	}
	p := proposalParser{self: writer}
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	for i, line := range strings.Split(strings.TrimPrefix(text, "\uFEFF"), "\n") {
		if err := p.line(i+1, line); err != nil {
			return Terms{}, err
		}
	}
	if p.from != nil || len(p.others) > 0 {
		return Terms{}, Errorf(EINVALID, "an amendment keeps the same two people; leave out the From: and To: lines (a new agreement is needed to change who is on it)")
	}
	t := current
	t.Parties = make([]Party, len(current.Parties))
	for i, party := range current.Parties {
		party.Commitments = nil
		t.Parties[i] = party
	}
	changed := false
	if strings.TrimSpace(p.title) != "" {
		t.Title, changed = p.title, true
	}
	if w := strings.Join(p.wrong, "\n"); strings.TrimSpace(w) != "" {
		t.WhatWentWrong, changed = w, true
	}
	if p.checkIn != nil {
		t.CheckIn, changed = *p.checkIn, true
	}
	if p.remindLine != 0 {
		t.Reminder, changed = p.reminder, true
	}
	if p.missedLine != 0 {
		t.MissedAfter, changed = p.missedAfter, true
	}
	if p.zones != "" {
		if err := p.assignZones(&t); err != nil {
			return Terms{}, err
		}
		changed = true
	}
	given, err := p.commitments(&t)
	if err != nil {
		return Terms{}, err
	}
	for i := range t.Parties {
		changed = changed || given[i]
		if !given[i] {
			t.Parties[i].Commitments = current.Parties[i].Commitments
		}
	}
	if !changed {
		return Terms{}, Errorf(EINVALID, `the amendment gives no part to change: after "amend:", write the parts that change, such as "Bob will:" and a list, or "Check in: every Sunday at 18:00"`)
	}
	t.Normalize()
	if err := t.Validate(); err != nil {
		return Terms{}, err
	}
	return t, nil
}

// ProposalDraft is what could be read of a proposal that cannot be read
// whole, for the answer that tells its writer what is missing.
type ProposalDraft struct {
	Problems   []string // what is wrong or missing, as ParseProposal says it; each line's problem, then what the end lacks
	Understood []string // what was read, a line each ("Check in: every Sunday at 19:00")
	Template   string   // the proposal's text with what was read in place, and a place to fill in for the rest
}

// DraftProposal reads in as ParseProposal does, but goes on past a line it
// cannot read, and returns what it read, what it could not, and the
// proposal to send back filled in.
func DraftProposal(in ProposalInput) ProposalDraft {
	var d ProposalDraft
	p := proposalParser{in: in, title: in.Title, from: in.From, others: in.Others}
	text := strings.ReplaceAll(strings.ReplaceAll(in.Text, "\r\n", "\n"), "\r", "\n")
	lineProblems := 0
	for i, line := range strings.Split(strings.TrimPrefix(text, "\uFEFF"), "\n") {
		if err := p.line(i+1, line); err != nil {
			// The first two say what is wrong; more would bury it.
			if lineProblems++; lineProblems <= 2 {
				d.Problems = append(d.Problems, ErrorMessage(err))
			}
		}
	}
	if _, err := p.terms(); err != nil {
		d.Problems = append(d.Problems, strings.TrimPrefix(ErrorMessage(err), "end of text: "))
	}

	if p.title != "" {
		d.Understood = append(d.Understood, "Title: "+p.title)
	}
	if len(p.others) > 0 {
		var with []string
		for _, a := range p.others {
			with = append(with, (&Party{Name: a.Name, Address: a.Address}).Display())
		}
		d.Understood = append(d.Understood, "With: "+strings.Join(with, ", "))
	}
	wrong := strings.TrimSpace(strings.Join(p.wrong, "\n"))
	if wrong != "" {
		d.Understood = append(d.Understood, fmt.Sprintf("What went wrong: %d lines", len(strings.Split(wrong, "\n"))))
	}
	for _, b := range p.blocks {
		d.Understood = append(d.Understood, fmt.Sprintf("%s will: %d commitments", b.who, len(b.items)))
	}
	if p.checkIn != nil {
		d.Understood = append(d.Understood, "Check in: "+p.checkIn.String())
	}
	if p.zones != "" {
		d.Understood = append(d.Understood, "Time zone: "+p.zones)
	}

	var b strings.Builder
	if wrong == "" {
		wrong = "(what happened, in a few lines of your own)"
	}
	fmt.Fprintf(&b, "What went wrong:\n%s\n", wrong)
	// Each list under the heading of the person it is about, as far as
	// the lists can be told apart.
	headings := []string{"I", "(their first name)"}
	lists := make([][]string, 2)
	parties := []Party{{Address: "me@invalid"}, {Address: "them@invalid"}}
	if p.from != nil {
		parties[0] = Party{Name: p.from.Name, Address: p.from.Address}
	}
	if len(p.others) > 0 {
		parties[1] = Party{Name: p.others[0].Name, Address: p.others[0].Address}
		headings[1] = parties[1].FirstName()
	}
	for _, blk := range p.blocks {
		if i, err := p.resolve(blk, parties); err == nil {
			lists[i] = append(lists[i], blk.items...)
		}
	}
	placeholders := []string{"(one thing you will do, a line each)", "(one thing they will do, a line each)"}
	for i, who := range headings {
		fmt.Fprintf(&b, "\n%s will:\n", who)
		if len(lists[i]) == 0 {
			lists[i] = []string{placeholders[i]}
		}
		for n, it := range lists[i] {
			fmt.Fprintf(&b, "%d. %s\n", n+1, strings.ReplaceAll(it, "\n", "\n   "))
		}
	}
	if p.checkIn != nil {
		fmt.Fprintf(&b, "\nCheck in: %s\n", p.checkIn)
	} else {
		b.WriteString("\nCheck in: (how often, such as every Sunday at 19:00)\n")
	}
	if p.reminder != nil {
		fmt.Fprintf(&b, "Reminders: %s\n", p.reminder)
	}
	if p.zones != "" {
		fmt.Fprintf(&b, "Time zone: %s\n", p.zones)
	} else if in.DefaultTimeZone == "" {
		b.WriteString("Time zone: (yours, such as Europe/Lisbon)\n")
	}
	d.Template = b.String()
	return d
}
