package agreements

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// CreateAgreement stores terms as version 1 of a new agreement that waits for
// every party's confirmation.
func (db *DB) CreateAgreement(ctx context.Context, t Terms) (*Agreement, error) {
	return db.createAgreement(ctx, t, StatusPending)
}

func (db *DB) createAgreement(ctx context.Context, t Terms, status Status) (*Agreement, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := db.createAgreementTx(ctx, tx, t, status)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return db.FindAgreementByID(ctx, a.ID)
}

// createAgreementTx stores t as version 1 of a new agreement of status, in
// tx; a pending one's parties are asked to confirm it.
func (db *DB) createAgreementTx(ctx context.Context, tx *Tx, t Terms, status Status) (*Agreement, error) {
	t.Normalize()
	if err := t.Validate(); err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO agreements (status, version, created_at, updated_at) VALUES (?, 1, ?, ?)`,
		status, formatTime(tx.now), formatTime(tx.now))
	if err != nil {
		return nil, fmt.Errorf("insert agreement: %w", err)
	}
	id, _ := res.LastInsertId()
	for i := range t.Parties {
		p := &t.Parties[i]
		res, err := tx.ExecContext(ctx, `INSERT INTO parties (agreement_id, position, address, address_key, name, time_zone) VALUES (?, ?, ?, ?, ?, ?)`,
			id, i+1, p.Address, strings.ToLower(p.Address), p.Name, p.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("insert party: %w", err)
		}
		p.ID, _ = res.LastInsertId()
	}
	addrs := make([]string, len(t.Parties))
	for i, p := range t.Parties {
		addrs[i] = p.Address
	}
	if err := appendEvent(ctx, tx, id, EventCreated, CreatedEvent{Title: t.Title, Parties: addrs, Status: status}); err != nil {
		return nil, err
	}
	if err := insertVersion(ctx, tx, id, 1, t, true); err != nil {
		return nil, err
	}
	a, err := findAgreementByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if status == StatusPending {
		if err := askToConfirm(ctx, tx, a, nil); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// queueConfirmRequests queues "please confirm" for agreement id's current
// version to every party, and sets the timer of its one reminder and its
// expiry, in a new generation of the agreement's timers.
func queueConfirmRequests(ctx context.Context, tx *Tx, id int64) error {
	a, err := findAgreementByID(ctx, tx, id)
	if err != nil {
		return err
	}
	return askToConfirm(ctx, tx, a, nil)
}

// insertVersion stores version n of agreement id, and logs it. With
// current set it becomes the agreement's current version, whose schedule
// the agreement's row keeps; else it is an amendment that waits (see
// AmendAgreement).
func insertVersion(ctx context.Context, tx *Tx, id int64, n int, t Terms, current bool) error {
	terms, err := json.Marshal(t)
	if err != nil {
		return err
	}
	if current {
		if err := setSchedule(ctx, tx, id, t); err != nil {
			return err
		}
	}
	text := CanonicalText(id, n, t)
	fp := Fingerprint(text)
	if _, err := tx.ExecContext(ctx, `INSERT INTO versions (agreement_id, number, terms, canonical_text, fingerprint, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		id, n, terms, text, fp, formatTime(tx.now)); err != nil {
		return fmt.Errorf("insert version: %w", err)
	}
	return appendEvent(ctx, tx, id, EventVersionAdded, VersionEvent{Version: n, Fingerprint: fp})
}

// setSchedule keeps t's check-in schedule in agreement id's row, where the
// timed pass reads it.
func setSchedule(ctx context.Context, tx *Tx, id int64, t Terms) error {
	checkIn, err := json.Marshal(t.CheckIn)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET check_in = ? WHERE id = ?`, string(checkIn), id); err != nil {
		return fmt.Errorf("set schedule: %w", err)
	}
	return nil
}

// FindAgreementByID returns the agreement with its current terms, or
// ErrNotFound.
func (db *DB) FindAgreementByID(ctx context.Context, id int64) (*Agreement, error) {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return findAgreementByID(ctx, tx, id)
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func findAgreementByID(ctx context.Context, q querier, id int64) (*Agreement, error) {
	as, err := findAgreements(ctx, q, `WHERE a.id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, Errorf(ENOTFOUND, "there is no agreement %d", id)
	}
	return as[0], nil
}

// FindAgreements returns the agreements that match f, newest first.
func (db *DB) FindAgreements(ctx context.Context, f AgreementFilter) ([]*Agreement, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, `a.status = ?`)
		args = append(args, f.Status)
	}
	if f.Address != "" {
		where = append(where, `a.id IN (SELECT agreement_id FROM parties WHERE address_key = ?)`)
		args = append(args, strings.ToLower(f.Address))
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	clause += ` ORDER BY a.id DESC`
	if f.Limit > 0 {
		clause += fmt.Sprintf(` LIMIT %d`, f.Limit)
	}
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	return findAgreements(ctx, tx, clause, args...)
}

func findAgreements(ctx context.Context, q querier, clause string, args ...any) ([]*Agreement, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT a.id, a.status, a.version, a.proposed, a.created_at, a.updated_at, a.active_since, a.timer_gen, v.terms, v.fingerprint
		FROM agreements a JOIN versions v ON v.agreement_id = a.id AND v.number = a.version
		`+clause, args...)
	if err != nil {
		return nil, fmt.Errorf("find agreements: %w", err)
	}
	defer rows.Close()
	var as []*Agreement
	for rows.Next() {
		var a Agreement
		var created, updated, terms string
		if err := rows.Scan(&a.ID, &a.Status, &a.Version, &a.Proposed, &created, &updated, &a.activeSince, &a.timerGen, &terms, &a.Fingerprint); err != nil {
			return nil, fmt.Errorf("find agreements: %w", err)
		}
		if a.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		if a.UpdatedAt, err = parseTime(updated); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(terms), &a.Terms); err != nil {
			return nil, fmt.Errorf("agreement %d: stored terms: %w", a.ID, err)
		}
		as = append(as, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find agreements: %w", err)
	}
	rows.Close()
	return as, attachParties(ctx, q, as, false)
}

// attachParties fills in the store's facts about each agreement's parties
// (their IDs, threads, unsubscribes and commands tokens), which versions' terms do not
// carry, by position, in one query. With bare true, the agreements' terms
// were not loaded (findDue): it adds the parties to them, with the name,
// address and time zone that the parties table keeps for the current
// version.
func attachParties(ctx context.Context, q querier, as []*Agreement, bare bool) error {
	if len(as) == 0 {
		return nil
	}
	byID := make(map[int64]*Agreement, len(as))
	ids := make([]int64, len(as))
	for i, a := range as {
		byID[a.ID] = a
		ids[i] = a.ID
	}
	const cols = `SELECT agreement_id, id, position, thread_id, unsubscribed_at, commands_token, name, address, time_zone FROM parties `
	var rows *sql.Rows
	var err error
	if len(as) == 1 {
		rows, err = q.QueryContext(ctx, cols+`WHERE agreement_id = ?`, ids[0])
	} else {
		rows, err = q.QueryContext(ctx, cols+`WHERE agreement_id IN (SELECT value FROM json_each(?))`, idList(ids))
	}
	if err != nil {
		return fmt.Errorf("find parties: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var aid, id int64
		var pos int
		var thread, unsub, commands, name, address, zone string
		if err := rows.Scan(&aid, &id, &pos, &thread, &unsub, &commands, &name, &address, &zone); err != nil {
			return fmt.Errorf("find parties: %w", err)
		}
		a := byID[aid]
		if bare && pos > len(a.Terms.Parties) && pos <= MaxParties {
			a.Terms.Parties = append(a.Terms.Parties, make([]Party, pos-len(a.Terms.Parties))...)
		}
		if pos < 1 || pos > len(a.Terms.Parties) {
			return fmt.Errorf("agreement %d: party %d at position %d is not in the terms", a.ID, id, pos)
		}
		p := &a.Terms.Parties[pos-1]
		p.ID, p.threadID, p.unsubscribed, p.commandsToken = id, thread, unsub, commands
		if bare {
			p.Name, p.Address, p.TimeZone = name, address, zone
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find parties: %w", err)
	}
	if bare {
		for _, a := range as {
			for i, p := range a.Terms.Parties {
				if p.ID == 0 {
					return fmt.Errorf("agreement %d: no party at position %d", a.ID, i+1)
				}
			}
		}
	}
	return nil
}

// idList returns ids as a JSON array, for "IN (SELECT value FROM
// json_each(?))": one parameter for any number of IDs.
func idList(ids []int64) string {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// FindVersions returns every version of agreement id, oldest first.
func (db *DB) FindVersions(ctx context.Context, id int64) ([]*Version, error) {
	return db.findVersions(ctx, `WHERE agreement_id = ? ORDER BY number`, id)
}

// FindVersionByFingerprint returns the version whose canonical text has the
// fingerprint fp, or ErrNotFound.
func (db *DB) FindVersionByFingerprint(ctx context.Context, fp string) (*Version, error) {
	vs, err := db.findVersions(ctx, `WHERE fingerprint = ? ORDER BY agreement_id, number LIMIT 1`, strings.ToLower(fp))
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, Errorf(ENOTFOUND, "no agreement version has the fingerprint %s", fp)
	}
	return vs[0], nil
}

func (db *DB) findVersions(ctx context.Context, clause string, args ...any) ([]*Version, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT agreement_id, number, terms, canonical_text, fingerprint, created_at FROM versions `+clause, args...)
	if err != nil {
		return nil, fmt.Errorf("find versions: %w", err)
	}
	defer rows.Close()
	var vs []*Version
	for rows.Next() {
		var v Version
		var terms, created string
		if err := rows.Scan(&v.AgreementID, &v.Number, &terms, &v.CanonicalText, &v.Fingerprint, &created); err != nil {
			return nil, fmt.Errorf("find versions: %w", err)
		}
		if err := json.Unmarshal([]byte(terms), &v.Terms); err != nil {
			return nil, fmt.Errorf("version %d/%d: stored terms: %w", v.AgreementID, v.Number, err)
		}
		if v.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		vs = append(vs, &v)
	}
	return vs, rows.Err()
}

// requireParty returns the party partyID of a, or an EINVALID error.
func requireParty(a *Agreement, partyID int64) (*Party, error) {
	p := a.Party(partyID)
	if p == nil {
		return nil, Errorf(EINVALID, "party %d is not on agreement %d", partyID, a.ID)
	}
	return p, nil
}

// confirmTx records c for a, the agreement as loaded in tx, and reports
// whether it was the last confirmation the version waited for: the
// version is then in force, a pending agreement active, and everyone has
// the confirmed copy.
func confirmTx(ctx context.Context, tx *Tx, a *Agreement, c Confirmation) (bool, error) {
	if c.MessageID == "" {
		return false, Errorf(EINVALID, "a confirmation needs the Message-ID it came from")
	}
	if c.AuthResult == "" {
		c.AuthResult = "none"
	}
	p, err := requireParty(a, c.PartyID)
	if err != nil {
		return false, err
	}
	w, err := waiting(ctx, tx, a, c.Version)
	if err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO confirmations (agreement_id, version, party_id, confirmed_at, message_id, auth_result) VALUES (?, ?, ?, ?, ?, ?)`,
		a.ID, c.Version, c.PartyID, formatTime(tx.now), c.MessageID, c.AuthResult)
	if isUniqueViolation(err) {
		return false, Errorf(ECONFLICT, "%s has already confirmed version %d of agreement %d", p.Address, c.Version, a.ID)
	} else if err != nil {
		return false, fmt.Errorf("insert confirmation: %w", err)
	}
	if err := appendEvent(ctx, tx, a.ID, EventConfirmed, ConfirmedEvent{
		Version: c.Version, Fingerprint: w.Fingerprint, Party: p.Address,
		MessageID: c.MessageID, AuthResult: c.AuthResult,
	}); err != nil {
		return false, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM confirmations WHERE agreement_id = ? AND version = ?`, a.ID, c.Version).Scan(&n); err != nil {
		return false, fmt.Errorf("count confirmations: %w", err)
	}
	if n < len(a.Terms.Parties) {
		return false, nil
	}
	if w != a {
		// An amendment of an agreement in force: it is in force now.
		if a, err = adopt(ctx, tx, a, w); err != nil {
			return false, err
		}
	} else {
		if err := setStatus(ctx, tx, a.ID, StatusActive); err != nil {
			return false, err
		}
		if err := startRounds(ctx, tx, a); err != nil {
			return false, err
		}
	}
	if err := appendEvent(ctx, tx, a.ID, EventActivated, VersionEvent{Version: c.Version, Fingerprint: a.Fingerprint}); err != nil {
		return false, err
	}
	audit, err := findAudit(ctx, tx, a, c.Version)
	if err != nil {
		return false, err
	}
	cal := ICalendar(a, DateOf(tx.now.UTC()), tx.now)
	// One mail to each: the confirmed copy, which says when their first
	// check-in comes. To the party whose confirmation this was it answers
	// their reply (no receipt goes as well), so it goes at once; it is
	// not an answer the loop breaker could hold back.
	first, hasFirst := nextCheckIn(a, tx.now)
	for i := range a.Terms.Parties {
		p := &a.Terms.Parties[i]
		d := MailData{Audit: audit, Calendar: cal}
		if loc, err := LoadLocation(p.TimeZone); err == nil && hasFirst && a.Status == StatusActive {
			d.FirstCheckIn = a.Terms.CheckIn.At(first, loc)
		}
		key := fmt.Sprintf("%s:%d:%d:%d", MailConfirmed, a.ID, a.Version, p.ID)
		if _, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailConfirmed, agreement: a, party: p, purpose: PurposeCommands, data: d,
			awake: p.ID == c.PartyID}); err != nil {
			return false, err
		}
	}
	return true, nil
}

// nextCheckIn returns the day of active agreement a's first check-in
// after now.
func nextCheckIn(a *Agreement, now time.Time) (Date, bool) {
	anchor, err := ParseDate(a.activeSince)
	if err != nil {
		return Date{}, false
	}
	return nextDay(a, a.Terms.CheckIn, anchor, now)
}

// declineTx records that party partyID declines version of a, which waits
// for confirmation: a pending agreement is declined for everyone; an
// amendment of an agreement in force is dropped, and the version in force
// stays.
func declineTx(ctx context.Context, tx *Tx, a *Agreement, version int, partyID int64, messageID string) error {
	p, err := requireParty(a, partyID)
	if err != nil {
		return err
	}
	w, err := waiting(ctx, tx, a, version)
	if err != nil {
		return err
	}
	author := mailParty(*p)
	ev := ReplyEvent{Version: version, Party: p.Address, MessageID: messageID}
	if w != a {
		return dropAmendment(ctx, tx, a, w, EventDeclined, ev, MailDeclined, MailData{Author: &author})
	}
	if err := setStatus(ctx, tx, a.ID, StatusDeclined); err != nil {
		return err
	}
	if err := appendEvent(ctx, tx, a.ID, EventDeclined, ev); err != nil {
		return err
	}
	return queueToAll(ctx, tx, a, MailDeclined, PurposeCommands, MailData{Author: &author})
}

func commentTx(ctx context.Context, tx *Tx, a *Agreement, version int, partyID int64, text, messageID string) error {
	p, err := requireParty(a, partyID)
	if err != nil {
		return err
	}
	if a.Status.Final() {
		return Errorf(ECONFLICT, "agreement %d is %s", a.ID, a.Status)
	}
	text = cleanText(text)
	if err := appendEvent(ctx, tx, a.ID, EventCommented, ReplyEvent{Version: version, Party: p.Address, MessageID: messageID, Text: text}); err != nil {
		return err
	}
	// Forward it to everyone else; replying to it answers the version
	// that waits for confirmation, if one does, which the mail shows. The
	// initiator (the first party) is asked whether to amend.
	purpose, ref := PurposeCommands, int64(0)
	asking := false
	if w, err := waiting(ctx, tx, a, max(a.Version, a.Proposed)); err == nil {
		a, asking = w, true
		purpose, ref = PurposeConfirm, int64(w.Version)
	}
	author := mailParty(*p)
	for i := range a.Terms.Parties {
		o := &a.Terms.Parties[i]
		if o.ID == p.ID {
			continue
		}
		key := fmt.Sprintf("%s:%d:%s:%d", MailComment, a.ID, messageID, o.ID)
		data := MailData{Author: &author, Quote: text, AskAmend: i == 0 && asking}
		if _, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailComment, agreement: a, party: o, purpose: purpose, ref: ref, data: data}); err != nil {
			return err
		}
	}
	return nil
}

// transition moves agreement id to status to, from one of the statuses
// from, logs ev, and runs then (if not nil) in the same transaction; any
// other starting status is an ECONFLICT error.
func (db *DB) transition(ctx context.Context, id int64, to Status, ev EventType, then func(*Tx, *Agreement) error, from ...Status) (*Agreement, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := findAgreementByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	allowed := false
	for _, s := range from {
		allowed = allowed || a.Status == s
	}
	if !allowed {
		return nil, Errorf(ECONFLICT, "agreement %d is %s; it cannot become %s", id, a.Status, to)
	}
	if err := setStatus(ctx, tx, id, to); err != nil {
		return nil, err
	}
	if err := appendEvent(ctx, tx, id, ev, ChangeEvent{Version: a.Version}); err != nil {
		return nil, err
	}
	if then != nil {
		a.Status = to
		if err := then(tx, a); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return db.FindAgreementByID(ctx, id)
}

// findAudit returns the audit trail of version n: who confirmed, when,
// from which message, with what authentication result.
func findAudit(ctx context.Context, tx *Tx, a *Agreement, n int) ([]MailConfirm, error) {
	rows, err := tx.QueryContext(ctx, `SELECT party_id, confirmed_at, message_id, auth_result FROM confirmations WHERE agreement_id = ? AND version = ? ORDER BY confirmed_at, rowid`, a.ID, n)
	if err != nil {
		return nil, fmt.Errorf("find audit: %w", err)
	}
	defer rows.Close()
	var audit []MailConfirm
	for rows.Next() {
		var c MailConfirm
		var party int64
		var at string
		if err := rows.Scan(&party, &at, &c.MessageID, &c.AuthResult); err != nil {
			return nil, fmt.Errorf("find audit: %w", err)
		}
		if c.At, err = parseTime(at); err != nil {
			return nil, err
		}
		if p := a.Party(party); p != nil {
			c.Party = p.Display()
		}
		audit = append(audit, c)
	}
	return audit, rows.Err()
}

func setStatus(ctx context.Context, tx *Tx, id int64, s Status) error {
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET status = ?, updated_at = ? WHERE id = ?`, s, formatTime(tx.now), id); err != nil {
		return fmt.Errorf("update status: %w", err)
	}
	return nil
}

// FindConfirmations returns the confirmations of every version of agreement
// id, in the order they were made.
func (db *DB) FindConfirmations(ctx context.Context, id int64) ([]*Confirmation, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT agreement_id, version, party_id, confirmed_at, message_id, auth_result
		FROM confirmations WHERE agreement_id = ? ORDER BY version, confirmed_at, rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("find confirmations: %w", err)
	}
	defer rows.Close()
	var cs []*Confirmation
	for rows.Next() {
		var c Confirmation
		var at string
		if err := rows.Scan(&c.AgreementID, &c.Version, &c.PartyID, &at, &c.MessageID, &c.AuthResult); err != nil {
			return nil, fmt.Errorf("find confirmations: %w", err)
		}
		if c.ConfirmedAt, err = parseTime(at); err != nil {
			return nil, err
		}
		cs = append(cs, &c)
	}
	return cs, rows.Err()
}

// errNoRows turns sql.ErrNoRows into an ENOTFOUND error with msg.
func errNoRows(err error, msg string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return Errorf(ENOTFOUND, "%s", msg)
	}
	return err
}
