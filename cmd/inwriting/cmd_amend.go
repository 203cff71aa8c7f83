package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/inwriting/inwriting/agreements"
)

// amendOptions are the flags of amend.
type amendOptions struct {
	fromFile string
}

var amendCommand = &command{
	name:    "amend",
	summary: "Write down a new version of an agreement and send it to both parties to confirm.",
	usage:   "ID",
	nargs:   1,
	help: `
The new version is read from a file in the same form as "new" takes
(inwriting export ID --format md shows the current one). The parties stay
the same, in the same order. The changed lines are shown, and each party
is asked to confirm the new version by reply. Until both have, the
version they confirmed stays in force and check-ins go on with it; if the
new version is declined or not confirmed in time, that version simply
stays. An agreement not yet confirmed waits for the new version instead.
A party can do the same by replying "amend:" and the parts that change.

Example:
  inwriting amend 3 --from-file evenings-v2.txt`,
	flags: func(fs *flag.FlagSet, m *Main) {
		fs.StringVar(&m.amendOpts.fromFile, "from-file", "", "read the new version from `FILE` (- for standard input; required)")
	},
	run: func(ctx context.Context, m *Main) error {
		id, err := parseID(m.args[0])
		if err != nil {
			return err
		}
		if m.amendOpts.fromFile == "" {
			return usagef("amend: --from-file is required: the new version, written as for \"new\"")
		}
		terms, err := m.termsFromFile(m.amendOpts.fromFile)
		if err != nil {
			return err
		}
		db, err := m.openDB(ctx)
		if err != nil {
			return err
		}
		before, err := db.FindAgreementByID(ctx, id)
		if err != nil {
			return err
		}
		a, err := db.AmendAgreement(ctx, id, terms)
		if err != nil {
			return err
		}
		n := max(a.Version, a.Proposed)
		vs, err := db.FindVersions(ctx, id)
		if err != nil {
			return err
		}
		v := vs[len(vs)-1]
		if v.Number != n {
			return fmt.Errorf("amend: agreement %d: version %d is not its newest", id, n)
		}
		if a.Proposed != 0 {
			fmt.Fprintf(m.Stdout, "Agreement %d: version %d, %q, waits for confirmation. Version %d stays in force until everyone has confirmed it.\n", a.ID, n, v.Terms.Title, a.Version)
		} else {
			fmt.Fprintf(m.Stdout, "Agreement %d is now version %d, %q.\n", a.ID, n, v.Terms.Title)
		}
		fmt.Fprintf(m.Stdout, "Fingerprint: %s\n", v.Fingerprint)
		fmt.Fprintf(m.Stdout, "Changed from version %d:\n", before.Version)
		for _, l := range agreements.ChangedLines(agreements.CanonicalText(id, before.Version, before.Terms), v.CanonicalText) {
			fmt.Fprintf(m.Stdout, "  %s\n", l)
		}
		if a.Status != agreements.StatusDraft {
			m.sayWaiting(a)
		}
		return nil
	},
}
