package agreements

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// earliest returns the first instant of day d's check-in: the schedule's
// time in the time zone of the party whose clock gets there first.
func earliest(a *Agreement, d Date) time.Time { return earliestOf(a, a.Terms.CheckIn, d) }

func earliestOf(a *Agreement, s Schedule, d Date) time.Time {
	var first time.Time
	for _, p := range a.Terms.Parties {
		loc, err := LoadLocation(p.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		if t := s.At(d, loc); first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first
}

// nextRoundAt returns when the first round after instant after opens.
func nextRoundAt(a *Agreement, anchor Date, after time.Time) time.Time {
	return nextAt(a, a.Terms.CheckIn, anchor, after)
}

// nextAt returns the first instant after after at which an occurrence of
// s begins for some party.
func nextAt(a *Agreement, s Schedule, anchor Date, after time.Time) time.Time {
	d, ok := nextDay(a, s, anchor, after)
	if !ok {
		return time.Time{}
	}
	return earliestOf(a, s, d)
}

// nextDay returns the first day of schedule s, counted from anchor, whose
// earliest instant (see earliestOf) is after after.
func nextDay(a *Agreement, s Schedule, anchor Date, after time.Time) (Date, bool) {
	d := DateOf(after.UTC()).AddDays(-2)
	if d.Before(anchor) {
		d = anchor.AddDays(-1)
	}
	for range 1000 {
		d = s.Next(d, anchor)
		if earliestOf(a, s, d).After(after) {
			return d, true
		}
	}
	return Date{}, false
}

// startRounds sets the timers of a newly active (or resumed) agreement:
// for its first round and its first reminder, in a new generation that
// voids the timers set before. The schedule's intervals count from the day
// it first became active.
func startRounds(ctx context.Context, tx *Tx, a *Agreement) error {
	since := a.activeSince
	if since == "" {
		since = DateOf(tx.now.UTC()).String()
	}
	anchor, err := ParseDate(since)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET active_since = ? WHERE id = ?`, since, a.ID); err != nil {
		return err
	}
	a.activeSince = since
	if err := voidTimers(ctx, tx, a); err != nil {
		return err
	}
	var ts []timer
	if next := nextRoundAt(a, anchor, tx.now); !next.IsZero() {
		ts = append(ts, timer{at: formatTime(next), agreement: a.ID, kind: timerRound, gen: a.timerGen})
	}
	if a.Terms.Reminder != nil {
		if next := nextAt(a, *a.Terms.Reminder, anchor, tx.now); !next.IsZero() {
			ts = append(ts, timer{at: formatTime(next), agreement: a.ID, kind: timerReminder, gen: a.timerGen})
		}
	}
	return setTimers(ctx, tx, ts)
}

// remindTerms fires reminder timer t: it sends each party of its
// agreement, at their own local time, the reminder of their commitments
// that is due, once, and sets the timer of the next.
func (db *DB) remindTerms(ctx context.Context, t timer) (int, error) {
	sent := 0
	err := db.inTx(ctx, func(tx *Tx) error {
		a, err := fire(ctx, tx, t)
		if err != nil || a == nil || a.Status != StatusActive || a.Terms.Reminder == nil {
			return err
		}
		s := *a.Terms.Reminder
		since, err := ParseDate(a.activeSince)
		if err != nil {
			return fmt.Errorf("agreement %d: active_since %q: %w", a.ID, a.activeSince, err)
		}
		d, ok := s.Latest(DateOf(tx.now.UTC()).AddDays(1), since)
		for ok && earliestOf(a, s, d).After(tx.now) {
			d, ok = s.Latest(d.AddDays(-1), since)
		}
		var later time.Time // a party whose local time has not come yet
		if ok {
			for i := range a.Terms.Parties {
				p := &a.Terms.Parties[i]
				loc, err := LoadLocation(p.TimeZone)
				if err != nil {
					return err
				}
				if at := s.At(d, loc); at.After(tx.now) {
					if later.IsZero() || at.Before(later) {
						later = at
					}
					continue
				}
				key := fmt.Sprintf("%s:%d:%s:%d", MailTermsReminder, a.ID, d, p.ID)
				q, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailTermsReminder, agreement: a, party: p, purpose: PurposeCommands})
				if err != nil {
					return err
				}
				if q {
					sent++
				}
			}
		}
		if later.IsZero() {
			later = nextAt(a, s, since, tx.now)
		}
		if later.IsZero() {
			return nil
		}
		return setTimers(ctx, tx, []timer{{at: formatTime(later), agreement: a.ID, kind: timerReminder, gen: a.timerGen}})
	})
	return sent, err
}

// ActiveSince returns the day agreement id first became active, or the
// zero Date when it has not.
func (db *DB) ActiveSince(ctx context.Context, id int64) (Date, error) {
	var since string
	if err := db.db.QueryRowContext(ctx, `SELECT active_since FROM agreements WHERE id = ?`, id).Scan(&since); err != nil {
		return Date{}, errNoRows(err, fmt.Sprintf("there is no agreement %d", id))
	}
	if since == "" {
		return Date{}, nil
	}
	return ParseDate(since)
}

// ScheduleStats counts what one scheduler pass did.
type ScheduleStats struct {
	Opened, CheckIns, Nudges, Digests, Resumed, Reminders int
	ConfirmReminders, Expired                             int // of versions that wait for confirmation
}

// RunSchedule does the timed work of the check-in routine, as of the
// store's clock: it opens the rounds that are due (after downtime only the
// latest missed one), mails each party's check-in at their own local time,
// nudges once, halfway through their own time to answer, whoever has not
// answered, and sends the digests of rounds that everyone answered or
// whose last party's time is up. It also sends the one reminder to
// confirm a version, and expires a version left unconfirmed too long.
// Every step is recorded with its mail, so a pass can run any number of
// times, or be cut short, and nothing is doubled.
func (db *DB) RunSchedule(ctx context.Context) (ScheduleStats, error) {
	var st ScheduleStats
	now := formatTime(db.Now().UTC())

	// The timers that have come due: rounds to open, pauses to end,
	// reminders to send; a chunk at a time, each chunk of rounds in one
	// transaction of a handful of statements.
	var last timer
	for {
		ts, err := db.dueTimers(ctx, now, last, scheduleChunk)
		if err != nil {
			return st, err
		}
		if len(ts) == 0 {
			break
		}
		last = ts[len(ts)-1]
		var rounds, pauses, reminders, confirms, amends []timer
		for _, t := range ts {
			switch t.kind {
			case timerRound:
				rounds = append(rounds, t)
			case timerReminder:
				reminders = append(reminders, t)
			case timerConfirm:
				confirms = append(confirms, t)
			case timerAmend:
				amends = append(amends, t)
			default: // not of this inwriting: left alone, and not in everyone's way
				db.Logger.Error("schedule: a timer of an unknown kind", "at", t.at, "seq", t.seq, "agreement", t.agreement, "kind", t.kind)
			}
		}
		if len(rounds) > 0 {
			if err := db.inTx(ctx, func(tx *Tx) error {
				var err error
				var opened, mailed int
				opened, mailed, pauses, err = fireRounds(ctx, tx, rounds)
				st.Opened += opened
				st.CheckIns += mailed
				return err
			}); err != nil {
				return st, err
			}
		}
		for _, t := range pauses {
			resumed, err := db.endPause(ctx, t)
			if err != nil {
				return st, err
			}
			if resumed {
				st.Resumed++
			}
		}
		for _, t := range reminders {
			n, err := db.remindTerms(ctx, t)
			if err != nil {
				return st, err
			}
			st.Reminders += n
		}
		for _, t := range confirms {
			if err := db.awaitConfirmation(ctx, t, &st); err != nil {
				return st, err
			}
		}
		for _, t := range amends {
			if err := db.awaitAmendment(ctx, t, &st); err != nil {
				return st, err
			}
		}
	}

	// Check-ins whose party's local time has come since their round opened.
	dues, err := db.roundParties(ctx, `SELECT rp.round_id, rp.party_id, rp.deadline FROM round_parties rp JOIN rounds r ON r.id = rp.round_id
		WHERE rp.mailed = 0 AND rp.due_at <= ? AND r.digest_sent_at = ''`, now)
	if err != nil {
		return st, fmt.Errorf("find due check-ins: %w", err)
	}
	for chunk := range slices.Chunk(dues, scheduleChunk) {
		if err := db.inTx(ctx, func(tx *Tx) error { return mailCheckIns(ctx, tx, chunk, MailCheckIn) }); err != nil {
			return st, err
		}
		st.CheckIns += len(chunk)
	}

	// Nudges: halfway through a party's own time to answer, written out
	// in SQL as due + (deadline - due) / 2 <= now.
	// Only open rounds are read (rounds_open; CROSS JOIN keeps that order):
	// every check-in ever mailed stays mailed.
	dues, err = db.roundParties(ctx, `SELECT rp.round_id, rp.party_id, rp.deadline FROM rounds r CROSS JOIN round_parties rp ON rp.round_id = r.id
		WHERE r.digest_sent_at = '' AND rp.mailed = 1 AND rp.nudged = 0 AND rp.answered_at = ''
		AND (unixepoch(rp.due_at) + unixepoch(rp.deadline)) / 2 <= unixepoch(?)`, now)
	if err != nil {
		return st, fmt.Errorf("find nudges: %w", err)
	}
	for chunk := range slices.Chunk(dues, scheduleChunk) {
		if err := db.inTx(ctx, func(tx *Tx) error { return mailCheckIns(ctx, tx, chunk, MailNudge) }); err != nil {
			return st, err
		}
		st.Nudges += len(chunk)
	}

	rounds, err := db.ids(ctx, `SELECT id FROM rounds WHERE digest_sent_at = '' AND deadline <= ?`, now)
	if err != nil {
		return st, err
	}
	// A hundred rounds' digests to a transaction: a commit writes the
	// last pages of the outbox and token tables again, and a round's
	// digests take a fraction of a millisecond.
	for chunk := range slices.Chunk(rounds, digestChunk) {
		if err := db.inTx(ctx, func(tx *Tx) error {
			for _, r := range chunk {
				if err := sendDigests(ctx, tx, r); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return st, err
		}
		st.Digests += len(chunk)
	}
	return st, nil
}

// nextConfirmTimer returns when the confirmation timer of a version
// created at created fires next, as of now: at its reminder while that is
// to come, else at its expiry.
func (db *DB) nextConfirmTimer(created, now time.Time) time.Time {
	if remind := created.Add(db.RemindAfter); db.RemindAfter > 0 && remind.Before(created.Add(db.ConfirmFor)) && now.Before(remind) {
		return remind
	}
	return created.Add(db.ConfirmFor)
}

// awaitConfirmation fires confirmation timer t of an agreement whose
// current version waits for confirmation: it expires the version once
// ConfirmFor has passed since it was sent; before that, once RemindAfter
// has passed, it reminds each party who has not confirmed it, once. Then
// it sets the timer again for what comes next. The times are those of the
// configuration now, so a changed configuration holds at the next timer.
func (db *DB) awaitConfirmation(ctx context.Context, t timer, st *ScheduleStats) error {
	return db.inTx(ctx, func(tx *Tx) error {
		a, err := fire(ctx, tx, t)
		if err != nil || a == nil || a.Status != StatusPending {
			return err
		}
		created, err := versionCreated(ctx, tx, a.ID, a.Version)
		if err != nil {
			return err
		}
		deadline := created.Add(db.ConfirmFor)
		if !tx.now.Before(deadline) {
			if err := setStatus(ctx, tx, a.ID, StatusExpired); err != nil {
				return err
			}
			if err := appendEvent(ctx, tx, a.ID, EventExpired, ChangeEvent{Version: a.Version}); err != nil {
				return err
			}
			a.Status = StatusExpired
			st.Expired++
			return queueToAll(ctx, tx, a, MailExpired, PurposeCommands, MailData{})
		}
		if db.RemindAfter > 0 && !tx.now.Before(created.Add(db.RemindAfter)) {
			n, err := remindToConfirm(ctx, tx, a, MailData{Deadline: deadline})
			if err != nil {
				return err
			}
			st.ConfirmReminders += n
		}
		return setTimers(ctx, tx, []timer{{at: formatTime(db.nextConfirmTimer(created, tx.now)), agreement: a.ID, kind: timerConfirm, gen: a.timerGen}})
	})
}

// remindToConfirm queues the one reminder to confirm a's current version
// to each party who has not, and returns how many it queued.
func remindToConfirm(ctx context.Context, tx *Tx, a *Agreement, d MailData) (int, error) {
	n := 0
	for i := range a.Terms.Parties {
		p := &a.Terms.Parties[i]
		var confirmed bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM confirmations WHERE agreement_id = ? AND version = ? AND party_id = ?)`, a.ID, a.Version, p.ID).Scan(&confirmed); err != nil {
			return 0, err
		}
		if confirmed {
			continue
		}
		key := fmt.Sprintf("%s:%d:%d:%d", MailConfirmReminder, a.ID, a.Version, p.ID)
		queued, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailConfirmReminder, agreement: a, party: p, purpose: PurposeConfirm, ref: int64(a.Version),
			data: d})
		if err != nil {
			return 0, err
		}
		if queued {
			n++
		}
	}
	return n, nil
}

// endPause fires round timer t of an agreement paused until then: the
// agreement is active again, and its next round is the first after now;
// the rounds that fell in the pause stay closed.
func (db *DB) endPause(ctx context.Context, t timer) (resumed bool, err error) {
	err = db.inTx(ctx, func(tx *Tx) error {
		a, err := fire(ctx, tx, t)
		if err != nil || a == nil || a.Status != StatusPaused {
			return err
		}
		if err := setStatus(ctx, tx, a.ID, StatusActive); err != nil {
			return err
		}
		a.Status = StatusActive
		if err := appendEvent(ctx, tx, a.ID, EventResumed, ChangeEvent{By: "pause ended", Version: a.Version}); err != nil {
			return err
		}
		if err := startRounds(ctx, tx, a); err != nil {
			return err
		}
		resumed = true
		return noticeAll(ctx, tx, a, "resumed", MailData{Notice: NoticePauseEnded})
	})
	return resumed, err
}

// roundParties returns the parts of rounds that query q selects.
func (db *DB) roundParties(ctx context.Context, q string, args ...any) ([]roundParty, error) {
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []roundParty
	for rows.Next() {
		var d roundParty
		if err := rows.Scan(&d.round, &d.party, &d.deadline); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (db *DB) ids(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := db.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (db *DB) inTx(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// scheduleChunk is how many agreements or mails one scheduler transaction
// handles: few commits, and transactions of a fraction of a second.
const scheduleChunk = 1000

// digestChunk is how many rounds' digests one transaction sends.
const digestChunk = 100

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
