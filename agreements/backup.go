package agreements

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Backup writes a consistent copy of the database to path, while the
// service may be writing to it: SQLite's VACUUM INTO reads one snapshot
// and writes it whole, compacted, to a new file. An existing path is an
// EEXIST-like ECONFLICT error: a backup never overwrites.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err == nil {
		return Errorf(ECONFLICT, "%s exists; a backup is written to a new file", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := db.db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// CheckReport is what Check found in a database.
type CheckReport struct {
	Agreements int      // how many agreements it holds
	Events     int64    // how many events their logs hold, together
	Problems   []string // each agreement whose log does not verify, and each fault SQLite found; none for a whole database
}

// Check proves the database whole: SQLite finds no fault in its pages
// and indexes, and every agreement's event log is an unbroken hash chain
// up to the head its row records.
func (db *DB) Check(ctx context.Context) (CheckReport, error) {
	var rep CheckReport
	rows, err := db.db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return rep, fmt.Errorf("integrity check: %w", err)
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return rep, err
		}
		if line != "ok" {
			rep.Problems = append(rep.Problems, "sqlite: "+line)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	ids, err := db.ids(ctx, `SELECT id FROM agreements ORDER BY id`)
	if err != nil {
		return rep, err
	}
	for _, id := range ids {
		events, err := db.FindEvents(ctx, id)
		if err != nil {
			return rep, err
		}
		count, head, err := db.EventHead(ctx, id)
		if err != nil {
			return rep, err
		}
		if err := VerifyChain(events, head, count); err != nil {
			rep.Problems = append(rep.Problems, fmt.Sprintf("agreement %d: %v", id, err))
		}
		rep.Agreements++
		rep.Events += int64(len(events))
	}
	return rep, nil
}

// Whole reports whether the check found nothing wrong.
func (r CheckReport) Whole() bool { return len(r.Problems) == 0 }

// String says what the check found, in a line or more.
func (r CheckReport) String() string {
	s := fmt.Sprintf("%d agreements, %d events", r.Agreements, r.Events)
	if r.Whole() {
		return s + ": every event log verifies, and SQLite finds no fault"
	}
	return s + "; problems:\n  " + strings.Join(r.Problems, "\n  ")
}
