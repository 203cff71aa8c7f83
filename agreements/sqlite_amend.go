package agreements

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// An amendment is a new version of an agreement (design F2). Until every
// party has confirmed it, the agreement stays as it is: a pending
// agreement waits for the new version instead, and an agreement in force
// (active or paused) stays in force on the version everyone confirmed,
// its check-ins going on, while the amendment waits as its Proposed
// version. When the last party confirms the amendment, it is in force;
// when a party declines it or it expires, it is dropped, and the version
// in force simply stays.

// AmendAgreement stores t as the next version of agreement id and asks
// every party to confirm it, showing what changed. A draft stays a draft.
// The parties' addresses cannot change (names, time zones and commitments
// can). Amending a declined, expired or ended agreement is an ECONFLICT
// error, and an amendment that changes nothing is EINVALID. An amendment
// that waits replaces the one that waited before.
func (db *DB) AmendAgreement(ctx context.Context, id int64, t Terms) (*Agreement, error) {
	t.Normalize()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if err := db.inTx(ctx, func(tx *Tx) error {
		a, err := findAgreementByID(ctx, tx, id)
		if err != nil {
			return err
		}
		return amendTx(ctx, tx, a, t)
	}); err != nil {
		return nil, err
	}
	return db.FindAgreementByID(ctx, id)
}

// amendTx makes t, normalized and valid, the next version of a, in tx.
func amendTx(ctx context.Context, tx *Tx, a *Agreement, t Terms) error {
	if a.Status.Final() {
		return Errorf(ECONFLICT, "agreement %d is %s; it cannot be amended (start a new one)", a.ID, a.Status)
	}
	if len(t.Parties) != len(a.Terms.Parties) {
		return Errorf(EINVALID, "an amendment keeps the same parties; start a new agreement to change who is on it")
	}
	for i, p := range t.Parties {
		if !strings.EqualFold(p.Address, a.Terms.Parties[i].Address) {
			return Errorf(EINVALID, "an amendment keeps the same parties in the same order; %s is not party %d", p.Address, i+1)
		}
		t.Parties[i].Address = a.Terms.Parties[i].Address
	}
	if CanonicalText(a.ID, a.Version, t) == CanonicalText(a.ID, a.Version, a.Terms) {
		return Errorf(EINVALID, "the amendment changes nothing in version %d", a.Version)
	}
	next := max(a.Version, a.Proposed) + 1
	if a.Status != StatusActive && a.Status != StatusPaused {
		// Nothing is in force: the new version takes the place of the
		// current one, and confirmations start over.
		if err := setParties(ctx, tx, a.ID, t.Parties); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE agreements SET version = ?, updated_at = ? WHERE id = ?`, next, formatTime(tx.now), a.ID); err != nil {
			return fmt.Errorf("update agreement: %w", err)
		}
		if err := insertVersion(ctx, tx, a.ID, next, t, true); err != nil {
			return err
		}
		if a.Status == StatusDraft {
			return nil
		}
		w, err := findAgreementByID(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		return askToConfirm(ctx, tx, w, a)
	}
	if a.Proposed != 0 {
		if w, err := versionView(ctx, tx, a, a.Proposed); err != nil {
			return err
		} else if CanonicalText(a.ID, w.Version, t) == CanonicalText(a.ID, w.Version, w.Terms) {
			return Errorf(EINVALID, "the amendment changes nothing in version %d, which already waits for confirmation", w.Version)
		}
	}
	if err := insertVersion(ctx, tx, a.ID, next, t, false); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET proposed = ?, updated_at = ? WHERE id = ?`, next, formatTime(tx.now), a.ID); err != nil {
		return fmt.Errorf("update agreement: %w", err)
	}
	a.Proposed = next
	w, err := versionView(ctx, tx, a, next)
	if err != nil {
		return err
	}
	return askToConfirm(ctx, tx, w, a)
}

// askToConfirm queues "please confirm" for w, the version of its agreement
// that waits, to every party, with what changed from base (nil for a new
// agreement), and sets the timer of its one reminder and its expiry: for
// an agreement's current version in a new generation of its timers, for
// an amendment of an agreement in force a timer of its own, which leaves
// the rounds' timers be.
func askToConfirm(ctx context.Context, tx *Tx, w, base *Agreement) error {
	d := MailData{Deadline: tx.now.Add(tx.db.ConfirmFor)}
	if base != nil {
		d.Amends = base.Version
		d.Changes = ChangedLines(CanonicalText(base.ID, base.Version, base.Terms), CanonicalText(w.ID, w.Version, w.Terms))
		if w.Proposed == w.Version {
			d.InForce = base.Version
		}
	}
	if err := queueToAll(ctx, tx, w, MailConfirmRequest, PurposeConfirm, d); err != nil {
		return err
	}
	at := formatTime(tx.db.nextConfirmTimer(tx.now, tx.now))
	if w.Proposed == w.Version {
		return setTimers(ctx, tx, []timer{{at: at, agreement: w.ID, kind: timerAmend, gen: int64(w.Version)}})
	}
	if err := voidTimers(ctx, tx, w); err != nil {
		return err
	}
	return setTimers(ctx, tx, []timer{{at: at, agreement: w.ID, kind: timerConfirm, gen: w.timerGen}})
}

// versionView returns agreement a as version n of it has it: its number,
// fingerprint and terms, with the parties as the store knows them (IDs,
// threads, tokens). a itself stays as it is.
func versionView(ctx context.Context, q querier, a *Agreement, n int) (*Agreement, error) {
	if n == a.Version {
		return a, nil
	}
	w := *a
	var raw string
	err := q.QueryRowContext(ctx, `SELECT terms, fingerprint FROM versions WHERE agreement_id = ? AND number = ?`, a.ID, n).Scan(&raw, &w.Fingerprint)
	if err != nil {
		return nil, errNoRows(err, fmt.Sprintf("agreement %d has no version %d", a.ID, n))
	}
	var t Terms
	if err := json.Unmarshal([]byte(raw), &t); err != nil {
		return nil, fmt.Errorf("agreement %d version %d: stored terms: %w", a.ID, n, err)
	}
	if len(t.Parties) != len(a.Terms.Parties) {
		return nil, fmt.Errorf("agreement %d version %d: %d parties, not %d", a.ID, n, len(t.Parties), len(a.Terms.Parties))
	}
	for i, p := range t.Parties {
		q := a.Terms.Parties[i]
		q.Name, q.TimeZone, q.Commitments = p.Name, p.TimeZone, p.Commitments
		t.Parties[i] = q
	}
	w.Version, w.Terms = n, t
	return &w, nil
}

// waiting returns the version of a that waits for confirmation, the one
// a reply to version n's "please confirm" may confirm, decline or comment
// on: a pending agreement's current version, or the amendment of an
// agreement in force. Any other version is an error: a replaced version
// is ECONFLICT, one that is not there ENOTFOUND.
func waiting(ctx context.Context, q querier, a *Agreement, n int) (*Agreement, error) {
	latest := max(a.Version, a.Proposed)
	switch {
	case n > latest:
		return nil, Errorf(ENOTFOUND, "agreement %d has no version %d", a.ID, n)
	case a.Status.Final():
		return nil, Errorf(ECONFLICT, "agreement %d is %s, not waiting for confirmation", a.ID, a.Status)
	case n < latest:
		return nil, Errorf(ECONFLICT, "version %d of agreement %d has been replaced by version %d; please reply to the mail about version %d", n, a.ID, latest, latest)
	case a.Status == StatusPending:
		return a, nil
	case a.Proposed == n:
		return versionView(ctx, q, a, n)
	}
	return nil, Errorf(ECONFLICT, "agreement %d is %s, not waiting for confirmation", a.ID, a.Status)
}

// adopt puts amendment w of a, confirmed by every party, in force: it
// becomes the agreement's version, its names and time zones the parties',
// and an active agreement's rounds and reminders follow its schedule from
// now on (a paused one's when it resumes). It returns a as it now stands.
func adopt(ctx context.Context, tx *Tx, a, w *Agreement) (*Agreement, error) {
	if err := setParties(ctx, tx, a.ID, w.Terms.Parties); err != nil {
		return nil, err
	}
	if err := setSchedule(ctx, tx, a.ID, w.Terms); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET version = ?, proposed = 0, updated_at = ? WHERE id = ?`, w.Version, formatTime(tx.now), a.ID); err != nil {
		return nil, fmt.Errorf("update agreement: %w", err)
	}
	now, err := findAgreementByID(ctx, tx, a.ID)
	if err != nil {
		return nil, err
	}
	if now.Status == StatusActive {
		if err := startRounds(ctx, tx, now); err != nil {
			return nil, err
		}
	}
	return now, nil
}

// dropAmendment ends the wait of amendment w of a, which a party declined
// (ev EventDeclined, with the reply) or which expired (EventExpired): the
// version in force stays, and every party is told so in mail of kind.
func dropAmendment(ctx context.Context, tx *Tx, a, w *Agreement, ev EventType, payload Payload, kind MailKind, d MailData) error {
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET proposed = 0, updated_at = ? WHERE id = ?`, formatTime(tx.now), a.ID); err != nil {
		return fmt.Errorf("update agreement: %w", err)
	}
	a.Proposed = 0
	if err := appendEvent(ctx, tx, a.ID, ev, payload); err != nil {
		return err
	}
	d.InForce = a.Version
	return queueToAll(ctx, tx, w, kind, PurposeCommands, d)
}

// awaitAmendment fires amendment timer t, whose gen is the version that
// waits: as awaitConfirmation does for a pending agreement, it reminds
// the parties who have not confirmed it, once, and drops it when it
// expires. A timer of an amendment that is no longer waiting does nothing.
func (db *DB) awaitAmendment(ctx context.Context, t timer, st *ScheduleStats) error {
	return db.inTx(ctx, func(tx *Tx) error {
		if err := dropTimers(ctx, tx, []timer{t}); err != nil {
			return err
		}
		a, err := findAgreementByID(ctx, tx, t.agreement)
		if err != nil || a.Proposed == 0 || int64(a.Proposed) != t.gen || a.Status.Final() {
			if errors.Is(err, ErrNotFound) {
				err = nil
			}
			return err
		}
		w, err := versionView(ctx, tx, a, a.Proposed)
		if err != nil {
			return err
		}
		created, err := versionCreated(ctx, tx, a.ID, w.Version)
		if err != nil {
			return err
		}
		deadline := created.Add(db.ConfirmFor)
		if !tx.now.Before(deadline) {
			st.Expired++
			return dropAmendment(ctx, tx, a, w, EventExpired, ChangeEvent{Version: w.Version}, MailExpired, MailData{})
		}
		if db.RemindAfter > 0 && !tx.now.Before(created.Add(db.RemindAfter)) {
			n, err := remindToConfirm(ctx, tx, w, MailData{Deadline: deadline, InForce: a.Version, Amends: a.Version,
				Changes: ChangedLines(CanonicalText(a.ID, a.Version, a.Terms), CanonicalText(w.ID, w.Version, w.Terms))})
			if err != nil {
				return err
			}
			st.ConfirmReminders += n
		}
		return setTimers(ctx, tx, []timer{{at: formatTime(db.nextConfirmTimer(created, tx.now)), agreement: a.ID, kind: timerAmend, gen: t.gen}})
	})
}

// versionCreated returns when version n of agreement id was made: when
// its "please confirm" went out.
func versionCreated(ctx context.Context, q querier, id int64, n int) (time.Time, error) {
	var at string
	if err := q.QueryRowContext(ctx, `SELECT created_at FROM versions WHERE agreement_id = ? AND number = ?`, id, n).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("agreement %d: version %d: %w", id, n, err)
	}
	return parseTime(at)
}

// setParties keeps the names and time zones of parties, the version in
// force's, in agreement id's parties table, where the timed pass reads
// them.
func setParties(ctx context.Context, tx *Tx, id int64, parties []Party) error {
	for i, p := range parties {
		if _, err := tx.ExecContext(ctx, `UPDATE parties SET name = ?, time_zone = ? WHERE agreement_id = ? AND position = ?`,
			p.Name, p.TimeZone, id, i+1); err != nil {
			return fmt.Errorf("update party: %w", err)
		}
	}
	return nil
}
