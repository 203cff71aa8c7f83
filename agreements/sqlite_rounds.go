package agreements

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

type roundInfo struct {
	id, agreementID int64
	occurrence      string
	deadline        time.Time
	digestSent      bool
}

func findRound(ctx context.Context, q querier, id int64) (*roundInfo, error) {
	var r roundInfo
	var deadline string
	err := q.QueryRowContext(ctx, `SELECT id, agreement_id, occurrence, deadline, digest_sent_at != '' FROM rounds WHERE id = ?`, id).Scan(&r.id, &r.agreementID, &r.occurrence, &deadline, &r.digestSent)
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
	if err := appendEvent(ctx, tx, a.ID, EventCheckIn, CheckInEvent{Round: r.occurrence, Party: p.Address, MessageID: msgID, Statuses: ans.Statuses}); err != nil {
		return "", err
	}
	// A nudge waiting for the end of p's night is not sent once they
	// have answered.
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = ?, last_error = 'answered before it went'
		WHERE dedupe_key = ? AND status = ? AND (claimed_by = '' OR claimed_until < ?)`,
		MailCancelled, fmt.Sprintf("%s:%d:%d", MailNudge, roundID, p.ID), MailPending, formatTime(tx.now)); err != nil {
		return "", fmt.Errorf("cancel nudge: %w", err)
	}
	// A fix after the digest went out reaches the others as a short
	// correction, and the receipt says so.
	if r.digestSent {
		author := mailParty(*p)
		if err := noticeOthers(ctx, tx, a, p, "corrected:"+key, MailData{Notice: NoticeCorrected, Author: &author, Round: r.occurrence, Answer: &ans}); err != nil {
			return "", err
		}
	}
	if _, err := queueMail(ctx, tx, mailRequest{key: fmt.Sprintf("%s:checkin:%s", MailReceipt, key), kind: MailReceipt, agreement: a, party: p,
		answer: true, purpose: PurposeCheckIn, ref: roundID, data: MailData{Answer: &ans, Quote: clipQuote(ans.Text), Round: r.occurrence, Corrected: r.digestSent}}); err != nil {
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
		h := MailHistory{Round: occ, Party: p.FirstName(), Marks: strings.Join(marks, " ")}
		switch {
		case ans.PositiveOther != "":
			h.Words = clip(oneLine(ans.PositiveOther))
		case ans.WentWrong != "":
			h.Words = clip(oneLine(ans.WentWrong))
		case len(ans.Statuses) == 0 && ans.Text != "":
			h.Words = clip(oneLine(ans.Text))
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// noticeAll tells every party of a something, once per key.
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
		author := mailParty(*p)
		if err := noticeAll(ctx, tx, a, fmt.Sprintf("missed:%d:%d", p.ID, roundID), MailData{Notice: NoticeMissed, Author: &author, Count: n}); err != nil {
			return err
		}
	}
	return nil
}
