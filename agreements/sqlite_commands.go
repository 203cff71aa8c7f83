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
	"unicode"
	"unicode/utf8"
)

// noticeAll queues notice d to every party of a; key makes it unique.
func noticeAll(ctx context.Context, tx *Tx, a *Agreement, key string, d MailData) error {
	for i := range a.Terms.Parties {
		p := &a.Terms.Parties[i]
		k := fmt.Sprintf("%s:%s:%d:%d:%s", MailNotice, key, a.ID, p.ID, tx.now.Format(time.RFC3339))
		if _, err := queueMail(ctx, tx, mailRequest{key: k, kind: MailNotice, agreement: a, party: p, purpose: PurposeCommands, data: d}); err != nil {
			return err
		}
	}
	return nil
}

// An order says where a command came from: a reply (its Message-ID), a
// one-click unsubscribe, or the operator acting for a party. key makes the
// mails it sends unique to it.
type order struct {
	msgID    string
	key      string
	operator bool
}

// Command carries out command in (pause, resume, stop and the rest) for
// the party with address by on agreement id, as the operator acting for
// them: the same rules and the same notices as the words by reply. It
// returns what was done ("paused", "resumed", "ended", …). What cannot be
// done is an ECONFLICT error that says why, and nothing is mailed; an
// address not on the agreement is EINVALID.
func (db *DB) Command(ctx context.Context, id int64, by string, in Intent) (string, error) {
	in.Kind = IntentCommand
	var outcome string
	err := db.inTx(ctx, func(tx *Tx) error {
		a, err := findAgreementByID(ctx, tx, id)
		if err != nil {
			return err
		}
		p := a.PartyByAddress(by)
		if p == nil {
			return Errorf(EINVALID, "%s is not a party to agreement %d", by, id)
		}
		// The length of the log makes each command's mails its own.
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT event_count FROM agreements WHERE id = ?`, id).Scan(&seq); err != nil {
			return err
		}
		key := fmt.Sprintf("operator:%s:%d", in.Command, seq)
		outcome, err = command(ctx, tx, a, p, Reading{Intent: in}, order{key: key, operator: true})
		return err
	})
	return outcome, err
}

// noticeOthers queues notice d to every party of a but p; key makes it
// unique.
func noticeOthers(ctx context.Context, tx *Tx, a *Agreement, p *Party, key string, d MailData) error {
	for i := range a.Terms.Parties {
		o := &a.Terms.Parties[i]
		if o.ID == p.ID {
			continue
		}
		k := fmt.Sprintf("%s:%s:%d", MailNotice, key, o.ID)
		if _, err := queueMail(ctx, tx, mailRequest{key: k, kind: MailNotice, agreement: a, party: o, purpose: PurposeCommands, data: d}); err != nil {
			return err
		}
	}
	return nil
}

// command carries out party p's command, r's intent, given as o says.
func command(ctx context.Context, tx *Tx, a *Agreement, p *Party, r Reading, o order) (string, error) {
	in := r.Intent
	author := mailParty(*p)
	msgID, key := o.msgID, o.key
	notice := func(to *Party, d MailData) error {
		k := fmt.Sprintf("%s:%s", MailNotice, key)
		if to.ID != p.ID {
			k += fmt.Sprintf(":%d", to.ID)
		}
		_, err := queueMail(ctx, tx, mailRequest{key: k, kind: MailNotice, agreement: a, party: to, purpose: PurposeCommands, data: d,
			answer: to.ID == p.ID && !o.operator})
		return err
	}
	// refuse tells p, by notice d, why their command cannot be done;
	// the operator is told instead (why is the error), and p gets nothing.
	refuse := func(d MailData, why string, args ...any) (string, error) {
		if o.operator {
			return "", Errorf(ECONFLICT, why, args...)
		}
		return "refused", notice(p, d)
	}
	switch in.Command {
	case CommandAmend:
		return amendByReply(ctx, tx, a, p, in.Amend, refuse)
	case CommandHelp:
		return "help", notice(p, MailData{Notice: NoticeHelp})
	case CommandStopMail:
		// Their own words for "fewer mails": ask what they want, and change
		// nothing until they say.
		return "asked", notice(p, MailData{Notice: NoticeFewerMails})
	case CommandUnsubscribe:
		return unsubscribe(ctx, tx, a, p, key)
	case CommandPause:
		if a.Status != StatusActive {
			return refuse(MailData{Notice: NoticeCannotPause, Status: a.Status}, "agreement %d is %s; there are no check-ins to pause", a.ID, a.Status)
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
		if err := appendEvent(ctx, tx, a.ID, EventPaused, ChangeEvent{Version: a.Version, By: p.Address, Until: until}); err != nil {
			return "", err
		}
		return "paused", noticeAll(ctx, tx, a, "paused:"+key, MailData{Notice: NoticePaused, Author: &author, Until: in.Until})
	case CommandResume:
		resubscribed := p.Unsubscribed()
		if err := resubscribe(ctx, tx, a, p, key); err != nil {
			return "", err
		}
		// A break or an end belongs to whoever asked for it: only they
		// take it back. Anyone else is told so, kindly, and the owner is
		// told that they would like to go on.
		var owner *Party
		if a.Status == StatusPaused || a.Status == StatusEnded {
			last, at, err := lastChange(ctx, tx, a.ID)
			if err != nil {
				return "", err
			}
			if last.Type == EventPaused || last.Type == EventEnded {
				owner = a.PartyByAddress(last.By)
			}
			if a.Status == StatusEnded && owner != nil && owner.ID == p.ID && tx.now.Sub(at) > 7*24*time.Hour {
				return refuse(MailData{Notice: NoticeTooLateToResume}, "agreement %d ended more than 7 days ago; it cannot be resumed", a.ID)
			}
		}
		if owner != nil && owner.ID != p.ID {
			ownerData := mailParty(*owner)
			if o.operator {
				return "", Errorf(ECONFLICT, "%s %s it; only they can take that back", owner.Address, map[Status]string{StatusPaused: "paused", StatusEnded: "ended"}[a.Status])
			}
			if err := notice(owner, MailData{Notice: NoticeResumeWished, Author: &author, Status: a.Status}); err != nil {
				return "", err
			}
			return "asked-owner", notice(p, MailData{Notice: NoticeNotYours, Author: &ownerData, Status: a.Status})
		}
		if a.Status == StatusEnded {
			if owner == nil { // ended by no party (an older log): not to be taken back by reply
				return refuse(MailData{Notice: NoticeTooLateToResume}, "agreement %d was not ended by a party; it cannot be resumed", a.ID)
			}
			a.Status = StatusPaused
		}
		if a.Status != StatusPaused {
			if resubscribed {
				return "resubscribed", notice(p, MailData{Notice: NoticeResubscribed})
			}
			return refuse(MailData{Notice: NoticeCannotResume, Status: a.Status}, "agreement %d is %s, not paused", a.ID, a.Status)
		}
		// A check-in needs everyone: while another party has asked for no
		// mail, check-ins stay paused, and why is theirs to tell.
		for _, o := range a.Terms.Parties {
			if o.Unsubscribed() {
				return refuse(MailData{Notice: NoticeStillPaused}, "%s has unsubscribed; only they can resume the check-ins, by replying \"resume\"", o.Address)
			}
		}
		if err := setStatus(ctx, tx, a.ID, StatusActive); err != nil {
			return "", err
		}
		if err := startRounds(ctx, tx, a); err != nil {
			return "", err
		}
		if err := appendEvent(ctx, tx, a.ID, EventResumed, ChangeEvent{Version: a.Version, By: p.Address}); err != nil {
			return "", err
		}
		return "resumed", noticeAll(ctx, tx, a, "resumed:"+key, MailData{Notice: NoticeResumed, Author: &author})
	case CommandStop:
		if a.Status.Final() {
			return refuse(MailData{Notice: NoticeAlreadyOver, Status: a.Status}, "agreement %d is already %s", a.ID, a.Status)
		}
		// Ending asks once: a "stop" by reply ends the agreement when the
		// same party said "stop" within the week before, and nothing was
		// ended or resumed since. The operator's stop is the party's
		// wish already said to them.
		if !o.operator {
			asked, err := stopAsked(ctx, tx, a.ID, p.Address)
			if err != nil {
				return "", err
			}
			if !asked {
				if err := appendEvent(ctx, tx, a.ID, EventStopAsked, ChangeEvent{Version: a.Version, By: p.Address}); err != nil {
					return "", err
				}
				return "asked", notice(p, MailData{Notice: NoticeStopAgain})
			}
		}
		if err := setStatus(ctx, tx, a.ID, StatusEnded); err != nil {
			return "", err
		}
		if err := voidTimers(ctx, tx, a); err != nil {
			return "", err
		}
		if err := appendEvent(ctx, tx, a.ID, EventEnded, ChangeEvent{Version: a.Version, By: p.Address}); err != nil {
			return "", err
		}
		return "ended", noticeAll(ctx, tx, a, "ended:"+key, MailData{Notice: NoticeEnded, Author: &author})
	case CommandHistory:
		hist, err := roundHistory(ctx, tx, a, 1000)
		if err != nil {
			return "", err
		}
		sort.SliceStable(hist, func(i, j int) bool { return hist[i].Round < hist[j].Round })
		return "history", notice(p, MailData{Notice: NoticeHistory, History: hist})
	case CommandFix:
		var roundID int64
		err := tx.QueryRowContext(ctx, `SELECT rp.round_id FROM round_parties rp JOIN rounds r ON r.id = rp.round_id
			WHERE r.agreement_id = ? AND rp.party_id = ? AND rp.answered_at != '' ORDER BY r.occurrence DESC LIMIT 1`, a.ID, p.ID).Scan(&roundID)
		if errors.Is(err, sql.ErrNoRows) {
			return refuse(MailData{Notice: NoticeNothingToFix}, "%s has not answered a check-in yet; there is nothing to fix", p.Address)
		} else if err != nil {
			return "", err
		}
		ans := CheckInAnswer{Text: in.Fix}
		if r.CheckIn != nil {
			ans = *r.CheckIn
		}
		return recordCheckIn(ctx, tx, a, p, roundID, ans, msgID, key)
	}
	return refuse(MailData{Notice: NoticeNotACommand, Command: in.Command}, "%q is not a command", in.Command)
}

// lastChange returns the last event of agreement id that paused, ended or
// resumed it, with its time; a zero event when there is none. (A pause
// that an unsubscribe made is the unsubscribed party's, and is not here.)
func lastChange(ctx context.Context, tx *Tx, id int64) (change, time.Time, error) {
	var last change
	var data, at string
	err := tx.QueryRowContext(ctx, `SELECT type, data, at FROM events WHERE agreement_id = ? AND type IN (?, ?, ?) ORDER BY seq DESC LIMIT 1`,
		id, EventPaused, EventEnded, EventResumed).Scan(&last.Type, &data, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return last, time.Time{}, nil
	} else if err != nil {
		return last, time.Time{}, fmt.Errorf("last change of agreement %d: %w", id, err)
	}
	if err := json.Unmarshal([]byte(data), &last.ChangeEvent); err != nil {
		return last, time.Time{}, fmt.Errorf("last change of agreement %d: %w", id, err)
	}
	t, err := parseTime(at)
	return last, t, err
}

// A change is an event that changed an agreement's status, with its data.
type change struct {
	Type EventType
	ChangeEvent
}

// stopAsked reports whether party by said "stop" to agreement id within
// the last 7 days, with nothing ended or resumed since.
func stopAsked(ctx context.Context, tx *Tx, id int64, by string) (bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT type, data FROM events WHERE agreement_id = ? AND type IN (?, ?, ?) AND at >= ? ORDER BY seq DESC`,
		id, EventStopAsked, EventEnded, EventResumed, formatTime(tx.now.Add(-7*24*time.Hour)))
	if err != nil {
		return false, fmt.Errorf("find stop asked: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ EventType
		var data string
		if err := rows.Scan(&typ, &data); err != nil {
			return false, err
		}
		if typ != EventStopAsked {
			return false, nil
		}
		var d ChangeEvent
		if json.Unmarshal([]byte(data), &d) == nil && strings.EqualFold(d.By, by) {
			return true, nil
		}
	}
	return false, rows.Err()
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
	if err := appendEvent(ctx, tx, a.ID, EventUnsubscribed, ChangeEvent{Version: a.Version, By: p.Address, Paused: wasActive}); err != nil {
		return "", err
	}
	if wasActive || a.Status == StatusPaused {
		if err := noticeOthers(ctx, tx, a, p, "unsubscribed:"+key, MailData{Notice: NoticePausedForNow}); err != nil {
			return "", err
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
	return appendEvent(ctx, tx, a.ID, EventResubscribed, ChangeEvent{Version: a.Version, By: p.Address, Message: why})
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
		_, err = command(ctx, tx, a, p, r, order{key: fmt.Sprintf("one-click:%s:%s", t.Value, tx.now.Format("2006-01-02T15"))})
		return err
	})
}

// missedRule applies the agreement's rule for missed check-ins as a round
// closes: a party who has now missed exactly MissedAfter rounds in a row

// amendByReply makes party p's "amend:" the next version of a: the parts
// text gives replace those of the newest version (the one that waits, if
// one does), and every party is asked to confirm it, the writer too. What
// cannot be read or done is told to p alone, and nothing changes.
func amendByReply(ctx context.Context, tx *Tx, a *Agreement, p *Party, text string, refuse func(MailData, string, ...any) (string, error)) (string, error) {
	if a.Status.Final() || a.Status == StatusDraft {
		return refuse(MailData{Notice: NoticeCannotAmend, Status: a.Status}, "agreement %d is %s; it cannot be amended", a.ID, a.Status)
	}
	base, err := versionView(ctx, tx, a, max(a.Version, a.Proposed))
	if err != nil {
		return "", err
	}
	writer := slices.IndexFunc(base.Terms.Parties, func(q Party) bool { return q.ID == p.ID })
	t, err := ParseAmendment(base.Terms, writer, text)
	if err == nil {
		err = amendTx(ctx, tx, a, t)
	}
	var de *Error
	if errors.As(err, &de) {
		return refuse(MailData{Notice: NoticeAmendUnclear, Problem: sentence(de.Message), Quote: clipQuote(cleanText(text))}, "%s", de.Message)
	}
	if err != nil {
		return "", err
	}
	return "amended", nil
}

// sentence returns an error message as a sentence in a mail: its first
// letter a capital, without the full stop the template adds.
func sentence(msg string) string {
	msg = strings.TrimSuffix(strings.TrimSpace(msg), ".")
	r, n := utf8.DecodeRuneInString(msg)
	return string(unicode.ToUpper(r)) + msg[n:]
}
