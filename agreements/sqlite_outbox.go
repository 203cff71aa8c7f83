package agreements

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

type mailRequest struct {
	key       string
	kind      MailKind
	agreement *Agreement // nil for a mail about no agreement
	party     *Party
	purpose   Purpose // of the reply token
	ref       int64
	data      MailData // the kind's own fields; the rest is filled in
	// answer is set for mail that answers the party's own message: it
	// goes out even to a party who unsubscribed, who wrote to us.
	answer bool
	// newRef is set when the reply token's ref was made in this
	// transaction (a round that just opened): there is no token to find.
	newRef bool
	// inReplyTo is, for mail about no agreement, the Message-ID (without
	// brackets) of the reader's message it answers, to thread under.
	inReplyTo string
	// awake is set for mail that follows at once from what its reader
	// just did, without being an answer the loop breaker may hold back
	// (the confirmed copy to the party who confirmed last): it goes even
	// in their night.
	awake bool
}

// queueMail adds a mail to the outbox in tx, unless its key is there
// already or its recipient unsubscribed, and reports whether it did.
func queueMail(ctx context.Context, tx *Tx, r mailRequest) (bool, error) {
	if r.party != nil && r.party.Unsubscribed() && !r.answer {
		return false, nil
	}
	if r.answer && tx.quiet {
		return false, nil // a loop is being broken: replies get no answer
	}
	var replyTok, cmdTok string
	if a := r.agreement; a != nil {
		t, err := issueToken(ctx, tx, a.ID, r.party.ID, r.purpose, r.ref)
		if err != nil {
			return false, err
		}
		replyTok = t.Value
		if cmdTok = r.party.commandsToken; cmdTok == "" {
			if t, err = issueToken(ctx, tx, a.ID, r.party.ID, PurposeCommands, 0); err != nil {
				return false, err
			}
			cmdTok = t.Value
			r.party.commandsToken = cmdTok
		}
	}
	row, err := newOutboxRow(tx, r, replyTok, cmdTok)
	if err != nil {
		return false, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (dedupe_key, message_id, kind, agreement_id, party_id, rcpt, rcpt_name,
			reply_token, commands_token, thread_id, data, status, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (dedupe_key) DO NOTHING`, row.values()...)
	if err != nil {
		return false, fmt.Errorf("queue mail: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	if r.party != nil && r.party.threadID == "" {
		if _, err := tx.ExecContext(ctx, `UPDATE parties SET thread_id = ? WHERE id = ? AND thread_id = ''`, row.msgID, r.party.ID); err != nil {
			return false, fmt.Errorf("set thread: %w", err)
		}
		r.party.threadID = row.msgID // later mail in this transaction threads under it
	}
	tx.queued = true
	tx.answers++
	return true, nil
}

// sendAt returns when mail request r may go: now, unless it would reach
// its reader in their night unasked (see DB.Night), when it waits for the
// night's end.
func sendAt(tx *Tx, r mailRequest) time.Time {
	if r.answer || r.awake || r.party == nil || r.kind == MailCheckIn || r.kind == MailTermsReminder {
		return tx.now
	}
	loc, err := LoadLocation(r.party.TimeZone)
	if err != nil {
		return tx.now
	}
	return tx.db.Night.After(tx.now, loc)
}

// outboxRow is one outbox row, ready to insert.
type outboxRow struct {
	key, msgID          string
	kind                MailKind
	agreementID, party  any // nil for a mail about no agreement
	rcpt, rcptName      string
	replyTok, cmdTok    string
	thread, data        string
	status              MailStatus
	nextAttempt, create string
}

func (r *outboxRow) values() []any {
	return []any{r.key, r.msgID, r.kind, r.agreementID, r.party, r.rcpt, r.rcptName, r.replyTok, r.cmdTok, r.thread, r.data, r.status, r.nextAttempt, r.create}
}

// newOutboxRow renders mail request r, with its reply and commands tokens,
// as an outbox row, and checks it. What an agreement's version says is
// stored once, with the version, not in every mail: the row keeps which
// version, and reading the outbox fills in the rest (fillAgreement). The
// version's terms were checked when it was made; r.agreement needs only
// its ID and version, and r.party its ID, name, address and thread.
func newOutboxRow(tx *Tx, r mailRequest, replyTok, cmdTok string) (outboxRow, error) {
	d := r.data
	d.Kind = r.kind
	row := outboxRow{key: r.key, msgID: newMessageID(tx.db.MessageIDDomain, tx.now), kind: r.kind, replyTok: replyTok, cmdTok: cmdTok,
		status: MailPending, nextAttempt: formatTime(sendAt(tx, r)), create: formatTime(tx.now)}
	if a := r.agreement; a != nil {
		p := r.party
		if a.Party(p.ID) == nil {
			return outboxRow{}, fmt.Errorf("%s mail: party %d is not on agreement %d", r.kind, p.ID, a.ID)
		}
		d.Agreement = &MailTerms{ID: a.ID, Version: a.Version}
		d.Recipient, d.Others = MailParty{Name: p.Name, FirstName: p.FirstName(), Address: p.Address}, nil
		if endsIt(d) && tx.db.ServiceAddress != "" && tx.db.Start.Allows(p.Address) {
			d.StartAt = tx.db.ServiceAddress // mails promise only what is there
		}
		row.agreementID, row.party = a.ID, p.ID
		row.thread = p.threadID
	} else {
		row.thread = r.inReplyTo
	}
	if err := d.validate(stored); err != nil {
		return outboxRow{}, err
	}
	row.rcpt, row.rcptName = d.Recipient.Address, d.Recipient.Name
	if d.Agreement != nil {
		d.Recipient = MailParty{} // in the row's own columns, and filled in from the version
	}
	data, err := json.Marshal(d)
	if err != nil {
		return outboxRow{}, err
	}
	row.data = string(data)
	return row, nil
}

// queueToAll queues one mail of kind to every party of a, with the key
// KIND:AGREEMENT:VERSION:PARTY.
func queueToAll(ctx context.Context, tx *Tx, a *Agreement, kind MailKind, purpose Purpose, data MailData) error {
	for i := range a.Terms.Parties {
		p := &a.Terms.Parties[i]
		ref := int64(0)
		if purpose == PurposeConfirm {
			ref = int64(a.Version)
		}
		key := fmt.Sprintf("%s:%d:%d:%d", kind, a.ID, a.Version, p.ID)
		if _, err := queueMail(ctx, tx, mailRequest{key: key, kind: kind, agreement: a, party: p, purpose: purpose, ref: ref, data: data}); err != nil {
			return err
		}
	}
	return nil
}

func mailParty(p Party) MailParty {
	return MailParty{Name: p.Name, FirstName: p.FirstName(), Address: p.Address, TimeZone: p.TimeZone, Commitments: p.Commitments}
}

// newMessageID returns a fresh Message-ID (without angle brackets) for mail
// queued at now: the time in milliseconds, in 12 hex digits, then 80
// random bits. IDs sort by time, so the outbox's index of them grows at
// its end instead of at a random page for each mail.
func newMessageID(domain string, now time.Time) string {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b, uint64(now.UnixMilli())<<16)
	rand.Read(b[6:])
	if domain == "" {
		domain = "inwriting.invalid"
	}
	h := hex.EncodeToString(b)
	return "iw." + h[:12] + "." + h[12:] + "@" + domain
}

const outboxColumns = `id, dedupe_key, message_id, kind, COALESCE(agreement_id, 0), COALESCE(party_id, 0), rcpt, rcpt_name,
	reply_token, commands_token, thread_id, data, status, attempts, next_attempt_at, last_error, raw, created_at, sent_at`

func scanOutbox(rows *sql.Rows) (*OutboxMail, error) {
	var m OutboxMail
	var data, next, created, sent string
	if err := rows.Scan(&m.ID, &m.Key, &m.MessageID, &m.Kind, &m.AgreementID, &m.PartyID, &m.To, &m.ToName,
		&m.ReplyToken, &m.CommandsToken, &m.ThreadID, &data, &m.Status, &m.Attempts, &next, &m.LastError, &m.Raw, &created, &sent); err != nil {
		return nil, fmt.Errorf("scan outbox: %w", err)
	}
	if err := json.Unmarshal([]byte(data), &m.Data); err != nil {
		return nil, fmt.Errorf("outbox %d: stored data: %w", m.ID, err)
	}
	var err error
	if m.NextAttemptAt, err = parseTime(next); err != nil {
		return nil, err
	}
	if m.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if sent != "" {
		if m.SentAt, err = parseTime(sent); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

func queryOutbox(ctx context.Context, q querier, clause string, args ...any) ([]*OutboxMail, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+outboxColumns+` FROM outbox `+clause, args...)
	if err != nil {
		return nil, fmt.Errorf("find outbox: %w", err)
	}
	defer rows.Close()
	var ms []*OutboxMail
	for rows.Next() {
		m, err := scanOutbox(rows)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close() // the store has one connection: free it for the next query
	return ms, fillAgreement(ctx, q, ms)
}

// mailAgreement returns version n of agreement id, whose terms t carry
// their parties' IDs, as a mail to party partyID shows it: the terms, the
// recipient, and the others. The canonical text is left out.
func mailAgreement(id int64, n int, fingerprint string, t *Terms, partyID int64) (*MailTerms, MailParty, []MailParty) {
	mt := &MailTerms{ID: id, Title: t.Title, Version: n, Fingerprint: fingerprint, WhatWentWrong: t.WhatWentWrong, CheckIn: t.CheckIn.String()}
	if len(t.Parties) > 0 {
		mt.AuthorName, mt.AuthorAddress = t.Parties[0].FirstName(), t.Parties[0].Address
	}
	if t.Reminder != nil {
		mt.Reminder = t.Reminder.String()
	}
	var to MailParty
	var others []MailParty
	for _, p := range t.Parties {
		if p.ID == partyID {
			to = mailParty(p)
		} else {
			others = append(others, mailParty(p))
		}
	}
	return mt, to, others
}

// fillAgreement completes each mail's data with what its agreement's
// version says (see newOutboxRow): the terms, the canonical text, the
// recipient and the others. Mail stored whole (before the outbox kept
// only the version) gets just its canonical text, if it lacks it.
func fillAgreement(ctx context.Context, q querier, ms []*OutboxMail) error {
	type version struct {
		id int64
		n  int
	}
	type stored struct {
		terms       Terms
		fingerprint string
		text        string
	}
	versions := map[version]*stored{}
	for _, m := range ms {
		a := m.Data.Agreement
		if a == nil || a.CanonicalText != "" {
			continue
		}
		v := version{a.ID, a.Version}
		st, ok := versions[v]
		if !ok {
			st = &stored{}
			var raw string
			if err := q.QueryRowContext(ctx, `SELECT terms, fingerprint, canonical_text FROM versions WHERE agreement_id = ? AND number = ?`, v.id, v.n).
				Scan(&raw, &st.fingerprint, &st.text); err != nil {
				return fmt.Errorf("outbox %d: agreement %d version %d: %w", m.ID, v.id, v.n, err)
			}
			if err := json.Unmarshal([]byte(raw), &st.terms); err != nil {
				return fmt.Errorf("agreement %d version %d: stored terms: %w", v.id, v.n, err)
			}
			a := &Agreement{ID: v.id, Terms: st.terms}
			if err := attachParties(ctx, q, []*Agreement{a}, false); err != nil {
				return err
			}
			st.terms = a.Terms
			versions[v] = st
		}
		if a.Title == "" { // stored as a reference to the version
			m.Data.Agreement, m.Data.Recipient, m.Data.Others = mailAgreement(v.id, v.n, st.fingerprint, &st.terms, m.PartyID)
		}
		m.Data.Agreement.CanonicalText = st.text
	}
	return nil
}

// ClaimMail claims up to max pending mails that are due, for owner, for
// lease: no other claim takes them until the lease runs out or they are
// released. Claims are made in one IMMEDIATE transaction, so two senders on
// one database never claim the same mail.
func (db *DB) ClaimMail(ctx context.Context, owner string, max int, lease time.Duration) ([]*OutboxMail, error) {
	if owner == "" {
		return nil, fmt.Errorf("claim mail: no owner")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := formatTime(tx.now)
	ms, err := queryOutbox(ctx, tx, `WHERE status = ? AND next_attempt_at <= ? AND (claimed_until = '' OR claimed_until <= ?) ORDER BY next_attempt_at, id LIMIT ?`,
		MailPending, now, now, max)
	if err != nil {
		return nil, err
	}
	until := formatTime(tx.now.Add(lease))
	for _, m := range ms {
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?`, owner, until, m.ID); err != nil {
			return nil, fmt.Errorf("claim mail: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return ms, nil
}

// errNotClaimed is returned when owner no longer holds a mail's claim.
func errNotClaimed(id int64, owner string) error {
	return Errorf(ECONFLICT, "outbox mail %d is not claimed by %s", id, owner)
}

// MailOutcome is the result of one attempt at a claimed mail.
type MailOutcome struct {
	ID     int64
	Status MailStatus // MailSent, MailFailed, or MailPending to retry at Next
	Next   time.Time
	Reason string // the server's reply or the network error
	// Bounced marks a failure in which the server refused the recipient
	// for good (a 5xx to RCPT TO): the party's address is marked as
	// bouncing and the other parties are told, once.
	Bounced bool
	// Raw is the message as rendered for this attempt. A mail keeps the
	// bytes of its first attempt: every attempt sends the same bytes, and
	// "outbox show" shows them.
	Raw []byte
}

// RecordOutcomes records the outcomes of owner's claimed mails in one
// transaction, and logs each sent mail in its agreement's event log. An
// outcome for a mail that owner no longer holds is not recorded (another
// sender took it over); the others are, and the error names the first.
func (db *DB) RecordOutcomes(ctx context.Context, owner string, outcomes []MailOutcome) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var lost error
	for _, o := range outcomes {
		var res sql.Result
		const where = ` WHERE id = ? AND claimed_by = ? AND status = 'pending'`
		switch o.Status {
		case MailSent:
			res, err = tx.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, claimed_by = '', claimed_until = '',
				attempts = attempts + 1, last_error = '', raw = COALESCE(raw, ?)`+where, formatTime(tx.now), o.Raw, o.ID, owner)
		case MailFailed:
			res, err = tx.ExecContext(ctx, `UPDATE outbox SET status = 'failed', claimed_by = '', claimed_until = '',
				attempts = attempts + 1, last_error = ?, raw = COALESCE(raw, ?)`+where, o.Reason, o.Raw, o.ID, owner)
		case MailPending:
			res, err = tx.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?, claimed_by = '', claimed_until = '',
				attempts = attempts + 1, last_error = ?, raw = COALESCE(raw, ?)`+where, formatTime(o.Next), o.Reason, o.Raw, o.ID, owner)
		default:
			return fmt.Errorf("record outcome of mail %d: unknown status %q", o.ID, o.Status)
		}
		if err != nil {
			return fmt.Errorf("record outcome of mail %d: %w", o.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if lost == nil {
				lost = errNotClaimed(o.ID, owner)
			}
			continue
		}
		if o.Status == MailFailed && o.Bounced {
			var agreementID, partyID sql.NullInt64
			if err := tx.QueryRowContext(ctx, `SELECT agreement_id, party_id FROM outbox WHERE id = ?`, o.ID).Scan(&agreementID, &partyID); err != nil {
				return fmt.Errorf("find outbox: %w", err)
			}
			if agreementID.Valid && partyID.Valid {
				if _, err := markBouncing(ctx, tx, agreementID.Int64, partyID.Int64); err != nil {
					return err
				}
			}
		}
		if o.Status != MailSent {
			continue
		}
		var kind, msgID, rcpt string
		var agreementID sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT kind, message_id, rcpt, agreement_id FROM outbox WHERE id = ?`, o.ID).Scan(&kind, &msgID, &rcpt, &agreementID); err != nil {
			return fmt.Errorf("find outbox: %w", err)
		}
		if agreementID.Valid {
			if err := appendEvent(ctx, tx, agreementID.Int64, EventMailed, MailedEvent{Kind: MailKind(kind), To: rcpt, MessageID: "<" + msgID + ">"}); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return lost
}

// ReleaseMail gives back every claim that owner holds, without counting an
// attempt: another sender may take them at once.
func (db *DB) ReleaseMail(ctx context.Context, owner string) error {
	_, err := db.db.ExecContext(ctx, `UPDATE outbox SET claimed_by = '', claimed_until = '' WHERE claimed_by = ? AND status = 'pending'`, owner)
	if err != nil {
		return fmt.Errorf("release mail: %w", err)
	}
	return nil
}

// ReleaseAllClaims gives back every claim. Only a process that knows no
// sender runs on the database may call it: serve does, at start, holding
// the database's lock, so claims left by a killed serve are taken up at
// once instead of when their lease runs out.
func (db *DB) ReleaseAllClaims(ctx context.Context) (int64, error) {
	res, err := db.db.ExecContext(ctx, `UPDATE outbox SET claimed_by = '', claimed_until = '' WHERE claimed_by != '' AND status = 'pending'`)
	if err != nil {
		return 0, fmt.Errorf("release claims: %w", err)
	}
	return res.RowsAffected()
}

// RetryMail makes failed mail id pending again, due now; the operator's
// way to retry after fixing the cause.
func (db *DB) RetryMail(ctx context.Context, id int64) (*OutboxMail, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	m, err := findOutboxByID(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if m.Status != MailFailed {
		return nil, Errorf(ECONFLICT, "outbox mail %d is %s; only failed mail can be retried", id, m.Status)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'pending', next_attempt_at = ?, created_at = ? WHERE id = ?`,
		formatTime(tx.now), formatTime(tx.now), id); err != nil {
		return nil, fmt.Errorf("retry mail: %w", err)
	}
	tx.queued = true
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return db.FindOutboxByID(ctx, id)
}

// FindOutboxByID returns outbox mail id, or ErrNotFound.
func (db *DB) FindOutboxByID(ctx context.Context, id int64) (*OutboxMail, error) {
	return findOutboxByID(ctx, db.db, id)
}

func findOutboxByID(ctx context.Context, q querier, id int64) (*OutboxMail, error) {
	ms, err := queryOutbox(ctx, q, `WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, Errorf(ENOTFOUND, "there is no outbox mail %d", id)
	}
	return ms[0], nil
}

// FindOutbox returns the outbox mail that matches f, oldest first.
func (db *DB) FindOutbox(ctx context.Context, f OutboxFilter) ([]*OutboxMail, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where = append(where, `status = ?`)
		args = append(args, f.Status)
	}
	if !f.SentSince.IsZero() {
		where = append(where, `sent_at >= ?`)
		args = append(args, formatTime(f.SentSince))
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	clause += " ORDER BY id"
	if f.Limit > 0 {
		clause += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	return queryOutbox(ctx, db.db, clause, args...)
}

// IsNotClaimed reports whether err says a sender no longer held a claim.
func IsNotClaimed(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ECONFLICT && strings.Contains(e.Message, "is not claimed by")
}

// endsIt reports whether mail d says that an agreement is over for good
// (declined, expired, too late to take back): it tells its reader how a
// new one is started.
func endsIt(d MailData) bool {
	switch {
	case d.Kind == MailDeclined || d.Kind == MailExpired:
		return d.InForce == 0
	case d.Kind == MailNotice:
		return d.Notice == NoticeTooLateToResume
	}
	return false
}

// OldestDue returns since when the longest-waiting mail that is due has
// been due: how far behind the sender is. It is the zero time when
// nothing is due.
func (db *DB) OldestDue(ctx context.Context) (time.Time, error) {
	var at sql.NullString
	if err := db.db.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM outbox WHERE status = ? AND next_attempt_at <= ?`,
		MailPending, formatTime(db.Now().UTC())).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("find the oldest due mail: %w", err)
	}
	if !at.Valid || at.String == "" {
		return time.Time{}, nil
	}
	return parseTime(at.String)
}

// OutboxCount is how many mails of a kind are in a status.
type OutboxCount struct {
	Status MailStatus
	Kind   MailKind
	Count  int64
}

// CountOutbox counts the outbox's mails by status and kind.
func (db *DB) CountOutbox(ctx context.Context) ([]OutboxCount, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT status, kind, COUNT(*) FROM outbox GROUP BY status, kind ORDER BY status, kind`)
	if err != nil {
		return nil, fmt.Errorf("count outbox: %w", err)
	}
	defer rows.Close()
	var cs []OutboxCount
	for rows.Next() {
		var c OutboxCount
		if err := rows.Scan(&c.Status, &c.Kind, &c.Count); err != nil {
			return nil, fmt.Errorf("count outbox: %w", err)
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}
