package agreements

import (
	"context"
	"errors"
	"fmt"
)

// Timers say when an agreement's next round opens (or its pause ends) and
// when its next reminder of the terms is due. They are kept in the order
// they fire (migration 0007): a pass reads and deletes the ones that have
// come due, a range at the front of the table, and sets the next ones,
// each after the others set for its time, at the end of that time's
// range. So a pass that fires ten thousand timers changes a few pages of
// the table, not a page for each.
//
// Nothing finds an agreement's timers, so nothing deletes them when the
// agreement pauses, resumes, ends or becomes active again. Instead each
// timer belongs to a generation of the agreement's timers: voidTimers
// moves the agreement to a new one, and a timer of an older generation
// does nothing when it comes due but go away.

// timerKind is what a timer does when it fires.
type timerKind string

const (
	timerRound    timerKind = "round"    // open the round that is due, or end a pause
	timerReminder timerKind = "reminder" // remind the parties of the terms
	timerConfirm  timerKind = "confirm"  // remind to confirm, or expire, a version that waits
	// An amendment of an agreement in force waits beside its rounds: its
	// timer's gen is the version that waits, not a generation, so that
	// pausing and resuming, which void the rounds' timers, leave it be.
	timerAmend timerKind = "amend"
)

// A timer is one row of the timers table.
type timer struct {
	at        string // UTC, as formatTime writes it
	seq       int64  // orders the timers set for the same time
	agreement int64
	kind      timerKind
	gen       int64 // the agreement's timer generation it was set in
}

// voidTimers moves agreement a to a new generation of timers: the timers
// set for it before no longer fire.
func voidTimers(ctx context.Context, tx *Tx, a *Agreement) error {
	err := tx.QueryRowContext(ctx, `UPDATE agreements SET timer_gen = timer_gen + 1 WHERE id = ? RETURNING timer_gen`, a.ID).Scan(&a.timerGen)
	if err != nil {
		return fmt.Errorf("void timers of agreement %d: %w", a.ID, err)
	}
	return nil
}

// setTimers adds the timers ts (their seq is set here), each after the
// timers already set for its time.
func setTimers(ctx context.Context, tx *Tx, ts []timer) error {
	if len(ts) == 0 {
		return nil
	}
	last := map[string]int64{} // the largest seq set for each time
	var ats [][]any
	for _, t := range ts {
		if _, ok := last[t.at]; !ok {
			last[t.at] = 0
			ats = append(ats, []any{t.at})
		}
	}
	param, err := jsonParam(ats)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT j.value->>0, (SELECT coalesce(max(seq), 0) FROM timers WHERE at = j.value->>0) FROM json_each(?) j`, param)
	if err != nil {
		return fmt.Errorf("set timers: %w", err)
	}
	for rows.Next() {
		var at string
		var seq int64
		if err := rows.Scan(&at, &seq); err != nil {
			rows.Close()
			return fmt.Errorf("set timers: %w", err)
		}
		last[at] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("set timers: %w", err)
	}
	values := make([][]any, len(ts))
	for i := range ts {
		t := &ts[i]
		last[t.at]++
		t.seq = last[t.at]
		values[i] = []any{t.at, t.seq, t.agreement, string(t.kind), t.gen}
	}
	if err := insertRows(ctx, tx, `INSERT INTO timers (at, seq, agreement_id, kind, gen) VALUES `, 5, ``, values, nil); err != nil {
		return fmt.Errorf("set timers: %w", err)
	}
	return nil
}

// dropTimers deletes the timers ts.
func dropTimers(ctx context.Context, tx *Tx, ts []timer) error {
	if len(ts) == 0 {
		return nil
	}
	keys := make([][]any, len(ts))
	for i, t := range ts {
		keys[i] = []any{t.at, t.seq}
	}
	if err := execJSON(ctx, tx, `DELETE FROM timers WHERE (at, seq) IN (SELECT value->>0, value->>1 FROM json_each(?))`, keys); err != nil {
		return fmt.Errorf("drop timers: %w", err)
	}
	return nil
}

// dueTimers returns, in the order they fire, up to limit timers that have
// come due by now and come after the timer after (all of them when after
// is the zero timer).
func (db *DB) dueTimers(ctx context.Context, now string, after timer, limit int) ([]timer, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT at, seq, agreement_id, kind, gen FROM timers
		WHERE at <= ? AND (at, seq) > (?, ?) ORDER BY at, seq LIMIT ?`, now, after.at, after.seq, limit)
	if err != nil {
		return nil, fmt.Errorf("find due timers: %w", err)
	}
	defer rows.Close()
	var ts []timer
	for rows.Next() {
		var t timer
		if err := rows.Scan(&t.at, &t.seq, &t.agreement, &t.kind, &t.gen); err != nil {
			return nil, fmt.Errorf("find due timers: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find due timers: %w", err)
	}
	return ts, nil
}

// fire takes timer t out of the table and returns its agreement, or nil
// when t is void or the agreement is not there.
func fire(ctx context.Context, tx *Tx, t timer) (*Agreement, error) {
	if err := dropTimers(ctx, tx, []timer{t}); err != nil {
		return nil, err
	}
	a, err := findAgreementByID(ctx, tx, t.agreement)
	if errors.Is(err, ErrNotFound) || err == nil && !t.fires(a) {
		return nil, nil
	}
	return a, err
}

// fires reports whether timer t is of a's current generation: a is nil
// when its agreement was not found.
func (t timer) fires(a *Agreement) bool { return a != nil && a.timerGen == t.gen }
