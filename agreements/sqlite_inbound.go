package agreements

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// FindHandled returns the message that was at uid of mailbox under
// uidValidity, if the store has handled it: the poller then only moves it
// again (after a crash between commit and MOVE) instead of fetching it.
func (db *DB) FindHandled(ctx context.Context, mailbox string, uidValidity, uid uint32) (*HandledMessage, error) {
	var h HandledMessage
	err := db.db.QueryRowContext(ctx, `SELECT message_key, folder FROM inbox WHERE mailbox = ? AND uidvalidity = ? AND uid = ? ORDER BY id DESC LIMIT 1`,
		mailbox, uidValidity, uid).Scan(&h.Key, &h.Folder)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "no message handled at %s %d/%d", mailbox, uidValidity, uid)
	} else if err != nil {
		return nil, fmt.Errorf("find handled: %w", err)
	}
	return &h, nil
}

// RecordInbound handles one incoming message in one transaction: it checks
// that the message was not handled before, works out who is speaking,
// makes the change the reply asks for (a confirmation, a comment, …),
// queues every mail that change causes, and records the message with its
// outcome. Handling the same message again changes nothing and sends
// nothing. A domain error (the move is not allowed) is an outcome, not an
// error; an error means nothing was recorded and the message should be
// handled again later.
func (db *DB) RecordInbound(ctx context.Context, in Inbound) (InboundOutcome, error) {
	if in.Key == "" {
		return InboundOutcome{}, fmt.Errorf("record inbound: no message key")
	}
	if db.Reader == nil {
		return InboundOutcome{}, fmt.Errorf("record inbound: no reader")
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return InboundOutcome{}, err
	}
	defer tx.Rollback()

	var folder Folder
	err = tx.QueryRowContext(ctx, `SELECT folder FROM inbox WHERE message_key = ?`, in.Key).Scan(&folder)
	switch {
	case err == nil:
		// Seen before (a crash before MOVE, a new UIDVALIDITY, a copy in
		// another folder, a reply-all that reached us twice).
		return InboundOutcome{Folder: folder, Outcome: "duplicate", Duplicate: true}, nil
	case !errors.Is(err, sql.ErrNoRows):
		return InboundOutcome{}, fmt.Errorf("find inbox: %w", err)
	}

	var rec inboxRecord
	out, detail, err := db.decide(ctx, tx, &in, &rec)
	if err != nil {
		return InboundOutcome{}, err
	}
	var agreementID, partyID any
	if out.AgreementID != 0 {
		agreementID, partyID = out.AgreementID, out.PartyID
	}
	if in.AuthResult == "" {
		in.AuthResult = "none"
	}
	answered := tx.answers
	if rec.uncount {
		answered = 0
	}
	out.LoopBroken = tx.quiet || out.Outcome == "repeat"
	if _, err := tx.ExecContext(ctx, `INSERT INTO inbox (message_key, mailbox, uidvalidity, uid, from_addr, agreement_id, party_id, outcome, folder, auth_result, detail, received_at, text_hash, answered)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		in.Key, in.Mailbox, in.UIDValidity, in.UID, strings.ToLower(in.From), agreementID, partyID, out.Outcome, out.Folder, in.AuthResult, detail, formatTime(tx.now),
		rec.textHash, answered); err != nil {
		return InboundOutcome{}, fmt.Errorf("record inbound: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return InboundOutcome{}, fmt.Errorf("commit: %w", err)
	}
	db.Logger.Info("inbound mail", "key", in.Key, "from", in.From, "outcome", out.Outcome, "folder", out.Folder, "agreement", out.AgreementID, "detail", detail)
	return out, nil
}

// inboxRecord is what decide leaves for the inbox row besides the outcome.
type inboxRecord struct {
	textHash string // of the reply's text and the mail it answers; "" when not read
	uncount  bool   // its answers do not count towards the party's answers a day
}

// decide works out and makes the change for in, within tx.
func (db *DB) decide(ctx context.Context, tx *Tx, in *Inbound, rec *inboxRecord) (InboundOutcome, string, error) {
	from := strings.ToLower(strings.TrimSpace(in.From))
	if IsServiceAddress(from, db.ServiceAddress) {
		return InboundOutcome{Folder: FolderProcessed, Outcome: "from-self"}, "mail from our own address is ignored", nil
	}
	switch in.Auto {
	case "":
	case "bounce":
		return db.bounce(ctx, tx, in)
	default:
		return InboundOutcome{Folder: FolderProcessed, Outcome: in.Auto}, "automatic mail is never answered: " + in.AutoReason, nil
	}

	tok, sent, err := db.resolveToken(ctx, tx, in)
	if err != nil {
		return InboundOutcome{}, "", err
	}
	if tok == nil {
		if others, ok := db.startRequest(in); ok {
			return db.start(ctx, tx, in, others)
		}
		return db.unmatched(ctx, tx, from)
	}
	a, err := findAgreementByID(ctx, tx, tok.AgreementID)
	if err != nil {
		return InboundOutcome{}, "", err
	}
	p := a.Party(tok.PartyID)
	out := InboundOutcome{AgreementID: a.ID, PartyID: tok.PartyID}
	if p == nil {
		return InboundOutcome{}, "", fmt.Errorf("token's party %d is not on agreement %d", tok.PartyID, a.ID)
	}

	// Only the party confirms for the party: the From address must be
	// theirs (display names mean nothing), and, when required, the
	// receiving server must have authenticated it.
	if from == "" || !strings.EqualFold(from, p.Address) {
		db.Logger.Warn("reply from the wrong sender", "agreement", a.ID, "party", p.Address, "from", from, "key", in.Key)
		if err := spoofNotice(ctx, tx, a, p); err != nil {
			return InboundOutcome{}, "", err
		}
		out.Folder, out.Outcome = FolderRejected, "rejected-sender"
		return out, fmt.Sprintf("from %s, but the token is %s's", from, p.Address), nil
	}
	if db.RequireAuth && !in.AuthPass {
		db.Logger.Warn("reply failed authentication", "agreement", a.ID, "party", p.Address, "auth", in.AuthResult, "key", in.Key)
		if err := spoofNotice(ctx, tx, a, p); err != nil {
			return InboundOutcome{}, "", err
		}
		out.Folder, out.Outcome = FolderRejected, "rejected-auth"
		return out, "authentication did not pass: " + in.AuthResult, nil
	}
	if in.Unreadable != "" {
		key := fmt.Sprintf("%s:%s", MailCouldNotProcess, in.Key)
		if _, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailCouldNotProcess, agreement: a, party: p, answer: true, purpose: tok.Purpose, ref: tok.Ref,
			data: MailData{Reason: in.Unreadable, Limit: int(in.SizeLimit >> 20)}}); err != nil {
			return InboundOutcome{}, "", err
		}
		out.Folder, out.Outcome = FolderRejected, "unreadable"
		return out, in.Unreadable, nil
	}
	out.Folder = FolderProcessed
	msgID := in.MessageID
	if msgID == "" {
		msgID = in.Key
	}

	// Read the reply now that we know which mail it answers.
	rc, roundID, err := db.replyContext(ctx, tx, a, p, tok, sent)
	if err != nil {
		return InboundOutcome{}, "", err
	}
	r := db.Reader.ReadReply(ReplyMessage{Subject: in.Subject, Body: in.Body}, rc)
	rec.textHash, rec.uncount = replyHash(r.Text, tok, r.Intent), !countsAnswers(r.Intent)
	if stop, detail, err := db.breakLoop(ctx, tx, a, p, rec.textHash, r); err != nil || stop != "" {
		out.Outcome = stop
		return out, detail, err
	}

	switch r.Intent.Kind {
	case IntentCommand:
		out.Outcome, err = command(ctx, tx, a, p, r, order{msgID: msgID, key: in.Key})
		return out, "command " + r.Intent.Command, err
	case IntentCheckIn:
		ans := *r.CheckIn
		out.Outcome, err = recordCheckIn(ctx, tx, a, p, roundID, ans, msgID, in.Key)
		var de *Error
		if errors.As(err, &de) {
			out.Outcome = "refused"
			return out, de.Message, nil
		}
		return out, "", err
	}
	if strings.TrimSpace(r.Text) == "" {
		out.Outcome = "empty"
		return out, "an empty reply", nil
	}
	if r.Intent.Kind == IntentAck {
		out.Outcome = "kept"
		return out, "a thank-you or an acknowledgement; kept for the record", nil
	}
	if r.Intent.Kind == IntentUnclear || tok.Purpose != PurposeConfirm {
		// Agreeing, declining and comments answer a "please confirm"
		// alone; the reader reads nothing else there.
		out.Outcome, err = "not-understood", notUnderstood(ctx, tx, a, p, rc, r, in.Key)
		return out, "answered to its writer alone", err
	}
	version := int(tok.Ref)
	if latest := max(a.Version, a.Proposed); version < latest {
		w, err := versionView(ctx, tx, a, latest)
		if err != nil {
			return InboundOutcome{}, "", err
		}
		key := fmt.Sprintf("%s:%d:%d:%d:%s", MailSuperseded, a.ID, version, p.ID, in.Key)
		if _, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailSuperseded, agreement: w, party: p, answer: true, purpose: PurposeConfirm, ref: int64(latest),
			data: MailData{RepliedTo: version}}); err != nil {
			return InboundOutcome{}, "", err
		}
		out.Outcome = "superseded"
		return out, fmt.Sprintf("a reply to version %d; version %d is current", version, latest), nil
	}
	switch {
	case r.Intent.Kind == IntentAgree:
		// Confirming is asking for the copy: it undoes an unsubscribe.
		if err := resubscribe(ctx, tx, a, p, msgID); err != nil {
			return InboundOutcome{}, "", err
		}
		var done bool
		done, err = confirmTx(ctx, tx, a, Confirmation{AgreementID: a.ID, Version: version, PartyID: p.ID, MessageID: msgID, AuthResult: in.AuthResult})
		if err == nil && !done {
			// The last confirmation's answer is the confirmed copy itself.
			var w *Agreement
			if w, err = versionView(ctx, tx, a, version); err == nil {
				key := fmt.Sprintf("%s:confirm:%d:%d:%d", MailReceipt, a.ID, version, p.ID)
				_, err = queueMail(ctx, tx, mailRequest{key: key, kind: MailReceipt, agreement: w, party: w.Party(p.ID), answer: true, purpose: PurposeCommands,
					data: MailData{Confirmed: version}})
			}
		}
		out.Outcome = "confirmed"
	case r.Intent.Kind == IntentDecline:
		err = declineTx(ctx, tx, a, version, p.ID, msgID)
		out.Outcome = "declined"
	case r.Intent.Unsure:
		// Close to agreement: ask. When it says more than a word or three
		// ("I agree except point 2"), it is also a comment, shared.
		key := fmt.Sprintf("%s:%s", MailUnsure, in.Key)
		var w *Agreement // the version asked about, which the mail shows
		if w, err = versionView(ctx, tx, a, version); err == nil {
			_, err = queueMail(ctx, tx, mailRequest{key: key, kind: MailUnsure, agreement: w, party: w.Party(p.ID), answer: true, purpose: PurposeConfirm, ref: int64(version),
				data: MailData{Quote: clip(cleanText(r.Text))}})
		}
		out.Outcome = "unsure"
		if err == nil && len(strings.Fields(r.Text)) > 3 {
			err = commentTx(ctx, tx, a, version, p.ID, r.Text, msgID)
			out.Outcome = "comment"
		}
	default:
		// Words about an agreement that waits for confirmation are meant
		// for the other party (design F2).
		err = commentTx(ctx, tx, a, version, p.ID, r.Text, msgID)
		out.Outcome = "comment"
	}
	var de *Error
	if errors.As(err, &de) {
		// Not allowed now (confirmed twice, the agreement ended): nothing
		// changes, and the message is kept as handled.
		out.Outcome = "refused"
		return out, de.Message, nil
	}
	if err != nil {
		return InboundOutcome{}, "", err
	}
	return out, "", nil
}

// sentMail is one of our mails, as the outbox keeps it.
type sentMail struct {
	messageID string
	raw       []byte
}

// unmatched answers a message that carries no token and answers none of
// our mails: when its sender is a party of exactly one agreement that is
// not over, they are asked, at most once a day, to reply to one of our
// mails itself. Anyone else gets nothing.
func (db *DB) unmatched(ctx context.Context, tx *Tx, from string) (InboundOutcome, string, error) {
	out := InboundOutcome{Folder: FolderUnmatched, Outcome: "unmatched"}
	rows, err := tx.QueryContext(ctx, `SELECT p.agreement_id, p.id FROM parties p JOIN agreements a ON a.id = p.agreement_id
		WHERE p.address_key = ? AND a.status IN (?, ?, ?) LIMIT 2`, from, StatusPending, StatusActive, StatusPaused)
	if err != nil {
		return out, "", fmt.Errorf("find the sender's agreements: %w", err)
	}
	var ids [][2]int64
	for rows.Next() {
		var id [2]int64
		if err := rows.Scan(&id[0], &id[1]); err != nil {
			rows.Close()
			return out, "", err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, "", err
	}
	if len(ids) != 1 {
		return out, "no reply token", nil
	}
	a, err := findAgreementByID(ctx, tx, ids[0][0])
	if err != nil {
		return out, "", err
	}
	p := a.Party(ids[0][1])
	key := fmt.Sprintf("%s:no-thread:%d:%s", MailNotice, p.ID, tx.now.Format(time.DateOnly))
	queued, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailNotice, agreement: a, party: p, purpose: PurposeCommands, answer: true,
		data: MailData{Notice: NoticeNoThread}})
	if err != nil {
		return out, "", err
	}
	out.AgreementID, out.PartyID = a.ID, p.ID
	if !queued {
		return out, "no reply token; the sender was asked today already", nil
	}
	out.Outcome = "unmatched-asked"
	return out, "no reply token; the sender, a party, was asked to reply to one of our mails", nil
}

// resolveToken finds the reply token of in: the first candidate that is a
// token, else the party of the mail it replies to. It also returns the
// mail of that party that in answers (In-Reply-To first, then the
// References), when it is ours.
func (db *DB) resolveToken(ctx context.Context, tx *Tx, in *Inbound) (*Token, *sentMail, error) {
	var tok *Token
	for _, c := range in.Tokens {
		v, ok := NormalizeToken(c)
		if !ok {
			continue
		}
		t, err := findToken(ctx, tx, `WHERE token = ?`, v)
		if err == nil {
			tok = t
			break
		} else if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
	}
	for _, ref := range in.References {
		var reply string
		var party sql.NullInt64
		m := sentMail{messageID: strings.Trim(ref, "<>")}
		err := tx.QueryRowContext(ctx, `SELECT reply_token, party_id, raw FROM outbox WHERE message_id = ?`, strings.Trim(ref, "<>")).Scan(&reply, &party, &m.raw)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return nil, nil, fmt.Errorf("find outbox: %w", err)
		}
		if tok == nil {
			if reply == "" {
				continue
			}
			if tok, err = findToken(ctx, tx, `WHERE token = ?`, reply); err != nil {
				return nil, nil, err
			}
		}
		if party.Int64 == tok.PartyID {
			return tok, &m, nil
		}
	}
	return tok, nil, nil
}

// spoofNotice tells party p, at most once a day, that someone else tried
// to reply for them.
func spoofNotice(ctx context.Context, tx *Tx, a *Agreement, p *Party) error {
	var last string
	if err := tx.QueryRowContext(ctx, `SELECT spoof_notice_at FROM parties WHERE id = ?`, p.ID).Scan(&last); err != nil {
		return fmt.Errorf("find party: %w", err)
	}
	if last != "" {
		if t, err := parseTime(last); err == nil && tx.now.Sub(t) < 24*time.Hour {
			return nil
		}
	}
	key := fmt.Sprintf("%s:%d:%d:%s", MailSpoofNotice, a.ID, p.ID, tx.now.Format("2006-01-02T15"))
	if _, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailSpoofNotice, agreement: a, party: p, purpose: PurposeCommands}); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE parties SET spoof_notice_at = ? WHERE id = ?`, formatTime(tx.now), p.ID)
	return err
}

// bounce marks the bounced party's address and tells the other parties,
// once.
func (db *DB) bounce(ctx context.Context, tx *Tx, in *Inbound) (InboundOutcome, string, error) {
	out := InboundOutcome{Folder: FolderProcessed, Outcome: "bounce"}
	if in.Bounce == nil {
		return out, "a bounce without a report", nil
	}
	var agreementID, partyID int64
	if id := in.Bounce.OriginalMessageID; id != "" {
		var a, p sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT agreement_id, party_id FROM outbox WHERE message_id = ?`, strings.Trim(id, "<>")).Scan(&a, &p)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return out, "", fmt.Errorf("find outbox: %w", err)
		}
		agreementID, partyID = a.Int64, p.Int64
	}
	if partyID == 0 || !in.Bounce.Permanent {
		return out, fmt.Sprintf("bounce for %s, permanent %v, not matched to a party", strings.Join(in.Bounce.Recipients, ", "), in.Bounce.Permanent), nil
	}
	out.AgreementID, out.PartyID = agreementID, partyID
	detail, err := markBouncing(ctx, tx, agreementID, partyID)
	return out, detail, err
}

// markBouncing marks party partyID's address as bouncing and tells the
// other parties, once.
func markBouncing(ctx context.Context, tx *Tx, agreementID, partyID int64) (string, error) {
	a, err := findAgreementByID(ctx, tx, agreementID)
	if err != nil {
		return "", err
	}
	p := a.Party(partyID)
	if p == nil {
		return "", fmt.Errorf("party %d is not on agreement %d", partyID, agreementID)
	}
	res, err := tx.ExecContext(ctx, `UPDATE parties SET bouncing_since = ? WHERE id = ? AND bouncing_since = ''`, formatTime(tx.now), partyID)
	if err != nil {
		return "", fmt.Errorf("mark bouncing: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return p.Address + " was already marked as bouncing", nil
	}
	author := mailParty(*p)
	for i := range a.Terms.Parties {
		o := &a.Terms.Parties[i]
		if o.ID == p.ID {
			continue
		}
		key := fmt.Sprintf("%s:%d:%d:%d", MailBounceNotice, a.ID, p.ID, o.ID)
		if _, err := queueMail(ctx, tx, mailRequest{key: key, kind: MailBounceNotice, agreement: a, party: o, purpose: PurposeCommands,
			data: MailData{Author: &author}}); err != nil {
			return "", err
		}
	}
	return p.Address + " bounces; the other party was told", nil
}
