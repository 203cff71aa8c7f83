package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

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
is asked to confirm the new version by reply; until both have, the
agreement waits for confirmation, and its check-ins pause.

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
		fmt.Fprintf(m.Stdout, "Agreement %d is now version %d, %q.\nFingerprint: %s\n", a.ID, a.Version, a.Terms.Title, a.Fingerprint)
		fmt.Fprintf(m.Stdout, "Changed from version %d:\n", before.Version)
		for _, l := range changedLines(agreements.CanonicalText(id, before.Version, before.Terms), agreements.CanonicalText(id, a.Version, a.Terms)) {
			fmt.Fprintf(m.Stdout, "  %s\n", l)
		}
		if a.Status == agreements.StatusPending {
			m.sayWaiting(a)
		}
		return nil
	},
}

// changedLines returns the lines of the canonical text that the new
// version removed ("- ") and added ("+ "), in order, from a line-by-line
// longest common subsequence; the header's version line is left out.
func changedLines(old, new string) []string {
	a, b := strings.Split(old, "\n"), strings.Split(new, "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	add := func(prefix, l string) {
		if !strings.HasPrefix(l, "Version: ") && strings.TrimSpace(l) != "" {
			out = append(out, prefix+l)
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			add("+ ", b[j])
			j++
		default:
			add("- ", a[i])
			i++
		}
	}
	return out
}
