package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"strings"

	"github.com/inwriting/inwriting/agreements"
)

type newOptions struct {
	fromFile      string
	title         string
	whatWentWrong string
	parties       stringList
	timeZones     stringList
	will          stringList
	checkIn       string
	reminder      string
}

var newCommand = &command{
	name:    "new",
	summary: "Write down a new agreement, from a file, from flags, or by answering questions.",
	nargs:   0,
	help: `
From a file (or - for standard input), in the plain-text format people
write by email (see deploy/example-agreement.txt):

  inwriting new --from-file deploy/example-agreement.txt

From flags (the first --party proposes; --will takes "WHO: what", where WHO
is a name, an address, or "I"):

  inwriting new --title "Evenings and phone calls" \
    --party "Alice Example <alice@example.test>" --party "Bob <bob@example.test>" \
    --tz Europe/Lisbon --tz America/Chicago \
    --what-went-wrong "I said I would call when late, and did not." \
    --will "Alice: Call before 18:00 when late." --will "Bob: Ask when worried." \
    --check-in "every Sunday at 19:00"

With neither, on a terminal, it asks for each part in turn.
The new agreement waits for every party to confirm it.`,
	flags: func(fs *flag.FlagSet, m *Main) {
		o := &m.newOpts
		fs.StringVar(&o.fromFile, "from-file", "", "read the agreement from `FILE` (- for standard input)")
		fs.StringVar(&o.title, "title", "", "the agreement's `title`")
		fs.StringVar(&o.whatWentWrong, "what-went-wrong", "", "what went wrong, in a few sentences")
		fs.Var(&o.parties, "party", "a party, as `\"Name <address>\"`; give it once per party, the proposer first")
		fs.Var(&o.timeZones, "tz", "a party's IANA `zone`, in --party order; one --tz applies to all")
		fs.Var(&o.will, "will", "a commitment, as `\"WHO: what they will do\"`; repeat for each")
		fs.StringVar(&o.checkIn, "check-in", "", "how often to check in, like `\"every Sunday at 19:00\"`")
		fs.StringVar(&o.reminder, "reminder", "", "how often to remind both of the terms (default none)")
	},
	run: runNew,
}

func runNew(ctx context.Context, m *Main) error {
	o := &m.newOpts
	byFlags := o.title != "" || o.whatWentWrong != "" || len(o.parties) > 0 || len(o.will) > 0 || o.checkIn != ""
	var terms agreements.Terms
	var err error
	switch {
	case o.fromFile != "" && byFlags:
		return usagef("new: give --from-file or the agreement's flags, not both")
	case o.fromFile != "":
		terms, err = m.termsFromFile(o.fromFile)
	case byFlags:
		terms, err = m.termsFromFlags(o)
	case m.IsTerminal():
		terms, err = m.termsFromPrompts()
	default:
		return usagef("new: give --from-file FILE, the agreement's flags, or run it on a terminal to be asked")
	}
	if err != nil {
		return err
	}
	db, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	a, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Created agreement %d, %q, version %d.\nFingerprint: %s\n", a.ID, a.Terms.Title, a.Version, a.Fingerprint)
	m.sayWaiting(a)
	return nil
}

// sayWaiting says who is asked to confirm agreement a, or, when this
// configuration cannot send mail, that nobody is asked yet.
func (m *Main) sayWaiting(a *agreements.Agreement) {
	if m.Config.Service.Address == "" || m.Config.SMTP.Host == "" {
		fmt.Fprintf(m.Stdout, "The requests to confirm wait in the outbox: this configuration has no service.address or smtp.host, so nothing can be sent until \"inwriting serve\" runs with them.\n")
		return
	}
	fmt.Fprintf(m.Stdout, "Waiting for confirmation by %s.\n", partyAddresses(a.Terms.Parties))
}

func (m *Main) termsFromFile(path string) (agreements.Terms, error) {
	var data []byte
	var err error
	if path == "-" {
		data, err = io.ReadAll(io.LimitReader(m.Stdin, 1<<20))
	} else {
		data, err = os.ReadFile(path)
	}
	if err != nil {
		return agreements.Terms{}, err
	}
	terms, err := agreements.ParseProposal(agreements.ProposalInput{Text: string(data), DefaultTimeZone: m.Config.DefaultTimeZone})
	if err != nil {
		return agreements.Terms{}, fmt.Errorf("%s: %w", path, err)
	}
	return terms, nil
}

func (m *Main) termsFromFlags(o *newOptions) (agreements.Terms, error) {
	t := agreements.Terms{Title: o.title, WhatWentWrong: o.whatWentWrong}
	if len(o.parties) < 2 {
		return t, usagef("new: give --party at least twice, once for each person")
	}
	for _, s := range o.parties {
		a, err := mail.ParseAddress(s)
		if err != nil {
			return t, usagef("new: --party %q is not like \"Name <address>\"", s)
		}
		t.Parties = append(t.Parties, agreements.Party{Name: a.Name, Address: a.Address, TimeZone: m.Config.DefaultTimeZone})
	}
	if err := agreements.DistinctParties(t.Parties); err != nil {
		return t, usagef("new: %s", agreements.ErrorMessage(err))
	}
	switch len(o.timeZones) {
	case 0:
	case 1:
		for i := range t.Parties {
			t.Parties[i].TimeZone = o.timeZones[0]
		}
	case len(t.Parties):
		for i := range t.Parties {
			t.Parties[i].TimeZone = o.timeZones[i]
		}
	default:
		return t, usagef("new: give --tz once for everyone or once per --party (%d), not %d times", len(t.Parties), len(o.timeZones))
	}
	for _, w := range o.will {
		who, what, ok := strings.Cut(w, ":")
		if !ok || strings.TrimSpace(what) == "" {
			return t, usagef("new: --will %q is not like \"Alice: what Alice will do\"", w)
		}
		i, err := agreements.PartyIndex(t.Parties, who)
		if err != nil {
			return t, usagef("new: --will: %v", err)
		}
		t.Parties[i].Commitments = append(t.Parties[i].Commitments, strings.TrimSpace(what))
	}
	if o.checkIn == "" {
		return t, usagef("new: --check-in is required, like \"every Sunday at 19:00\"")
	}
	s, err := agreements.ParseSchedule(o.checkIn)
	if err != nil {
		return t, fmt.Errorf("--check-in: %w", err)
	}
	t.CheckIn = s
	if o.reminder != "" {
		s, err := agreements.ParseSchedule(o.reminder)
		if err != nil {
			return t, fmt.Errorf("--reminder: %w", err)
		}
		t.Reminder = &s
	}
	return t, nil
}

// termsFromPrompts asks for each part on the terminal, asking again after
// an answer it cannot use.
func (m *Main) termsFromPrompts() (agreements.Terms, error) {
	p := prompter{in: bufio.NewScanner(m.Stdin), out: m.Stderr}
	var t agreements.Terms
	var err error
	fmt.Fprintln(p.out, "A new agreement. Press Ctrl-D to stop at any time.")
	if t.Title, err = p.ask("Title", func(s string) error { return nonEmpty(s, "a title") }); err != nil {
		return t, err
	}
	for i, who := range []string{"You (name and address, like Alice Example <alice@example.test>)", "The other person (name and address)"} {
		s, err := p.ask(who, func(s string) error {
			a, err := mail.ParseAddress(s)
			if err != nil {
				return fmt.Errorf("that is not like \"Name <address>\"")
			}
			if i == 1 && strings.EqualFold(a.Address, t.Parties[0].Address) {
				return fmt.Errorf("that is your own address")
			}
			return nil
		})
		if err != nil {
			return t, err
		}
		a, _ := mail.ParseAddress(s)
		party := agreements.Party{Name: a.Name, Address: a.Address}
		zone, err := p.askDefault("Time zone of "+party.FirstName(), m.Config.DefaultTimeZone, func(s string) error {
			_, err := agreements.LoadLocation(s)
			return err
		})
		if err != nil {
			return t, err
		}
		party.TimeZone = zone
		t.Parties = append(t.Parties, party)
	}
	if t.WhatWentWrong, err = p.askLines("What went wrong? (end with an empty line)"); err != nil {
		return t, err
	}
	for i := range t.Parties {
		lines, err := p.askList(fmt.Sprintf("What will %s do? One commitment a line; end with an empty line", t.Parties[i].FirstName()))
		if err != nil {
			return t, err
		}
		t.Parties[i].Commitments = lines
	}
	s, err := p.ask("How often to check in (like every Sunday at 19:00)", func(s string) error {
		_, err := agreements.ParseSchedule(s)
		return err
	})
	if err != nil {
		return t, err
	}
	t.CheckIn, _ = agreements.ParseSchedule(s)

	// What will be saved, before it is: the same words "show" prints.
	t.Normalize()
	if err := t.Validate(); err != nil {
		return t, err
	}
	fmt.Fprintf(p.out, "\nThis is what will be sent to both of you to confirm:\n\n")
	writeTerms(p.out, t)
	ok, err := p.ask(fmt.Sprintf("\nSend it to %s to confirm? (yes or no)", partyAddresses(t.Parties)), func(s string) error {
		if yes, no := isYes(s), isNo(s); !yes && !no {
			return fmt.Errorf("yes or no")
		}
		return nil
	})
	if err != nil {
		return t, err
	}
	if !isYes(ok) {
		return t, errors.New("new: not sent; nothing was saved")
	}
	return t, nil
}

func isYes(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "y", "yes":
		return true
	}
	return false
}

func isNo(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "n", "no":
		return true
	}
	return false
}

type prompter struct {
	in  *bufio.Scanner
	out io.Writer
}

var errPromptEOF = errors.New("new: stopped before the agreement was complete; nothing was saved")

func (p *prompter) line() (string, error) {
	if !p.in.Scan() {
		if err := p.in.Err(); err != nil {
			return "", fmt.Errorf("new: read answer: %w", err)
		}
		return "", errPromptEOF
	}
	return strings.TrimSpace(p.in.Text()), nil
}

func (p *prompter) ask(q string, check func(string) error) (string, error) {
	return p.askDefault(q, "", check)
}

func (p *prompter) askDefault(q, def string, check func(string) error) (string, error) {
	for {
		if def != "" {
			fmt.Fprintf(p.out, "%s [%s]: ", q, def)
		} else {
			fmt.Fprintf(p.out, "%s: ", q)
		}
		s, err := p.line()
		if err != nil {
			return "", err
		}
		if s == "" {
			s = def
		}
		if err := check(s); err != nil {
			fmt.Fprintf(p.out, "  %v; please try again.\n", err)
			continue
		}
		return s, nil
	}
}

func (p *prompter) askLines(q string) (string, error) {
	fmt.Fprintf(p.out, "%s\n", q)
	var lines []string
	for {
		s, err := p.line()
		if err != nil {
			return "", err
		}
		if s == "" {
			if len(lines) == 0 {
				fmt.Fprintln(p.out, "  Please write at least one line.")
				continue
			}
			return strings.Join(lines, "\n"), nil
		}
		lines = append(lines, s)
	}
}

func (p *prompter) askList(q string) ([]string, error) {
	s, err := p.askLines(q)
	if err != nil {
		return nil, err
	}
	return strings.Split(s, "\n"), nil
}

func nonEmpty(s, what string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("please give %s", what)
	}
	return nil
}

func partyAddresses(ps []agreements.Party) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Address
	}
	return strings.Join(s, " and ")
}
