package agreements

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// IssueToken returns party partyID's token for purpose and ref, creating it
// the first time: one token per party, purpose and ref, and a token value is
// never given to anything else.
func (db *DB) IssueToken(ctx context.Context, partyID int64, purpose Purpose, ref int64) (*Token, error) {
	switch purpose {
	case PurposeConfirm, PurposeCheckIn, PurposeCommands:
	default:
		return nil, Errorf(EINVALID, "unknown token purpose %q", purpose)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t, err := issueToken(ctx, tx, 0, partyID, purpose, ref)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	return t, nil
}

// issueToken is IssueToken in tx; agreementID, when the caller knows it
// (0 otherwise), saves looking it up.
func issueToken(ctx context.Context, tx *Tx, agreementID, partyID int64, purpose Purpose, ref int64) (*Token, error) {
	t, err := findToken(ctx, tx, `WHERE party_id = ? AND purpose = ? AND ref = ?`, partyID, purpose, ref)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return t, err
	}
	if agreementID == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT agreement_id FROM parties WHERE id = ?`, partyID).Scan(&agreementID); err != nil {
			return nil, errNoRows(err, fmt.Sprintf("there is no party %d", partyID))
		}
	}
	for range 5 { // a collision of 100 random bits in one hour means a broken random source
		v := newTokenValue(tx.now)
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (token, agreement_id, party_id, purpose, ref, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			v, agreementID, partyID, purpose, ref, formatTime(tx.now))
		if isUniqueViolation(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("insert token: %w", err)
		}
		if purpose == PurposeCommands {
			if _, err := tx.ExecContext(ctx, `UPDATE parties SET commands_token = ? WHERE id = ?`, v, partyID); err != nil {
				return nil, fmt.Errorf("insert token: %w", err)
			}
		}
		return &Token{Value: v, AgreementID: agreementID, PartyID: partyID, Purpose: purpose, Ref: ref, CreatedAt: tx.now}, nil
	}
	return nil, fmt.Errorf("insert token: five collisions in a row")
}

// FindToken returns the token with value s, compared without regard to
// case, or ErrNotFound.
func (db *DB) FindToken(ctx context.Context, s string) (*Token, error) {
	v, ok := NormalizeToken(s)
	if !ok {
		return nil, Errorf(ENOTFOUND, "%q is not a reply token", s)
	}
	return findToken(ctx, db.db, `WHERE token = ?`, v)
}

func findToken(ctx context.Context, q querier, clause string, args ...any) (*Token, error) {
	var t Token
	var created string
	err := q.QueryRowContext(ctx, `SELECT token, agreement_id, party_id, purpose, ref, created_at FROM tokens `+clause, args...).
		Scan(&t.Value, &t.AgreementID, &t.PartyID, &t.Purpose, &t.Ref, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "unknown reply token")
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	if t.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &t, nil
}
