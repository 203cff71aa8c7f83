package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

var verifyCommand = &command{
	name:    "verify",
	summary: "Check a copy of an agreement (its canonical text, or a JSON export) against the record.",
	usage:   "FILE | --all",
	nargs:   -1,
	help: `
Given the canonical text (the agreement-ID-vN.txt attached to every copy),
it says which agreement and version it is, whether every party confirmed
that version, and whether the event log verifies. A copy changed by a single
byte matches nothing.

Given a JSON export (inwriting export --format json), it checks the export
on its own: the hash chain of its event log, each version's fingerprint,
and that each confirmation is in the log. When this server has the same
agreement, it also checks that the export agrees with the record here.

FILE may be - for standard input. The exit code is 0 only when the copy
matches, every party confirmed it, and the log verifies.

With --all, it checks this server's whole database instead: SQLite finds
no fault in it, and every agreement's event log verifies ("backup
--check FILE" does the same for a copy).`,
	flags: func(fs *flag.FlagSet, m *Main) {
		fs.BoolVar(&m.verifyAll, "all", false, "check every agreement's event log, and the database itself")
	},
	run: func(ctx context.Context, m *Main) error {
		switch {
		case m.verifyAll && len(m.args) == 0:
			return m.checkDatabase(ctx, m.Config.Database)
		case m.verifyAll || len(m.args) != 1:
			return usagef("verify takes FILE, or --all alone")
		}
		path := m.args[0]
		var data []byte
		var err error
		if path == "-" {
			data, err = io.ReadAll(io.LimitReader(m.Stdin, 64<<20))
		} else {
			data, err = os.ReadFile(path)
		}
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		db, err := m.openDB(ctx)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
			return m.verifyExport(ctx, db, path, data)
		}
		return m.verifyText(ctx, db, path, data)
	},
}

func (m *Main) verifyText(ctx context.Context, db *agreements.DB, path string, data []byte) error {
	fp := agreements.Fingerprint(string(data))
	v, err := db.FindVersionByFingerprint(ctx, fp)
	if errors.Is(err, agreements.ErrNotFound) {
		fmt.Fprintf(m.Stdout, "NO MATCH: %s matches no agreement version on record.\nIts fingerprint: %s\n", path, fp)
		m.explainMismatch(ctx, db, data)
		return fmt.Errorf("verify: %s matches no confirmed text; a copy changed by even one byte does not match", path)
	} else if err != nil {
		return err
	}
	r, err := db.FindRecord(ctx, v.AgreementID)
	if err != nil {
		return err
	}
	state := "the current version"
	if v.Number != r.Agreement.Version {
		state = fmt.Sprintf("replaced by version %d", r.Agreement.Version)
	}
	fmt.Fprintf(m.Stdout, "MATCH: agreement %d, version %d (%s): %q\nFingerprint: %s\nAgreement status: %s\n",
		v.AgreementID, v.Number, state, v.Terms.Title, v.Fingerprint, r.Agreement.Status)
	return m.reportVerdict(r.ConfirmationsOf(v.Number), r.Agreement.Terms.Parties, r.PartyAddress, r.ChainErr, r.EventCount, v.Number)
}

// explainMismatch says, for a text that names its agreement and version,
// where it first differs from the text on record.
func (m *Main) explainMismatch(ctx context.Context, db *agreements.DB, data []byte) {
	lines := strings.Split(string(data), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "inwriting agreement") {
		return
	}
	id, err1 := strconv.ParseInt(strings.TrimPrefix(lines[1], "Agreement: "), 10, 64)
	n, err2 := strconv.Atoi(strings.TrimPrefix(lines[2], "Version: "))
	if err1 != nil || err2 != nil {
		return
	}
	vs, err := db.FindVersions(ctx, id)
	if err != nil {
		return
	}
	for _, v := range vs {
		if v.Number != n {
			continue
		}
		want := strings.Split(v.CanonicalText, "\n")
		for i := 0; i < len(lines) || i < len(want); i++ {
			var got, exp string
			if i < len(lines) {
				got = lines[i]
			}
			if i < len(want) {
				exp = want[i]
			}
			if got != exp || (i >= len(lines)) != (i >= len(want)) {
				fmt.Fprintf(m.Stdout, "It says it is agreement %d, version %d (fingerprint %s), but differs at line %d:\n  this copy: %q\n  on record: %q\n",
					id, n, v.Fingerprint, i+1, got, exp)
				return
			}
		}
	}
}

// reportVerdict prints who confirmed a version and whether the log
// verifies, and returns an error unless everything holds.
func (m *Main) reportVerdict(cs []*agreements.Confirmation, parties []agreements.Party, addr func(int64) string, chainErr error, events int64, version int) error {
	confirmed := map[int64]bool{}
	fmt.Fprintf(m.Stdout, "Confirmations of version %d:\n", version)
	for _, c := range cs {
		confirmed[c.PartyID] = true
		fmt.Fprintf(m.Stdout, "  %s at %s, message %s, authentication %s\n", addr(c.PartyID), c.ConfirmedAt.Format(time.RFC3339), c.MessageID, c.AuthResult)
	}
	var missing []string
	for _, p := range parties {
		if !confirmed[p.ID] {
			missing = append(missing, p.Address)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(m.Stdout, "  not confirmed by: %s\n", strings.Join(missing, ", "))
	}
	if chainErr != nil {
		fmt.Fprintf(m.Stdout, "Event log: DOES NOT VERIFY: %v\n", chainErr)
		return fmt.Errorf("verify: the event log does not verify: %w", chainErr)
	}
	fmt.Fprintf(m.Stdout, "Event log: verified (%d events).\n", events)
	if len(missing) > 0 {
		return fmt.Errorf("verify: version %d is not confirmed by %s", version, strings.Join(missing, ", "))
	}
	fmt.Fprintf(m.Stdout, "Every party confirmed this version.\n")
	return nil
}

func (m *Main) verifyExport(ctx context.Context, db *agreements.DB, path string, data []byte) error {
	e, err := agreements.ParseExport(data)
	if err != nil {
		return fmt.Errorf("verify: %s: %w", path, err)
	}
	a := e.Agreement
	fmt.Fprintf(m.Stdout, "Export of agreement %d, %q, version %d (%s).\n", a.ID, a.Title, a.Version, a.Status)

	// The export on its own, then against this server's record when it
	// has the agreement.
	c := e.Check()
	problems := c.Problems
	r, err := db.FindRecord(ctx, a.ID)
	switch {
	case errors.Is(err, agreements.ErrNotFound):
		fmt.Fprintf(m.Stdout, "This server has no agreement %d; the export was checked on its own.\n", a.ID)
	case err != nil:
		return err
	default:
		if diffs := r.Compare(e); len(diffs) > 0 {
			for _, d := range diffs {
				problems = append(problems, "it differs from the record on this server: "+d)
			}
		} else {
			fmt.Fprintf(m.Stdout, "It agrees with the record on this server, field by field (%d of %d events).\n", len(e.Events), len(r.Events))
		}
	}
	for _, p := range problems {
		fmt.Fprintf(m.Stdout, "PROBLEM: %s\n", p)
	}
	addr := func(id int64) string {
		if id >= 1 && int(id) <= len(c.Parties) {
			return c.Parties[id-1].Address
		}
		return "unknown party"
	}
	verr := m.reportVerdict(c.Confirmations, c.Parties, addr, c.ChainErr, e.Chain.Count, a.Version)
	if verr == nil && len(problems) > 0 {
		return fmt.Errorf("verify: %s", problems[0])
	}
	return verr
}
