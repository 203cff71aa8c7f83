package agreements

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

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
		var p *Party
		for i := range a.Terms.Parties {
			if strings.EqualFold(a.Terms.Parties[i].Address, by) {
				p = &a.Terms.Parties[i]
			}
		}
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

// command carries out party p's command, r's intent, given as o says.
func command(ctx context.Context, tx *Tx, a *Agreement, p *Party, r Reading, o order) (string, error) {
	in := r.Intent
	who := p.FirstName()
	msgID, key := o.msgID, o.key
	notice := func(to *Party, title string, lines ...string) error {
		k := fmt.Sprintf("%s:%s", MailNotice, key)
		if to.ID != p.ID {
			k += fmt.Sprintf(":%d", to.ID)
		}
		_, err := queueMail(ctx, tx, mailRequest{key: k, kind: MailNotice, agreement: a, party: to, purpose: PurposeCommands, data: MailData{Title: title, Lines: lines},
			answer: to.ID == p.ID && !o.operator})
		return err
	}
	// refuse tells p why their command cannot be done; the operator is
	// told instead, and p gets nothing.
	refuse := func(title string, lines ...string) (string, error) {
		if o.operator {
			return "", Errorf(ECONFLICT, "%s", strings.Join(lines, " "))
		}
		return "refused", notice(p, title, lines...)
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
	case CommandUnsubscribe:
		return unsubscribe(ctx, tx, a, p, key)
	case CommandPause:
		if a.Status != StatusActive {
			return refuse("Nothing to pause", fmt.Sprintf("The agreement is %s, so there are no check-ins to pause.", a.Status))
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
		line := who + " has paused the check-ins."
		if until != "" {
			line = fmt.Sprintf("%s has paused the check-ins until %s.", who, in.Until.Format("Monday 2 January 2006"))
		}
		return "paused", noticeAll(ctx, tx, a, "paused:"+key, "Check-ins are paused", []string{line, `Reply "resume" to start them again.`})
	case CommandResume:
		resubscribed := p.Unsubscribed()
		if err := resubscribe(ctx, tx, a, p, key); err != nil {
			return "", err
		}
		if a.Status == StatusEnded {
			// A "stop" by reply can be taken back for 7 days.
			var at string
			err := tx.QueryRowContext(ctx, `SELECT at FROM events WHERE agreement_id = ? AND type = ? ORDER BY seq DESC LIMIT 1`, a.ID, EventEnded).Scan(&at)
			if t, perr := parseTime(at); err != nil || perr != nil || tx.now.Sub(t) > 7*24*time.Hour {
				return refuse("Too late to resume", "The agreement ended more than 7 days ago. You can start a new one by writing to this address.")
			}
			a.Status = StatusPaused
		}
		if a.Status != StatusPaused {
			if resubscribed {
				return "resubscribed", notice(p, "Mail is back on", "We will mail you about this agreement again.")
			}
			return refuse("Nothing to resume", fmt.Sprintf("The agreement is %s, not paused.", a.Status))
		}
		// A check-in needs everyone: while another party has asked for no
		// mail, check-ins stay paused, and why is theirs to tell.
		for _, o := range a.Terms.Parties {
			if o.Unsubscribed() {
				return refuse("Check-ins are still paused", "Check-ins cannot start again just now. We will tell you when they do.")
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
		return "resumed", noticeAll(ctx, tx, a, "resumed:"+key, "Check-ins have resumed", []string{who + " has started the check-ins again: they come at the agreed time."})
	case CommandStop:
		if a.Status.Final() {
			return refuse("Already over", fmt.Sprintf("The agreement is already %s.", a.Status))
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
		return "ended", noticeAll(ctx, tx, a, "ended:"+key, "The agreement has ended", []string{who + " has ended the agreement. No more check-ins will come.", `Either of you can reply "resume" within 7 days to take it back.`, "The written copy stays yours; thank you both for trying."})
	case CommandHistory:
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
	case CommandFix:
		var roundID int64
		err := tx.QueryRowContext(ctx, `SELECT rp.round_id FROM round_parties rp JOIN rounds r ON r.id = rp.round_id
			WHERE r.agreement_id = ? AND rp.party_id = ? AND rp.answered_at != '' ORDER BY r.occurrence DESC LIMIT 1`, a.ID, p.ID).Scan(&roundID)
		if errors.Is(err, sql.ErrNoRows) {
			return refuse("Nothing to fix", "You have not answered a check-in yet, so there is nothing to correct.")
		} else if err != nil {
			return "", err
		}
		ans := CheckInAnswer{Text: in.Fix}
		if r.CheckIn != nil {
			ans = *r.CheckIn
		}
		return recordCheckIn(ctx, tx, a, p, roundID, ans, msgID, key)
	}
	return refuse("Not a command", fmt.Sprintf("%q is not something we can do.", in.Command))
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
	return appendEvent(ctx, tx, a.ID, EventResubscribed, ChangeEvent{Version: a.Version, By: p.Address, Message: why})
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
