package agreements

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
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
	d := DateOf(after.UTC()).AddDays(-2)
	if d.Before(anchor) {
		d = anchor.AddDays(-1)
	}
	for range 1000 {
		d = s.Next(d, anchor)
		if t := earliestOf(a, s, d); t.After(after) {
			return t
		}
	}
	return time.Time{}
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
}

// RunSchedule does the timed work of the check-in routine, as of the
// store's clock: it opens the rounds that are due (after downtime only the
// latest missed one), mails each party's check-in at their own local time,
// nudges once, halfway to the deadline, whoever has not answered, and
// sends the digests of rounds that everyone answered or whose deadline
// passed. Every step is recorded with its mail, so a pass can run any
// number of times, or be cut short, and nothing is doubled.
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
		var rounds, pauses, reminders []timer
		for _, t := range ts {
			switch t.kind {
			case timerRound:
				rounds = append(rounds, t)
			case timerReminder:
				reminders = append(reminders, t)
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
	}

	// Check-ins whose party's local time has come since their round opened.
	dues, err := db.roundParties(ctx, `SELECT rp.round_id, rp.party_id FROM round_parties rp JOIN rounds r ON r.id = rp.round_id
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

	// Nudges: halfway between a party's due time and the round's deadline,
	// written out in SQL as due + (deadline - due) / 2 <= now.
	// Only open rounds are read (rounds_open; CROSS JOIN keeps that order):
	// every check-in ever mailed stays mailed.
	dues, err = db.roundParties(ctx, `SELECT rp.round_id, rp.party_id FROM rounds r CROSS JOIN round_parties rp ON rp.round_id = r.id
		WHERE r.digest_sent_at = '' AND rp.mailed = 1 AND rp.nudged = 0 AND rp.answered_at = ''
		AND (unixepoch(rp.due_at) + unixepoch(r.deadline)) / 2 <= unixepoch(?)`, now)
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
		if err := appendEvent(ctx, tx, a.ID, EventResumed, map[string]any{"by": "pause ended", "version": a.Version}); err != nil {
			return err
		}
		if err := startRounds(ctx, tx, a); err != nil {
			return err
		}
		resumed = true
		return noticeAll(ctx, tx, a, "resumed", "Check-ins have resumed", []string{"The pause has ended: check-ins come again at the agreed time."})
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
		if err := rows.Scan(&d.round, &d.party); err != nil {
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

type roundInfo struct {
	id, agreementID int64
	occurrence      string
	deadline        time.Time
}

func findRound(ctx context.Context, q querier, id int64) (*roundInfo, error) {
	var r roundInfo
	var deadline string
	err := q.QueryRowContext(ctx, `SELECT id, agreement_id, occurrence, deadline FROM rounds WHERE id = ?`, id).Scan(&r.id, &r.agreementID, &r.occurrence, &deadline)
	if err != nil {
		return nil, errNoRows(err, fmt.Sprintf("there is no round %d", id))
	}
	r.deadline, err = parseTime(deadline)
	return &r, err
}

// recordCheckIn stores party p's answer to round roundID (a later answer,
// or a fix, replaces the earlier one) and sends a receipt; when everyone
// has answered, the digests go out at once.
func recordCheckIn(ctx context.Context, tx *Tx, a *Agreement, p *Party, roundID int64, ans CheckInAnswer, msgID, key string) (string, error) {
	r, err := findRound(ctx, tx, roundID)
	if err != nil {
		return "", err
	}
	if r.agreementID != a.ID {
		return "", Errorf(EINVALID, "round %d is not of agreement %d", roundID, a.ID)
	}
	raw, _ := json.Marshal(ans)
	res, err := tx.ExecContext(ctx, `UPDATE round_parties SET answered_at = ?, message_id = ?, answer = ? WHERE round_id = ? AND party_id = ?`,
		formatTime(tx.now), msgID, string(raw), roundID, p.ID)
	if err != nil {
		return "", fmt.Errorf("record check-in: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", Errorf(EINVALID, "%s is not in round %d", p.Address, roundID)
	}
	if err := appendEvent(ctx, tx, a.ID, EventCheckIn, map[string]any{"round": r.occurrence, "party": p.Address, "message_id": msgID, "statuses": ans.Statuses}); err != nil {
		return "", err
	}
	recorded, unclear := checkInReceipt(a, p, ans)
	if _, err := queueMail(ctx, tx, mailRequest{key: fmt.Sprintf("%s:checkin:%s", MailReceipt, key), kind: MailReceipt, agreement: a, party: p,
		answer: true, purpose: PurposeCheckIn, ref: roundID, data: MailData{Recorded: recorded, Lines: unclear, Quote: clipQuote(ans.Text), Round: r.occurrence}}); err != nil {
		return "", err
	}
	var open int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM round_parties WHERE round_id = ? AND answered_at = ''`, roundID).Scan(&open); err != nil {
		return "", err
	}
	if open == 0 {
		return "checkin", sendDigests(ctx, tx, roundID)
	}
	return "checkin", nil
}

// checkInReceipt says what was recorded from party p's check-in answer,
// each commitment by its words, and, for each commitment whose answer we
// could not tell, one line that says so and how to put it on record.
func checkInReceipt(a *Agreement, p *Party, ans CheckInAnswer) (recorded, unclear []string) {
	for i, c := range p.Commitments {
		if st := ans.Statuses[i+1]; st != "" {
			recorded = append(recorded, fmt.Sprintf("%s: %s", clip(oneLine(c)), st))
		} else {
			unclear = append(unclear, fmt.Sprintf(`We could not tell how "%s" went. Reply "fix: %d kept" (or partly, or missed) if you want it on record.`, clip(oneLine(c)), i+1))
		}
	}
	others := "the other person"
	var names []string
	for _, o := range a.Terms.Parties {
		if o.ID != p.ID {
			names = append(names, o.FirstName())
		}
	}
	if len(names) > 0 {
		others = strings.Join(names, " and ")
	}
	for _, f := range []struct{ name, v string }{{"Something good about " + others, ans.PositiveOther}, {"Something good about yourself", ans.PositiveSelf}, {"To talk about", ans.WentWrong}} {
		if f.v != "" {
			recorded = append(recorded, f.name+": "+f.v)
		}
	}
	if len(recorded) == 0 {
		recorded = []string{"Your words, as they are below"}
	}
	return recorded, unclear
}

func clipQuote(s string) string {
	if r := []rune(s); len(r) > 2000 {
		return string(r[:1997]) + "..."
	}
	return s
}

// sendDigests sends each party the others' answers to a round, once.
func sendDigests(ctx context.Context, tx *Tx, roundID int64) error {
	r, err := findRound(ctx, tx, roundID)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE rounds SET digest_sent_at = ? WHERE id = ? AND digest_sent_at = ''`, formatTime(tx.now), roundID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	a, err := findAgreementByID(ctx, tx, r.agreementID)
	if err != nil {
		return err
	}
	answers, err := roundAnswers(ctx, tx, a, roundID)
	if err != nil {
		return err
	}
	history, err := roundHistory(ctx, tx, a, 6)
	if err != nil {
		return err
	}
	if err := missedRule(ctx, tx, a, roundID); err != nil {
		return err
	}
	for i := range a.Terms.Parties {
		p := &a.Terms.Parties[i]
		var others []MailAnswer
		for _, ans := range answers {
			if ans.Party.Address != p.Address {
				others = append(others, ans)
			}
		}
		var hist []MailHistory
		for _, h := range history {
			if h.Party != p.FirstName() {
				hist = append(hist, h)
			}
		}
		key := fmt.Sprintf("%s:%d:%d", MailDigest, roundID, p.ID)
		if _, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailDigest, agreement: a, party: p, purpose: PurposeCommands,
			data: MailData{Round: r.occurrence, Answers: others, History: hist}}); err != nil {
			return err
		}
	}
	return nil
}

func roundAnswers(ctx context.Context, tx *Tx, a *Agreement, roundID int64) ([]MailAnswer, error) {
	rows, err := tx.QueryContext(ctx, `SELECT party_id, answered_at, answer FROM round_parties WHERE round_id = ?`, roundID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MailAnswer
	for rows.Next() {
		var pid int64
		var at, raw string
		if err := rows.Scan(&pid, &at, &raw); err != nil {
			return nil, err
		}
		p := a.Party(pid)
		if p == nil {
			continue
		}
		ma := MailAnswer{Party: mailParty(*p), Answered: at != ""}
		var ans CheckInAnswer
		if raw != "" {
			json.Unmarshal([]byte(raw), &ans)
		}
		for i := range p.Commitments {
			st := ans.Statuses[i+1]
			if st == "" {
				st = "not said"
			}
			ma.Statuses = append(ma.Statuses, st)
		}
		ma.PositiveOther, ma.PositiveSelf, ma.WentWrong, ma.Text = ans.PositiveOther, ans.PositiveSelf, ans.WentWrong, clipQuote(ans.Text)
		out = append(out, ma)
	}
	return out, rows.Err()
}

// roundHistory returns the last n rounds, a row per party: ✓ kept, ~ partly,
// ✗ missed, · not said or no answer.
func roundHistory(ctx context.Context, tx *Tx, a *Agreement, n int) ([]MailHistory, error) {
	rows, err := tx.QueryContext(ctx, `SELECT r.occurrence, rp.party_id, rp.answered_at, rp.answer FROM rounds r JOIN round_parties rp ON rp.round_id = r.id
		WHERE r.agreement_id = ? AND r.id IN (SELECT id FROM rounds WHERE agreement_id = ? ORDER BY occurrence DESC LIMIT ?) ORDER BY r.occurrence, rp.party_id`, a.ID, a.ID, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MailHistory
	for rows.Next() {
		var occ, at, raw string
		var pid int64
		if err := rows.Scan(&occ, &pid, &at, &raw); err != nil {
			return nil, err
		}
		p := a.Party(pid)
		if p == nil {
			continue
		}
		var ans CheckInAnswer
		json.Unmarshal([]byte(raw), &ans)
		var marks []string
		for i := range p.Commitments {
			switch ans.Statuses[i+1] {
			case "kept":
				marks = append(marks, "✓")
			case "partly":
				marks = append(marks, "~")
			case "missed":
				marks = append(marks, "✗")
			default:
				marks = append(marks, "·")
			}
		}
		if at == "" {
			marks = []string{"no answer"}
		}
		out = append(out, MailHistory{Round: occ, Party: p.FirstName(), Marks: strings.Join(marks, " ")})
	}
	return out, rows.Err()
}

// noticeAll tells every party of a something, once per key.
func noticeAll(ctx context.Context, tx *Tx, a *Agreement, key, title string, lines []string) error {
	for i := range a.Terms.Parties {
		p := &a.Terms.Parties[i]
		k := fmt.Sprintf("%s:%s:%d:%d:%s", MailNotice, key, a.ID, p.ID, tx.now.Format(time.RFC3339))
		if _, err := queueMail(ctx, tx, mailRequest{key: k, kind: MailNotice, agreement: a, party: p, purpose: PurposeCommands,
			data: MailData{Title: title, Lines: lines}}); err != nil {
			return err
		}
	}
	return nil
}

// command carries out a command by reply from party p: r's intent, read
// from the message msgID.
func command(ctx context.Context, tx *Tx, a *Agreement, p *Party, r Reading, msgID, key string) (string, error) {
	in := r.Intent
	who := p.FirstName()
	notice := func(to *Party, title string, lines ...string) error {
		k := fmt.Sprintf("%s:%s", MailNotice, key)
		if to.ID != p.ID {
			k += fmt.Sprintf(":%d", to.ID)
		}
		_, err := queueMail(ctx, tx, mailRequest{key: k, kind: MailNotice, agreement: a, party: to, purpose: PurposeCommands, data: MailData{Title: title, Lines: lines},
			answer: to.ID == p.ID})
		return err
	}
	switch in.Command {
	case CommandHelp:
		return "help", notice(p, "What you can reply", helpLines...)
	case CommandStopMail:
		// Their own words for "fewer mails": ask what they want, and change
		// nothing until they say.
		return "asked", notice(p, "Fewer mails?",
			"We read your reply as a wish to get fewer mails from us, so nothing has changed yet and nothing was passed on.",
			`Reply "pause" for a break from the check-ins (or "pause until" a date), "stop" to end the check-ins for both of you, or "unsubscribe" to stop mail to you alone.`)
	case "unsubscribe":
		return unsubscribe(ctx, tx, a, p, key)
	case "pause":
		if a.Status != StatusActive {
			return "refused", notice(p, "Nothing to pause", fmt.Sprintf("The agreement is %s, so there are no check-ins to pause.", a.Status))
		}
		until := ""
		if !in.Until.IsZero() {
			until = formatTime(in.Until)
		}
		if err := setStatus(ctx, tx, a.ID, StatusPaused); err != nil {
			return "", err
		}
		if err := voidTimers(ctx, tx, a); err != nil {
			return "", err
		}
		if until != "" {
			// The pause ends when this timer fires.
			if err := setTimers(ctx, tx, []timer{{at: until, agreement: a.ID, kind: timerRound, gen: a.timerGen}}); err != nil {
				return "", err
			}
		}
		if err := appendEvent(ctx, tx, a.ID, EventPaused, map[string]any{"by": p.Address, "until": until}); err != nil {
			return "", err
		}
		line := who + " has paused the check-ins."
		if until != "" {
			line = fmt.Sprintf("%s has paused the check-ins until %s.", who, in.Until.Format("Monday 2 January 2006"))
		}
		return "paused", noticeAll(ctx, tx, a, "paused:"+key, "Check-ins are paused", []string{line, `Reply "resume" to start them again.`})
	case "resume":
		resubscribed := p.Unsubscribed()
		if err := resubscribe(ctx, tx, a, p, key); err != nil {
			return "", err
		}
		if a.Status == StatusEnded {
			// A "stop" by reply can be taken back for 7 days.
			var at string
			err := tx.QueryRowContext(ctx, `SELECT at FROM events WHERE agreement_id = ? AND type = ? ORDER BY seq DESC LIMIT 1`, a.ID, EventEnded).Scan(&at)
			if t, perr := parseTime(at); err != nil || perr != nil || tx.now.Sub(t) > 7*24*time.Hour {
				return "refused", notice(p, "Too late to resume", "The agreement ended more than 7 days ago. You can start a new one by writing to this address.")
			}
			a.Status = StatusPaused
		}
		if a.Status != StatusPaused {
			if resubscribed {
				return "resubscribed", notice(p, "Mail is back on", "We will mail you about this agreement again.")
			}
			return "refused", notice(p, "Nothing to resume", fmt.Sprintf("The agreement is %s, not paused.", a.Status))
		}
		// A check-in needs everyone: while another party has asked for no
		// mail, check-ins stay paused, and why is theirs to tell.
		for _, o := range a.Terms.Parties {
			if o.Unsubscribed() {
				return "refused", notice(p, "Check-ins are still paused", "Check-ins cannot start again just now. We will tell you when they do.")
			}
		}
		if err := setStatus(ctx, tx, a.ID, StatusActive); err != nil {
			return "", err
		}
		if err := startRounds(ctx, tx, a); err != nil {
			return "", err
		}
		if err := appendEvent(ctx, tx, a.ID, EventResumed, map[string]any{"by": p.Address}); err != nil {
			return "", err
		}
		return "resumed", noticeAll(ctx, tx, a, "resumed:"+key, "Check-ins have resumed", []string{who + " has started the check-ins again: they come at the agreed time."})
	case "stop":
		if a.Status.Final() {
			return "refused", notice(p, "Already over", fmt.Sprintf("The agreement is already %s.", a.Status))
		}
		if err := setStatus(ctx, tx, a.ID, StatusEnded); err != nil {
			return "", err
		}
		if err := voidTimers(ctx, tx, a); err != nil {
			return "", err
		}
		if err := appendEvent(ctx, tx, a.ID, EventEnded, map[string]any{"by": p.Address}); err != nil {
			return "", err
		}
		return "ended", noticeAll(ctx, tx, a, "ended:"+key, "The agreement has ended", []string{who + " has ended the agreement. No more check-ins will come.", `Either of you can reply "resume" within 7 days to take it back.`, "The written copy stays yours; thank you both for trying."})
	case "history":
		hist, err := roundHistory(ctx, tx, a, 1000)
		if err != nil {
			return "", err
		}
		lines := []string{"Every check-in so far (✓ kept, ~ partly, ✗ missed, · not said):"}
		sort.SliceStable(hist, func(i, j int) bool { return hist[i].Round < hist[j].Round })
		for _, h := range hist {
			lines = append(lines, fmt.Sprintf("%s  %s: %s", h.Round, h.Party, h.Marks))
		}
		if len(hist) == 0 {
			lines = append(lines, "There have been no check-ins yet.")
		}
		return "history", notice(p, "Your check-in history", lines...)
	case "fix":
		var roundID int64
		err := tx.QueryRowContext(ctx, `SELECT rp.round_id FROM round_parties rp JOIN rounds r ON r.id = rp.round_id
			WHERE r.agreement_id = ? AND rp.party_id = ? AND rp.answered_at != '' ORDER BY r.occurrence DESC LIMIT 1`, a.ID, p.ID).Scan(&roundID)
		if errors.Is(err, sql.ErrNoRows) {
			return "refused", notice(p, "Nothing to fix", "You have not answered a check-in yet, so there is nothing to correct.")
		} else if err != nil {
			return "", err
		}
		ans := CheckInAnswer{Text: in.Fix}
		if r.CheckIn != nil {
			ans = *r.CheckIn
		}
		return recordCheckIn(ctx, tx, a, p, roundID, ans, msgID, key)
	}
	return "refused", notice(p, "Not a command", fmt.Sprintf("%q is not something we can do.", in.Command))
}

// unsubscribe stops all mail to party p except the answers to their own
// messages, and cancels what is waiting to go to them. Check-ins need
// everyone, so they pause, and the others are told only that. Replying
// "resume" (or confirming a new version) undoes it.
func unsubscribe(ctx context.Context, tx *Tx, a *Agreement, p *Party, key string) (string, error) {
	if p.Unsubscribed() {
		return "kept", nil
	}
	p.unsubscribed = formatTime(tx.now)
	if _, err := tx.ExecContext(ctx, `UPDATE parties SET unsubscribed_at = ? WHERE id = ?`, p.unsubscribed, p.ID); err != nil {
		return "", fmt.Errorf("unsubscribe: %w", err)
	}
	// Mail a sender holds is on its way already and is left to finish.
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = ?, last_error = 'the recipient unsubscribed'
		WHERE party_id = ? AND status = ? AND (claimed_by = '' OR claimed_until < ?)`, MailCancelled, p.ID, MailPending, p.unsubscribed); err != nil {
		return "", fmt.Errorf("unsubscribe: %w", err)
	}
	wasActive := a.Status == StatusActive
	if wasActive {
		if err := setStatus(ctx, tx, a.ID, StatusPaused); err != nil {
			return "", err
		}
	}
	if wasActive || a.Status == StatusPaused {
		// No round, reminder or end of a "pause until" while p is away.
		if err := voidTimers(ctx, tx, a); err != nil {
			return "", err
		}
	}
	if err := appendEvent(ctx, tx, a.ID, EventUnsubscribed, map[string]any{"by": p.Address, "paused": wasActive}); err != nil {
		return "", err
	}
	if wasActive || a.Status == StatusPaused {
		for i := range a.Terms.Parties {
			o := &a.Terms.Parties[i]
			if o.ID == p.ID {
				continue
			}
			k := fmt.Sprintf("%s:unsubscribed:%s:%d", MailNotice, key, o.ID)
			if _, err := queueMail(ctx, tx, mailRequest{key: k, kind: MailNotice, agreement: a, party: o, purpose: PurposeCommands,
				data: MailData{Title: "Check-ins are paused", Lines: []string{"Check-ins are paused for now."}}}); err != nil {
				return "", err
			}
		}
	}
	return "unsubscribed", nil
}

// resubscribe undoes party p's unsubscribe, if any.
func resubscribe(ctx context.Context, tx *Tx, a *Agreement, p *Party, why string) error {
	if !p.Unsubscribed() {
		return nil
	}
	p.unsubscribed = ""
	if _, err := tx.ExecContext(ctx, `UPDATE parties SET unsubscribed_at = '' WHERE id = ?`, p.ID); err != nil {
		return fmt.Errorf("resubscribe: %w", err)
	}
	return appendEvent(ctx, tx, a.ID, EventResubscribed, map[string]any{"by": p.Address, "message": why})
}

var helpLines = []string{
	`Reply to any of our mails with one of these, alone on the first line:`,
	`"pause", "pause until 10 January" or "pause for two weeks": no check-ins until you resume (or until then). The other person is told.`,
	`"resume": start the check-ins again.`,
	`"stop": end the agreement, for both of you. The other person is told.`,
	`"history": a mail with every check-in so far.`,
	`"fix: 1 kept, 2 partly": correct your last check-in; it replaces what we recorded.`,
	`"unsubscribe": no more mail to you; check-ins pause until you reply "resume".`,
	`"help": this list.`,
	`To a check-in, reply in your own words; "1 kept, 2 partly" is enough.`,
}

// Round is one check-in round, for exports and "show".
type Round struct {
	Occurrence   string       `json:"occurrence"`
	OpenedAt     time.Time    `json:"opened_at"`
	Deadline     time.Time    `json:"deadline"`
	DigestSentAt string       `json:"digest_sent_at,omitempty"`
	Parties      []RoundParty `json:"parties"`
}

// RoundParty is one party's part of a round.
type RoundParty struct {
	Party      string         `json:"party"`
	DueAt      time.Time      `json:"due_at"`
	AnsweredAt string         `json:"answered_at,omitempty"`
	Answer     *CheckInAnswer `json:"answer,omitempty"`
}

// FindRounds returns every round of agreement id, oldest first.
func (db *DB) FindRounds(ctx context.Context, id int64) ([]Round, error) {
	a, err := db.FindAgreementByID(ctx, id)
	if err != nil {
		return nil, err
	}
	rows, err := db.db.QueryContext(ctx, `SELECT r.id, r.occurrence, r.opened_at, r.deadline, r.digest_sent_at, rp.party_id, rp.due_at, rp.answered_at, rp.answer
		FROM rounds r JOIN round_parties rp ON rp.round_id = r.id WHERE r.agreement_id = ? ORDER BY r.occurrence, rp.party_id`, id)
	if err != nil {
		return nil, fmt.Errorf("find rounds: %w", err)
	}
	defer rows.Close()
	var out []Round
	last := int64(0)
	for rows.Next() {
		var rid, pid int64
		var occ, opened, deadline, digest, due, answered, answer string
		if err := rows.Scan(&rid, &occ, &opened, &deadline, &digest, &pid, &due, &answered, &answer); err != nil {
			return nil, err
		}
		if rid != last {
			o, _ := parseTime(opened)
			d, _ := parseTime(deadline)
			out = append(out, Round{Occurrence: occ, OpenedAt: o, Deadline: d, DigestSentAt: digest})
			last = rid
		}
		rp := RoundParty{AnsweredAt: answered}
		if p := a.Party(pid); p != nil {
			rp.Party = p.Address
		}
		rp.DueAt, _ = parseTime(due)
		if answer != "" {
			var ans CheckInAnswer
			if json.Unmarshal([]byte(answer), &ans) == nil {
				rp.Answer = &ans
			}
		}
		out[len(out)-1].Parties = append(out[len(out)-1].Parties, rp)
	}
	return out, rows.Err()
}

// Unsubscribe carries out an RFC 8058 one-click unsubscribe for the party
// of token: check-ins pause, and the other party is told only that. It is
// idempotent, and an unknown token is ErrNotFound.
func (db *DB) Unsubscribe(ctx context.Context, token string) error {
	t, err := db.FindToken(ctx, token)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx *Tx) error {
		a, err := findAgreementByID(ctx, tx, t.AgreementID)
		if err != nil {
			return err
		}
		p := a.Party(t.PartyID)
		if p == nil {
			return Errorf(ENOTFOUND, "unknown reply token")
		}
		r := Reading{Intent: Intent{Kind: IntentCommand, Command: CommandUnsubscribe}}
		_, err = command(ctx, tx, a, p, r, "", fmt.Sprintf("one-click:%s:%s", t.Value, tx.now.Format("2006-01-02T15")))
		return err
	})
}

// missedRule applies the agreement's rule for missed check-ins as a round
// closes: a party who has now missed exactly MissedAfter rounds in a row
// is named to everyone, once.
func missedRule(ctx context.Context, tx *Tx, a *Agreement, roundID int64) error {
	n := a.Terms.MissedAfter
	if n <= 0 {
		return nil
	}
	for i := range a.Terms.Parties {
		p := &a.Terms.Parties[i]
		rows, err := tx.QueryContext(ctx, `SELECT rp.answered_at FROM round_parties rp JOIN rounds r ON r.id = rp.round_id
			WHERE r.agreement_id = ? AND rp.party_id = ? ORDER BY r.occurrence DESC LIMIT ?`, a.ID, p.ID, n+1)
		if err != nil {
			return err
		}
		missed := 0
		for rows.Next() {
			var at string
			rows.Scan(&at)
			if at != "" {
				break
			}
			missed++
		}
		rows.Close()
		if missed != n {
			continue
		}
		if err := noticeAll(ctx, tx, a, fmt.Sprintf("missed:%d:%d", p.ID, roundID), "Missed check-ins",
			[]string{fmt.Sprintf("%s has missed %d check-ins in a row.", p.FirstName(), n), "You agreed to be told; maybe this is a good moment to talk."}); err != nil {
			return err
		}
	}
	return nil
}
