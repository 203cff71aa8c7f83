package agreements

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// replyContext gathers what the reader needs to read party p's reply to
// the mail tok was issued for: the purpose, whether a version waits for
// p's confirmation, p's open check-in round (its ID is returned too), the
// commitments, the names and the mail sent.
func (db *DB) replyContext(ctx context.Context, tx *Tx, a *Agreement, p *Party, tok *Token, sent *sentMail) (ReplyContext, int64, error) {
	rc := ReplyContext{
		Purpose:     tok.Purpose,
		Pending:     a.Status == StatusPending || a.Proposed != 0 && !a.Status.Final(),
		Writer:      p.FirstName(),
		Commitments: p.Commitments,
		Now:         tx.now,
		Location:    time.UTC,
	}
	if loc, err := LoadLocation(p.TimeZone); err == nil {
		rc.Location = loc
	}
	for _, o := range a.Terms.Parties {
		if o.ID != p.ID {
			rc.Others = append(rc.Others, o.FirstName())
		}
	}
	if sent != nil {
		rc.Sent, rc.SentID = sent.raw, sent.messageID
	}
	switch {
	case tok.Purpose == PurposeCheckIn:
		// The reply answers its round (tok.Ref), open or not.
		rc.RoundOpen = true
		return rc, tok.Ref, nil
	case tok.Purpose == PurposeConfirm && rc.Pending:
		// Read as a confirmation or a comment; a round does not matter.
		return rc, 0, nil
	}
	roundID, err := openRound(ctx, tx, a.ID, p.ID)
	if err != nil {
		return rc, 0, err
	}
	rc.RoundOpen = roundID != 0
	return rc, roundID, nil
}

// openRound returns the round of agreement agreementID whose check-in was
// mailed to party partyID and whose digest has not gone out, or 0.
func openRound(ctx context.Context, tx *Tx, agreementID, partyID int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT r.id FROM rounds r JOIN round_parties rp ON rp.round_id = r.id AND rp.party_id = ?
		WHERE r.agreement_id = ? AND r.digest_sent_at = '' AND rp.mailed = 1 ORDER BY r.occurrence DESC LIMIT 1`, partyID, agreementID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("find open round: %w", err)
	}
	return id, nil
}

// replyHash identifies a reply's text as an answer to one mail, for the
// replies breakLoop checks for repeats ("" for the others): the text
// lowercased, without digits, punctuation or spacing (an auto-reply that
// quotes a date or a counter is the same text), with the token's purpose
// and ref. "" for an empty text.
func replyHash(text string, tok *Token, in Intent) string {
	switch in.Kind {
	case IntentCommand, IntentAgree, IntentDecline:
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToLower(text) {
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return ""
	}
	fmt.Fprintf(&b, "\x00%s\x00%d\x00%d", tok.Purpose, tok.AgreementID, tok.Ref)
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

// breakLoop decides, before a reply from party p acts, whether it is part
// of a mail loop that no detector caught: the same text from p in answer
// to the same mail within a day is handled once ("repeat"); commands,
// confirmations and refusals carry no hash and are never repeats. Past
// db.AnswersPerDay answered replies in a day, a command or a check-in is
// recorded without an answer (tx turns quiet), and a reply that would only
// be answered is dropped ("over-limit"). It returns the outcome of a
// dropped reply, or "".
func (db *DB) breakLoop(ctx context.Context, tx *Tx, a *Agreement, p *Party, hash string, r Reading) (string, string, error) {
	limit := db.AnswersPerDay
	if !countsAnswers(r.Intent) {
		limit = 0
	}
	if hash == "" && limit <= 0 {
		return "", "", nil
	}
	// Two index seeks, each stopping at what it needs to know (a
	// statement that does both in subqueries costs three times as much).
	since := formatTime(tx.now.Add(-24 * time.Hour))
	if hash != "" {
		var repeat bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM inbox WHERE party_id = ? AND text_hash = ? AND received_at > ? AND text_hash != '')`,
			p.ID, hash, since).Scan(&repeat); err != nil {
			return "", "", fmt.Errorf("find repeats: %w", err)
		}
		if repeat {
			db.Logger.Warn("mail loop broken: the same reply again", "party", p.Address, "agreement", a.ID)
			return "repeat", "the same text as an earlier reply today; recorded and answered once", nil
		}
	}
	if limit <= 0 {
		return "", "", nil
	}
	// The limit-th newest answered reply: within the day, the limit is
	// reached.
	var at string
	err := tx.QueryRowContext(ctx, `SELECT received_at FROM inbox WHERE party_id = ? AND answered > 0 ORDER BY received_at DESC LIMIT 1 OFFSET ?`,
		p.ID, limit-1).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) || err == nil && at <= since {
		return "", "", nil
	} else if err != nil {
		return "", "", fmt.Errorf("count answers: %w", err)
	}
	// A command acts on the state as it is now, and a check-in answer is
	// the party's own record: both still count; only the answer is held back.
	switch r.Intent.Kind {
	case IntentCommand, IntentCheckIn:
		tx.quiet = true
		db.Logger.Warn("mail loop broken: reply recorded without an answer", "party", p.Address, "agreement", a.ID, "answered today", limit)
		return "", "", nil
	}
	db.Logger.Warn("mail loop broken: reply not answered", "party", p.Address, "agreement", a.ID, "answered today", limit)
	return "over-limit", fmt.Sprintf("%d replies answered in a day already; not answered or passed on", limit), nil
}

// countsAnswers reports whether replies of intent count towards (and are
// held to) a party's answers a day: no loop confirms or declines, so
// their receipts always go, and a thank-you gets no answer at all.
func countsAnswers(in Intent) bool {
	switch in.Kind {
	case IntentAgree, IntentDecline, IntentAck:
		return false
	}
	return true
}

// notUnderstood answers party p alone, once, that we could not tell what
// their reply meant, with what they can reply in its context.
func notUnderstood(ctx context.Context, tx *Tx, a *Agreement, p *Party, rc ReplyContext, r Reading, key string) error {
	awaits := ""
	switch {
	case rc.RoundOpen:
		awaits = "check-in"
	case a.Status == StatusPending:
		awaits = "confirmation"
	}
	_, err := queueMail(ctx, tx, mailRequest{key: fmt.Sprintf("%s:%s", MailNotUnderstood, key), kind: MailNotUnderstood, agreement: a, party: p, answer: true,
		purpose: PurposeCommands, data: MailData{Quote: clip(cleanText(r.Text)), Awaits: awaits}})
	return err
}
