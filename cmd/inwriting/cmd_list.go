package main

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/inwriting/inwriting/agreements"
)

type listOptions struct {
	status string
	party  string
}

var listCommand = &command{
	name:    "list",
	summary: "List agreements, newest first.",
	nargs:   0,
	flags: func(fs *flag.FlagSet, m *Main) {
		fs.StringVar(&m.listOpts.status, "status", "", "only agreements with this `status` (draft, pending, active, paused, ended, expired, declined)")
		fs.StringVar(&m.listOpts.party, "party", "", "only agreements with this party `address`")
	},
	run: func(ctx context.Context, m *Main) error {
		o := m.listOpts
		switch agreements.Status(o.status) {
		case "", agreements.StatusDraft, agreements.StatusPending, agreements.StatusActive, agreements.StatusPaused,
			agreements.StatusEnded, agreements.StatusExpired, agreements.StatusDeclined:
		default:
			return usagef("list: --status %q is not a status", o.status)
		}
		db, err := m.openDB(ctx)
		if err != nil {
			return err
		}
		as, err := db.FindAgreements(ctx, agreements.AgreementFilter{Status: agreements.Status(o.status), Address: o.party})
		if err != nil {
			return err
		}
		if len(as) == 0 {
			fmt.Fprintln(m.Stdout, "No agreements.")
			return nil
		}
		w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "ID\tSTATUS\tVERSION\tUPDATED\tPARTIES\tTITLE")
		for _, a := range as {
			fmt.Fprintf(w, "%d\t%s\t%d\t%s\t%s\t%s\n", a.ID, a.Status, a.Version, a.UpdatedAt.Format("2006-01-02 15:04"), partyAddresses(a.Terms.Parties), a.Terms.Title)
		}
		return w.Flush()
	},
}

// parseID reads an agreement ID argument.
func parseID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, usagef("%q is not an agreement ID (a number, as 'inwriting list' shows)", s)
	}
	return id, nil
}
