package agreements

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The scheduler works on a thousand agreements at a time, in a handful of
// statements for the whole chunk: lookups and updates take their keys as
// one JSON array parameter, read with json_each; inserts carry up to
// insertBatch rows each (insertRows). A statement costs much more than a
// row, so this is what makes a pass cost little per due agreement.

// jsonParam returns rows as a JSON array of arrays.
func jsonParam(rows [][]any) (string, error) {
	b, err := json.Marshal(rows)
	return string(b), err
}

// findDue loads agreements ids as the scheduler needs them, without
// reading their versions: their status, state and check-in schedule from
// their own rows, and their parties from the parties table. Their Terms
// hold only CheckIn and each party's name, address and time zone; the
// check-ins they queue refer to the version, which fills in the rest when
// the mail is read.
func findDue(ctx context.Context, tx *Tx, ids []int64) ([]*Agreement, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, status, version, active_since, timer_gen, check_in FROM agreements
		WHERE id IN (SELECT value FROM json_each(?))`, idList(ids))
	if err != nil {
		return nil, fmt.Errorf("find agreements: %w", err)
	}
	defer rows.Close()
	schedules := map[string]Schedule{} // agreements share a few schedules
	as := make([]*Agreement, 0, len(ids))
	for rows.Next() {
		a := &Agreement{}
		var checkIn string
		if err := rows.Scan(&a.ID, &a.Status, &a.Version, &a.activeSince, &a.timerGen, &checkIn); err != nil {
			return nil, fmt.Errorf("find agreements: %w", err)
		}
		s, ok := schedules[checkIn]
		if !ok {
			if err := json.Unmarshal([]byte(checkIn), &s); err != nil {
				return nil, fmt.Errorf("agreement %d: stored check-in schedule %q: %w", a.ID, checkIn, err)
			}
			schedules[checkIn] = s
		}
		a.Terms.CheckIn = s
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find agreements: %w", err)
	}
	rows.Close()
	return as, attachParties(ctx, tx, as, true)
}

// fireRounds fires the round timers ts: for each agreement that is
// active, it opens the round that is due and sets the timer of the next;
// void timers, and those of agreements neither active nor paused, go
// away. The timers of paused agreements (their pause ends) are returned,
// for endPause, and left in place. It reports how many rounds it opened
// and check-ins it mailed.
func fireRounds(ctx context.Context, tx *Tx, ts []timer) (opened, mailed int, pauses []timer, err error) {
	if len(ts) == 0 {
		return 0, 0, nil, nil
	}
	ids := make([]int64, len(ts))
	for i, t := range ts {
		ids[i] = t.agreement
	}
	as, err := findDue(ctx, tx, ids)
	if err != nil {
		return 0, 0, nil, err
	}
	byID := make(map[int64]*Agreement, len(as))
	for _, a := range as {
		byID[a.ID] = a
	}
	var fired []timer
	var due []*Agreement
	for _, t := range ts {
		a := byID[t.agreement]
		switch {
		case t.fires(a) && a.Status == StatusPaused:
			pauses = append(pauses, t)
			continue
		case t.fires(a) && a.Status == StatusActive:
			due = append(due, a)
			delete(byID, a.ID) // once, should a generation have two
		}
		fired = append(fired, t)
	}
	opened, mailed, next, err := openRounds(ctx, tx, due)
	if err != nil {
		return 0, 0, nil, err
	}
	if err := dropTimers(ctx, tx, fired); err != nil {
		return 0, 0, nil, err
	}
	if err := setTimers(ctx, tx, next); err != nil {
		return 0, 0, nil, err
	}
	return opened, mailed, pauses, nil
}

// openRounds opens, for each of the active agreements as, the latest
// round that has begun, once, and mails the check-ins whose local time
// has come. It reports how many rounds it opened and check-ins it mailed,
// and returns the timers of each agreement's next round.
func openRounds(ctx context.Context, tx *Tx, as []*Agreement) (opened, mailed int, next []timer, err error) {
	type plan struct {
		a        *Agreement
		d        Date
		deadline time.Time   // the round's: the last party's
		due      []time.Time // each party's check-in, in a.Terms.Parties' order
		ends     []time.Time // each party's deadline
	}
	plans := map[int64]*plan{}
	rounds := make([][]any, 0, len(as))
	next = make([]timer, 0, len(as))
	for _, a := range as {
		anchor, err := ParseDate(a.activeSince)
		if err != nil {
			return 0, 0, nil, fmt.Errorf("agreement %d: active_since %q: %w", a.ID, a.activeSince, err)
		}
		// The latest occurrence that has begun: after downtime, the older
		// missed ones are not opened.
		d, ok := a.Terms.CheckIn.Latest(DateOf(tx.now.UTC()).AddDays(1), anchor)
		for ok && earliest(a, d).After(tx.now) {
			d, ok = a.Terms.CheckIn.Latest(d.AddDays(-1), anchor)
		}
		if ok {
			start := earliest(a, d)
			if tx.now.Sub(start) > time.Hour {
				start = tx.now // opened late: give the full time to answer
			}
			// Each party has the same time to answer, from their own
			// check-in (or from now, for a round opened late).
			pl := &plan{a: a, d: d}
			for i := range a.Terms.Parties {
				loc, err := LoadLocation(a.Terms.Parties[i].TimeZone)
				if err != nil {
					return 0, 0, nil, err
				}
				due := a.Terms.CheckIn.At(d, loc)
				from := due
				if tx.now.Sub(due) > time.Hour {
					from = tx.now
				}
				end := from.Add(tx.db.RoundFor)
				pl.due, pl.ends = append(pl.due, due), append(pl.ends, end)
				pl.deadline = maxTime(pl.deadline, end)
			}
			plans[a.ID] = pl
			rounds = append(rounds, []any{a.ID, d.String(), a.Version, formatTime(start), formatTime(pl.deadline)})
		} else {
			d = anchor.AddDays(-1)
		}
		if at := nextRoundAt(a, anchor, maxTime(tx.now, earliest(a, d))); !at.IsZero() {
			next = append(next, timer{at: formatTime(at), agreement: a.ID, kind: timerRound, gen: a.timerGen})
		}
	}

	// Sized up front: a mailRequest is large, and growing the slice copies.
	roundParties := make([][]any, 0, 2*len(rounds))
	checkIns := make([]mailRequest, 0, 2*len(rounds))
	if len(rounds) > 0 {
		type openedRound struct{ id, agreementID int64 }
		var got []openedRound
		err := insertRows(ctx, tx, `INSERT INTO rounds (agreement_id, occurrence, version, opened_at, deadline) VALUES `, 5,
			` ON CONFLICT (agreement_id, occurrence) DO NOTHING RETURNING id, agreement_id`, rounds, func(rows *sql.Rows) error {
				var r openedRound
				err := rows.Scan(&r.id, &r.agreementID)
				got = append(got, r)
				return err
			})
		if err != nil {
			return 0, 0, nil, fmt.Errorf("open rounds: %w", err)
		}
		for _, o := range got {
			pl := plans[o.agreementID]
			a := pl.a
			r := &roundInfo{id: o.id, agreementID: a.ID, occurrence: pl.d.String(), deadline: pl.deadline}
			for i := range a.Terms.Parties {
				p := &a.Terms.Parties[i]
				due := pl.due[i]
				// Whoever's time has come gets the check-in now.
				now := !due.After(tx.now)
				roundParties = append(roundParties, []any{o.id, p.ID, formatTime(due), formatTime(pl.ends[i]), now})
				if now {
					req := checkInRequest(a, r, p, pl.ends[i], MailCheckIn)
					req.newRef = true
					checkIns = append(checkIns, req)
				}
			}
			opened++
		}
	}
	if len(roundParties) > 0 {
		if err := insertRows(ctx, tx, `INSERT INTO round_parties (round_id, party_id, due_at, deadline, mailed) VALUES `, 5, ``, roundParties, nil); err != nil {
			return 0, 0, nil, fmt.Errorf("open rounds: %w", err)
		}
	}
	if _, err := queueMails(ctx, tx, checkIns); err != nil {
		return 0, 0, nil, err
	}
	return opened, len(checkIns), next, nil
}

// mailCheckIns queues the check-ins (or the nudges, by kind) of the given
// parties of open rounds, and records that they went out.
func mailCheckIns(ctx context.Context, tx *Tx, dues []roundParty, kind MailKind) error {
	if len(dues) == 0 {
		return nil
	}
	roundIDs := make([]int64, len(dues))
	for i, d := range dues {
		roundIDs[i] = d.round
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, agreement_id, occurrence, deadline FROM rounds WHERE id IN (SELECT value FROM json_each(?))`, idList(roundIDs))
	if err != nil {
		return fmt.Errorf("find rounds: %w", err)
	}
	rounds := map[int64]*roundInfo{}
	var agreementIDs []int64
	for rows.Next() {
		var r roundInfo
		var deadline string
		if err := rows.Scan(&r.id, &r.agreementID, &r.occurrence, &deadline); err != nil {
			rows.Close()
			return fmt.Errorf("find rounds: %w", err)
		}
		if r.deadline, err = parseTime(deadline); err != nil {
			rows.Close()
			return err
		}
		rounds[r.id] = &r
		agreementIDs = append(agreementIDs, r.agreementID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find rounds: %w", err)
	}
	as, err := findDue(ctx, tx, agreementIDs)
	if err != nil {
		return err
	}
	byID := make(map[int64]*Agreement, len(as))
	for _, a := range as {
		byID[a.ID] = a
	}
	reqs := make([]mailRequest, 0, len(dues))
	done := make([][]any, 0, len(dues))
	for _, d := range dues {
		r := rounds[d.round]
		if r == nil {
			return fmt.Errorf("there is no round %d", d.round)
		}
		a := byID[r.agreementID]
		p := a.Party(d.party)
		if p == nil {
			return fmt.Errorf("round %d: party %d is not on agreement %d", d.round, d.party, a.ID)
		}
		deadline, err := parseTime(d.deadline)
		if err != nil {
			return err
		}
		reqs = append(reqs, checkInRequest(a, r, p, deadline, kind))
		done = append(done, []any{d.round, d.party})
	}
	if _, err := queueMails(ctx, tx, reqs); err != nil {
		return err
	}
	col := "mailed"
	if kind == MailNudge {
		col = "nudged"
	}
	return execJSON(ctx, tx, `UPDATE round_parties SET `+col+` = 1 WHERE (round_id, party_id) IN (SELECT value->>0, value->>1 FROM json_each(?))`, done)
}

// roundParty names one party's part of a round, with their deadline.
type roundParty struct {
	round, party int64
	deadline     string
}

// checkInRequest is party p's check-in (or nudge) of round r, which they
// can answer until deadline, their own.
func checkInRequest(a *Agreement, r *roundInfo, p *Party, deadline time.Time, kind MailKind) mailRequest {
	return mailRequest{key: fmt.Sprintf("%s:%d:%d", kind, r.id, p.ID), kind: kind, agreement: a, party: p, purpose: PurposeCheckIn, ref: r.id,
		data: MailData{Round: r.occurrence, Deadline: deadline}}
}

func execJSON(ctx context.Context, tx *Tx, q string, rows [][]any) error {
	param, err := jsonParam(rows)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, q, param)
	return err
}

// queueMails is queueMail for many requests about agreements, in a few
// statements; it reports how many it queued.
func queueMails(ctx context.Context, tx *Tx, reqs []mailRequest) (int, error) {
	reqs = slices.DeleteFunc(reqs, func(r mailRequest) bool { return r.party.Unsubscribed() && !r.answer })
	if len(reqs) == 0 {
		return 0, nil
	}
	want := make([]tokenKey, 0, 2*len(reqs))
	known := map[tokenKey]string{} // tokens at hand, or ("") sure to be new
	for _, r := range reqs {
		k := tokenKey{r.agreement.ID, r.party.ID, r.purpose, r.ref}
		c := tokenKey{r.agreement.ID, r.party.ID, PurposeCommands, 0}
		want = append(want, k, c)
		if r.newRef {
			known[k] = ""
		}
		if r.party.commandsToken != "" {
			known[c] = r.party.commandsToken
		}
	}
	toks, err := issueTokens(ctx, tx, want, known)
	if err != nil {
		return 0, err
	}
	for _, r := range reqs {
		r.party.commandsToken = toks[tokenKey{r.agreement.ID, r.party.ID, PurposeCommands, 0}]
	}
	rows := make([][]any, 0, len(reqs))
	byKey := make(map[string]*mailRequest, len(reqs))
	msgIDs := make(map[string]string, len(reqs))
	for i := range reqs {
		r := &reqs[i]
		row, err := newOutboxRow(tx, *r, toks[tokenKey{r.agreement.ID, r.party.ID, r.purpose, r.ref}], toks[tokenKey{r.agreement.ID, r.party.ID, PurposeCommands, 0}])
		if err != nil {
			return 0, err
		}
		rows = append(rows, row.values())
		byKey[r.key] = r
		msgIDs[r.key] = row.msgID
	}
	var threads [][]any // the first mail to a party starts their thread
	queued := 0
	err = insertRows(ctx, tx, `INSERT INTO outbox (dedupe_key, message_id, kind, agreement_id, party_id, rcpt, rcpt_name,
			reply_token, commands_token, thread_id, data, status, next_attempt_at, created_at) VALUES `, 14,
		` ON CONFLICT (dedupe_key) DO NOTHING RETURNING dedupe_key`, rows, func(res *sql.Rows) error {
			var key string
			if err := res.Scan(&key); err != nil {
				return err
			}
			queued++
			if p := byKey[key].party; p.threadID == "" {
				p.threadID = msgIDs[key]
				threads = append(threads, []any{p.ID, p.threadID})
			}
			return nil
		})
	if err != nil {
		return 0, fmt.Errorf("queue mail: %w", err)
	}
	if len(threads) > 0 {
		if err := execJSON(ctx, tx, `UPDATE parties SET thread_id = j.value->>1 FROM json_each(?) j WHERE parties.id = j.value->>0 AND parties.thread_id = ''`, threads); err != nil {
			return 0, fmt.Errorf("set thread: %w", err)
		}
	}
	if queued > 0 {
		tx.queued = true
	}
	return queued, nil
}

type tokenKey struct {
	agreement, party int64
	purpose          Purpose
	ref              int64
}

// issueTokens is issueToken for many tokens at once: it returns each
// token's value, found or made. The known ones are not looked for: their
// value is at hand, or "" when what they are for was made in this
// transaction, so that they are new.
func issueTokens(ctx context.Context, tx *Tx, want []tokenKey, known map[tokenKey]string) (map[tokenKey]string, error) {
	found := map[tokenKey]string{}
	keys := make([][]any, 0, len(want))
	for _, k := range want {
		if v, ok := known[k]; !ok {
			keys = append(keys, []any{k.party, k.purpose, k.ref})
		} else if v != "" {
			found[tokenKey{0, k.party, k.purpose, k.ref}] = v
		}
	}
	if len(keys) > 0 {
		if err := findTokens(ctx, tx, keys, found); err != nil {
			return nil, err
		}
	}
	created := formatTime(tx.now)
	out := make(map[tokenKey]string, len(want))
	var missing []tokenKey
	var inserts [][]any
	for _, k := range want {
		if _, ok := out[k]; ok {
			continue
		}
		if v, ok := found[tokenKey{0, k.party, k.purpose, k.ref}]; ok {
			out[k] = v
			continue
		}
		v := newTokenValue(tx.now)
		out[k] = v
		missing = append(missing, k)
		inserts = append(inserts, []any{v, k.agreement, k.party, k.purpose, k.ref, created})
	}
	if len(inserts) == 0 {
		return out, nil
	}
	err := insertRows(ctx, tx, `INSERT INTO tokens (token, agreement_id, party_id, purpose, ref, created_at) VALUES `, 6, ``, inserts, nil)
	if isUniqueViolation(err) {
		// A repeated random value. The statement that met it changed
		// nothing: one by one, each with its own retries (issueToken finds
		// the tokens that the statements before it made).
		for _, k := range missing {
			t, err := issueToken(ctx, tx, k.agreement, k.party, k.purpose, k.ref)
			if err != nil {
				return nil, err
			}
			out[k] = t.Value
		}
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("insert tokens: %w", err)
	}
	var commands [][]any
	for _, k := range missing {
		if k.purpose == PurposeCommands {
			commands = append(commands, []any{k.party, out[k]})
		}
	}
	if len(commands) > 0 {
		if err := execJSON(ctx, tx, `UPDATE parties SET commands_token = j.value->>1 FROM json_each(?) j WHERE parties.id = j.value->>0`, commands); err != nil {
			return nil, fmt.Errorf("insert tokens: %w", err)
		}
	}
	return out, nil
}

// findTokens adds to found the tokens of keys (party, purpose, ref), with
// agreement 0 in their tokenKey.
func findTokens(ctx context.Context, tx *Tx, keys [][]any, found map[tokenKey]string) error {
	param, err := jsonParam(keys)
	if err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT t.party_id, t.purpose, t.ref, t.token FROM json_each(?) j
		CROSS JOIN tokens t ON t.party_id = j.value->>0 AND t.purpose = j.value->>1 AND t.ref = j.value->>2`, param)
	if err != nil {
		return fmt.Errorf("find tokens: %w", err)
	}
	for rows.Next() {
		var k tokenKey
		var v string
		if err := rows.Scan(&k.party, &k.purpose, &k.ref, &v); err != nil {
			rows.Close()
			return fmt.Errorf("find tokens: %w", err)
		}
		found[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find tokens: %w", err)
	}
	return nil
}

// insertBatch is the most rows one insert statement of insertRows carries.
const insertBatch = 512

// insertRows inserts rows with head, a "VALUES" clause for each and tail,
// each row's values being ncols parameters, and passes each row that the
// statements return to scan (if not nil). A statement carries insertBatch
// rows, or a power of two of them for the last few: few statements, and
// few statement texts, each prepared once and cached.
func insertRows(ctx context.Context, tx *Tx, head string, ncols int, tail string, rows [][]any, scan func(*sql.Rows) error) error {
	one := "(" + strings.Repeat("?, ", ncols-1) + "?)"
	args := make([]any, 0, min(len(rows), insertBatch)*ncols)
	for len(rows) > 0 {
		n := insertBatch
		for n > len(rows) {
			n /= 2
		}
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		rows = rows[n:]
		q := head + strings.Repeat(one+", ", n-1) + one + tail
		res, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for scan != nil && res.Next() {
			if err := scan(res); err != nil {
				res.Close()
				return err
			}
		}
		res.Close()
		if err := res.Err(); err != nil {
			return err
		}
	}
	return nil
}
