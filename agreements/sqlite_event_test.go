package agreements_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

// logged returns an agreement with several events: created, version added,
// two confirmations, activated, paused.
func logged(t *testing.T, db *agreements.DB) *agreements.Agreement {
	t.Helper()
	a := mustCreate(t, db)
	for _, p := range a.Terms.Parties {
		if _, err := confirm(db, a, 1, p.ID, "<m@x>"); err != nil {
			t.Fatal(err)
		}
	}
	return mustCommand(t, db, a, "alice@example.test", agreements.CommandPause)
}

// tamper runs a statement with the log's append-only triggers removed, as
// someone with the sqlite3 shell could.
func tamper(t *testing.T, db *agreements.DB, stmt string, args ...any) {
	t.Helper()
	for _, s := range []string{`DROP TRIGGER events_no_update`, `DROP TRIGGER events_no_delete`, stmt} {
		var a []any
		if s == stmt {
			a = args
		}
		if _, err := db.SQL().Exec(s, a...); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDB_VerifyEvents(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		a := logged(t, db)
		if err := db.VerifyEvents(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
		es, err := db.FindEvents(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []agreements.EventType{agreements.EventCreated, agreements.EventVersionAdded, agreements.EventConfirmed, agreements.EventConfirmed, agreements.EventActivated, agreements.EventPaused}
		if len(es) != len(want) {
			t.Fatalf("events = %d, want %d", len(es), len(want))
		}
		for i, e := range es {
			if e.Type != want[i] {
				t.Fatalf("event %d = %v, want %v", i+1, e.Type, want[i])
			}
		}
		// An export indents the data; the chain still verifies.
		for i := range es {
			ind, _ := json.MarshalIndent(es[i].Data, "", "  ")
			es[i].Data = ind
		}
		if err := agreements.VerifyChain(es, es[len(es)-1].Hash, int64(len(es))); err != nil {
			t.Fatalf("indented: %v", err)
		}
	})

	t.Run("AppendOnly", func(t *testing.T) {
		db := MustOpenDB(t)
		a := logged(t, db)
		if _, err := db.SQL().Exec(`UPDATE events SET type = 'x' WHERE agreement_id = ?`, a.ID); err == nil {
			t.Fatal("UPDATE of an event succeeded")
		}
		if _, err := db.SQL().Exec(`DELETE FROM events WHERE agreement_id = ?`, a.ID); err == nil {
			t.Fatal("DELETE of an event succeeded")
		}
	})

	for _, tt := range []struct {
		name string
		stmt string
		seq  int64 // the event the error must name; 0 for the log as a whole
	}{
		{"Edited", `UPDATE events SET data = replace(data, 'm@x', 'forged@x') WHERE seq = 3`, 3},
		{"EditedTime", `UPDATE events SET at = '2020-01-01T00:00:00Z' WHERE seq = 4`, 4},
		{"DeletedMiddle", `DELETE FROM events WHERE seq = 2`, 2},
		{"DeletedLast", `DELETE FROM events WHERE seq = 6`, 0},
		{"DeletedFirst", `DELETE FROM events WHERE seq = 1`, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db := MustOpenDB(t)
			a := logged(t, db)
			tamper(t, db, tt.stmt)
			err := db.VerifyEvents(ctx, a.ID)
			var ce *agreements.ChainError
			if !errors.As(err, &ce) {
				t.Fatalf("VerifyEvents = %v, want *ChainError", err)
			}
			if ce.Seq != tt.seq {
				t.Fatalf("ChainError.Seq = %v, want %v (%v)", ce.Seq, tt.seq, err)
			}
		})
	}
}
