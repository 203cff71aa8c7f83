package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// pauseOptions are the flags of pause, resume and stop.
type pauseOptions struct {
	as    string
	until string
}

var (
	pauseCommand = partyCommand(agreements.CommandPause, "Pause an agreement's check-ins for one of its parties, as their reply \"pause\" would.", `
The check-ins stop until the party resumes them (or until --until), and both
parties are told, as when the party replies "pause". Use it when a party asks
you in person; --as names them.`)
	resumeCommand = partyCommand(agreements.CommandResume, "Resume an agreement's check-ins for one of its parties, as their reply \"resume\" would.", `
The check-ins come again at the agreed time, and both parties are told, as
when the party replies "resume". It also takes back a "stop" made within the
last 7 days. A break or an end is taken back only by the party who asked for
it, and a party who unsubscribed is not brought back by anyone else.`)
	stopCommand = partyCommand(agreements.CommandStop, "End an agreement for one of its parties, as their reply \"stop\" would.", `
No more check-ins come, and both parties are told, as when the party replies
"stop" twice (by reply, a first "stop" asks again; you have asked them
already). The same party can take it back within 7 days with
"inwriting resume".`)
)

// partyCommand returns the CLI command that gives command c for a party:
// the one implementation of c in the store, as a reply uses it.
func partyCommand(c, summary, help string) *command {
	return &command{
		name:    c,
		summary: summary,
		usage:   "ID",
		nargs:   1,
		help: help + `

What cannot be done (pausing an agreement that is not active, say) is an
error that says why, and nobody is mailed.`,
		flags: func(fs *flag.FlagSet, m *Main) {
			fs.StringVar(&m.pauseOpts.as, "as", "", "the `address` of the party who asks (required)")
			if c == agreements.CommandPause {
				fs.StringVar(&m.pauseOpts.until, "until", "", "pause until the start of this `YYYY-MM-DD`, in the party's own time zone")
			}
		},
		run: func(ctx context.Context, m *Main) error {
			id, err := parseID(m.args[0])
			if err != nil {
				return err
			}
			o := m.pauseOpts
			if strings.TrimSpace(o.as) == "" {
				return usagef("%s: --as is required: the address of the party who asks", c)
			}
			db, err := m.openDB(ctx)
			if err != nil {
				return err
			}
			a, err := db.FindAgreementByID(ctx, id)
			if err != nil {
				return err
			}
			in := agreements.Intent{Kind: agreements.IntentCommand, Command: c}
			if o.until != "" {
				if in.Until, err = untilDate(a, o.as, o.until, m.Now()); err != nil {
					return err
				}
			}
			outcome, err := db.Command(ctx, id, o.as, in)
			if err != nil {
				return err
			}
			fmt.Fprintf(m.Stdout, "Agreement %d: %s, as %s asked. The parties are told by mail.\n", id, outcome, o.as)
			return nil
		},
	}
}

// untilDate reads the --until date as the start of that day in the time
// zone of party by; it must be after now.
func untilDate(a *agreements.Agreement, by, s string, now time.Time) (time.Time, error) {
	d, err := agreements.ParseDate(s)
	if err != nil {
		return time.Time{}, usagef("--until %q: want a date like 2027-01-31", s)
	}
	loc := time.UTC
	if p := a.PartyByAddress(by); p != nil {
		if loc, err = agreements.LoadLocation(p.TimeZone); err != nil {
			return time.Time{}, err
		}
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc)
	if !t.After(now) {
		return time.Time{}, usagef("--until %s is not in the future", s)
	}
	return t, nil
}
