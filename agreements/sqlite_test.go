package agreements_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

// Now is the fixed time of the test clock.
var Now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// MustOpenDB returns an open store on a new file in a temporary folder, with
// the test clock, closed when the test ends.
func MustOpenDB(tb testing.TB) *agreements.DB {
	tb.Helper()
	db := agreements.NewDB(filepath.Join(tb.TempDir(), "inwriting.db"))
	db.Now = func() time.Time { return Now }
	db.Reader = mailin.Reader{}
	if !testing.Verbose() {
		db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// mustCommand carries out command c for the party with address by, as
// the operator would.
func mustCommand(tb testing.TB, db *agreements.DB, a *agreements.Agreement, by, c string) *agreements.Agreement {
	tb.Helper()
	if _, err := db.Command(context.Background(), a.ID, by, agreements.Intent{Command: c}); err != nil {
		tb.Fatalf("%s by %s: %v", c, by, err)
	}
	got, err := db.FindAgreementByID(context.Background(), a.ID)
	if err != nil {
		tb.Fatal(err)
	}
	return got
}

// testTerms returns valid terms between Alice (Lisbon) and Bob (Chicago).
func testTerms() agreements.Terms {
	return agreements.Terms{
		Title:         "Evenings and phone calls",
		WhatWentWrong: "I said I would call when late, and twice I did not.",
		Parties: []agreements.Party{
			{Name: "Alice Example", Address: "alice@example.test", TimeZone: "Europe/Lisbon", Commitments: []string{"Call before 18:00 when late.", "Tell Bob when plans change."}},
			{Name: "Bob Example", Address: "bob@example.test", TimeZone: "America/Chicago", Commitments: []string{"Ask directly when worried."}},
		},
		CheckIn: agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Sunday}, Hour: 19},
	}
}

// TestDB_Checkpoints: what a transaction commits reaches the database file
// itself soon after, copied from the log by the checkpointer, not by the
// connection that committed (which leaves it to the checkpointer until the
// log passes 10,000 pages).
func TestDB_Checkpoints(t *testing.T) {
	// In a bubble, Wait returns once the checkpointer has done what the
	// commit woke it for and waits again: no clock, no polling.
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ckpt.db")
		db := agreements.NewDB(path)
		db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var pages int
		if err := db.SQL().QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&pages); err != nil || pages != 10000 {
			t.Fatalf("wal_autocheckpoint = %d (%v), want 10000", pages, err)
		}
		a, err := db.CreateAgreement(context.Background(), testTerms())
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		// immutable=1 reads the database file alone, without the log.
		file, err := sql.Open("sqlite3", "file:"+path+"?immutable=1")
		if err != nil {
			t.Fatal(err)
		}
		defer file.Close()
		var n int
		if err := file.QueryRow(`SELECT COUNT(*) FROM agreements WHERE id = ?`, a.ID).Scan(&n); err != nil || n != 1 {
			t.Fatalf("agreement %d is not in the database file once the checkpointer is done (%d rows, %v)", a.ID, n, err)
		}
	})
}

func TestDB_Open(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "sub.db")
		db := agreements.NewDB(path)
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		var mode string
		if err := db.SQL().QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		} else if mode != "wal" {
			t.Fatalf("journal_mode = %v, want wal", mode)
		}
		var fk int
		if err := db.SQL().QueryRow(`PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		} else if fk != 1 {
			t.Fatalf("foreign_keys = %v, want 1", fk)
		}
		var n int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&n); err != nil {
			t.Fatal(err)
		} else if n < 1 {
			t.Fatalf("migrations = %v, want at least 1", n)
		}
		db.Close()

		// Opening again applies nothing and keeps the data.
		db = agreements.NewDB(path)
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n2 int
		if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM migrations`).Scan(&n2); err != nil {
			t.Fatal(err)
		} else if n2 != n {
			t.Fatalf("migrations after reopen = %v, want %v", n2, n)
		}
	})

	t.Run("ErrNewerDatabase", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "newer.db")
		db := agreements.NewDB(path)
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(`INSERT INTO migrations (number, name, applied_at) VALUES (9999, '9999_future.sql', '2030-01-01T00:00:00Z')`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db = agreements.NewDB(path)
		defer db.Close()
		if err := db.Open(context.Background()); !errors.Is(err, agreements.ErrNewerDatabase) {
			t.Fatalf("Open = %v, want ErrNewerDatabase", err)
		}
	})

	t.Run("Memory", func(t *testing.T) {
		db := agreements.NewDB(":memory:")
		if err := db.Open(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.CreateAgreement(context.Background(), testTerms()); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("ErrNoPath", func(t *testing.T) {
		if err := agreements.NewDB("").Open(context.Background()); err == nil {
			t.Fatal("Open with no path succeeded")
		}
	})
}

// TestDB_Open_Upgrade opens a database written before migration 5: each
// party's commands token is copied onto its row, the token table is
// rebuilt with its tokens and its constraint, and the times of the next
// round and reminder move to the schedules table (migration 6), and from
// there become timers (migration 7); each agreement's row gets its current
// version's check-in schedule (migration 8).
func TestDB_Open_Upgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE migrations (number INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("migrations/000[1-4]_*.sql")
	if len(files) != 4 {
		t.Fatalf("migrations 1 to 4: %v", files)
	}
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(string(b)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		old.Exec(`INSERT INTO migrations VALUES (?, ?, '2026-11-27T00:00:00Z')`, i+1, filepath.Base(f))
	}
	for _, q := range []string{
		`INSERT INTO agreements (id, status, version, created_at, updated_at, active_since, next_round_at, next_reminder_at)
			VALUES (1, 'active', 1, '2026-11-27T00:00:00Z', '2026-11-27T00:00:00Z', '2026-11-27', '2026-11-29T19:00:00Z', '2026-11-30T08:00:00Z')`,
		`INSERT INTO agreements (id, status, version, created_at, updated_at) VALUES (2, 'pending', 1, '2026-11-27T00:00:00Z', '2026-11-27T00:00:00Z')`,
		`INSERT INTO versions VALUES (1, 1, '{"title":"T","check_in":{"unit":"week","every":1,"weekdays":[0],"hour":19,"minute":0}}', 'text', 'fp', '2026-11-27T00:00:00Z')`,
		`INSERT INTO parties (id, agreement_id, position, address, address_key, name, time_zone) VALUES (1, 1, 1, 'a@x', 'a@x', 'A', 'UTC'), (2, 1, 2, 'b@x', 'b@x', 'B', 'UTC')`,
		`INSERT INTO tokens VALUES ('aaaaaaaaaaaaaaaaaaaaaaaa', 1, 1, 'commands', 0, '2026-11-27T00:00:00Z'), ('bbbbbbbbbbbbbbbbbbbbbbbb', 1, 1, 'checkin', 0, '2026-11-27T00:00:00Z')`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()

	db := agreements.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[int64]string{}
	rows, err := db.SQL().Query(`SELECT id, commands_token FROM parties ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var tok string
		rows.Scan(&id, &tok)
		got[id] = tok
	}
	rows.Close()
	if got[1] != "aaaaaaaaaaaaaaaaaaaaaaaa" || got[2] != "" {
		t.Fatalf("commands tokens after the upgrade: %v", got)
	}
	// When the next round and reminder are due became timers of the
	// agreement's current generation.
	var timers []string
	rows, err = db.SQL().Query(`SELECT t.at, t.agreement_id, t.kind, t.gen = a.timer_gen FROM timers t JOIN agreements a ON a.id = t.agreement_id ORDER BY t.at, t.seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var at, kind string
		var id int64
		var current bool
		if err := rows.Scan(&at, &id, &kind, &current); err != nil {
			t.Fatal(err)
		}
		timers = append(timers, fmt.Sprintf("%s %d %s %v", at, id, kind, current))
	}
	rows.Close()
	if want := []string{"2026-11-29T19:00:00Z 1 round true", "2026-11-30T08:00:00Z 1 reminder true"}; !slices.Equal(timers, want) {
		t.Fatalf("timers after the upgrade: %q, want %q", timers, want)
	}
	for id, want := range map[int64]string{1: `{"unit":"week","every":1,"weekdays":[0],"hour":19,"minute":0}`, 2: ""} {
		var got string
		if err := db.SQL().QueryRow(`SELECT check_in FROM agreements WHERE id = ?`, id).Scan(&got); err != nil || got != want {
			t.Fatalf("agreement %d: check_in %q after the upgrade (%v), want %q", id, got, err, want)
		}
	}
	// The token table was rebuilt: its tokens kept, one per party,
	// purpose and ref still.
	for _, v := range []string{"aaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbbbbbb"} {
		if tok, err := db.FindToken(ctx, v); err != nil || tok.PartyID != 1 {
			t.Fatalf("token %s after the upgrade: %+v %v", v, tok, err)
		}
	}
	if tok, err := db.IssueToken(ctx, 1, agreements.PurposeCheckIn, 0); err != nil || tok.Value != "bbbbbbbbbbbbbbbbbbbbbbbb" {
		t.Fatalf("IssueToken for an existing token: %+v %v", tok, err)
	}
	if _, err := db.SQL().Exec(`INSERT INTO tokens VALUES ('cccccccccccccccccccccccc', 1, 1, 'checkin', 0, '2026-11-28T00:00:00Z')`); err == nil {
		t.Fatal("a second token for the same party, purpose and ref")
	}
}
