package agreements

import (
	"context"
	"fmt"
	"time"
)

// Store methods for tests alone: the service reaches the same rules by
// its own paths (a reply's confirmation, decline or comment through
// RecordInbound; mail through the changes that cause it and the sender's
// RecordOutcomes), so these are not part of the API.

// MailRequest asks QueueMail for one mail.
type MailRequest struct {
	Key         string // the dedupe key: the same key never queues a second mail
	Kind        MailKind
	AgreementID int64 // 0 only for could-not-process about no agreement
	PartyID     int64 // the recipient; 0 with AgreementID 0
	Data        MailData
}

// CreateDraft stores terms as version 1 of a new draft agreement, which
// ProposeAgreement later sends for confirmation.
func (db *DB) CreateDraft(ctx context.Context, t Terms) (*Agreement, error) {
	return db.createAgreement(ctx, t, StatusDraft)
}

// ProposeAgreement sends a draft for confirmation: its status becomes
// pending.
func (db *DB) ProposeAgreement(ctx context.Context, id int64) (*Agreement, error) {
	return db.transition(ctx, id, StatusPending, EventProposed, func(tx *Tx, a *Agreement) error {
		return queueConfirmRequests(ctx, tx, a.ID)
	}, StatusDraft)
}

// ConfirmVersion records c: party c.PartyID confirms version c.Version.
// When every party has confirmed the current version, the agreement becomes
// active. Confirming a replaced version, an agreement that does not wait for
// confirmation, or twice, is an ECONFLICT error; a party not on the
// agreement is EINVALID. ConfirmedAt is set from the store's clock.
func (db *DB) ConfirmVersion(ctx context.Context, c Confirmation) (*Agreement, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := findAgreementByID(ctx, tx, c.AgreementID)
	if err != nil {
		return nil, err
	}
	if _, err := confirmTx(ctx, tx, a, c); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return db.FindAgreementByID(ctx, c.AgreementID)
}

// DeclineVersion records that party partyID declines the current version:
// the agreement is declined for everyone. The errors are ConfirmVersion's.
func (db *DB) DeclineVersion(ctx context.Context, agreementID int64, version int, partyID int64, messageID string) (*Agreement, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	a, err := findAgreementByID(ctx, tx, agreementID)
	if err != nil {
		return nil, err
	}
	if err := declineTx(ctx, tx, a, version, partyID, messageID); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return db.FindAgreementByID(ctx, agreementID)
}

// RecordComment logs what party partyID wrote about version that was not a
// confirmation. It is allowed in any status but a final one.
func (db *DB) RecordComment(ctx context.Context, agreementID int64, version int, partyID int64, text, messageID string) error {
	tx, err := db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	a, err := findAgreementByID(ctx, tx, agreementID)
	if err != nil {
		return err
	}
	if err := commentTx(ctx, tx, a, version, partyID, text, messageID); err != nil {
		return err
	}
	return tx.Commit()
}

// VerifyEvents checks agreement id's stored log: a *ChainError when an
// event was edited or removed.
func (db *DB) VerifyEvents(ctx context.Context, id int64) error {
	count, head, err := db.EventHead(ctx, id)
	if err != nil {
		return err
	}
	es, err := db.FindEvents(ctx, id)
	if err != nil {
		return err
	}
	return VerifyChain(es, head, count)
}

// QueueMail queues one mail in a transaction of its own and reports whether
// it was queued (false: a mail with that key exists). Mail that a change in
// the store causes is queued by that change's own method, in its
// transaction; QueueMail is for mail that answers a message and changes
// nothing else. Data's agreement and parties are filled in from the store.
func (db *DB) QueueMail(ctx context.Context, r MailRequest) (bool, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var a *Agreement
	var p *Party
	if r.AgreementID != 0 {
		if a, err = findAgreementByID(ctx, tx, r.AgreementID); err != nil {
			return false, err
		}
		if p, err = requireParty(a, r.PartyID); err != nil {
			return false, err
		}
	}
	purpose, ref := PurposeCommands, int64(0)
	if r.Kind == MailConfirmReminder && a != nil {
		purpose, ref = PurposeConfirm, int64(a.Version)
	}
	queued, err := queueMail(ctx, tx, mailRequest{key: r.Key, kind: r.Kind, agreement: a, party: p, purpose: purpose, ref: ref, data: r.Data})
	if err != nil {
		return false, err
	}
	return queued, tx.Commit()
}

// MarkSent records that the server accepted claimed mail id.
func (db *DB) MarkSent(ctx context.Context, id int64, owner string, raw []byte) error {
	return db.RecordOutcomes(ctx, owner, []MailOutcome{{ID: id, Status: MailSent, Raw: raw}})
}

// RetryMailAt records a temporary failure of claimed mail id and releases
// it until next.
func (db *DB) RetryMailAt(ctx context.Context, id int64, owner string, next time.Time, reason string, raw []byte) error {
	return db.RecordOutcomes(ctx, owner, []MailOutcome{{ID: id, Status: MailPending, Next: next, Reason: reason, Raw: raw}})
}

// FailMail records that claimed mail id failed for good, with the reason
// (the server's reply); the operator can retry it.
func (db *DB) FailMail(ctx context.Context, id int64, owner string, reason string, raw []byte) error {
	return db.RecordOutcomes(ctx, owner, []MailOutcome{{ID: id, Status: MailFailed, Reason: reason, Raw: raw}})
}
