package agreements

import (
	"context"
	"encoding/json"
	"fmt"
)

// appendEvent adds an event to agreement id's log, chained to the one
// before it, and moves the agreement's recorded head.
func appendEvent(ctx context.Context, tx *Tx, id int64, typ EventType, data Payload) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("event data: %w", err)
	}
	var count int64
	var head string
	if err := tx.QueryRowContext(ctx, `SELECT event_count, event_head FROM agreements WHERE id = ?`, id).Scan(&count, &head); err != nil {
		return errNoRows(err, fmt.Sprintf("there is no agreement %d", id))
	}
	e := Event{AgreementID: id, Seq: count + 1, Type: typ, At: tx.now, Data: raw, PrevHash: head}
	e.Hash = EventHash(e)
	if _, err := tx.ExecContext(ctx, `INSERT INTO events (agreement_id, seq, type, at, data, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.AgreementID, e.Seq, e.Type, formatTime(e.At), string(e.Data), e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("insert event: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET event_count = ?, event_head = ? WHERE id = ?`, e.Seq, e.Hash, id); err != nil {
		return fmt.Errorf("update event head: %w", err)
	}
	return nil
}

// FindEvents returns agreement id's event log, oldest first.
func (db *DB) FindEvents(ctx context.Context, id int64) ([]Event, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT agreement_id, seq, type, at, data, prev_hash, hash FROM events WHERE agreement_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("find events: %w", err)
	}
	defer rows.Close()
	var es []Event
	for rows.Next() {
		var e Event
		var at, data string
		if err := rows.Scan(&e.AgreementID, &e.Seq, &e.Type, &at, &data, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("find events: %w", err)
		}
		if e.At, err = parseTime(at); err != nil {
			return nil, err
		}
		e.Data = json.RawMessage(data)
		es = append(es, e)
	}
	return es, rows.Err()
}

// EventHead returns the number of events recorded for agreement id and the
// hash of the last one.
func (db *DB) EventHead(ctx context.Context, id int64) (count int64, head string, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT event_count, event_head FROM agreements WHERE id = ?`, id).Scan(&count, &head)
	return count, head, errNoRows(err, fmt.Sprintf("there is no agreement %d", id))
}
