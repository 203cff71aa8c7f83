package agreements_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// timerCounts returns, for agreement id, how many of its timers are of
// its current generation (and will fire), by kind, and how many timers
// the table holds in all.
func timerCounts(t *testing.T, db *agreements.DB, id int64) (live map[string]int, all int) {
	t.Helper()
	rows, err := db.SQL().Query(`SELECT t.kind, t.gen = a.timer_gen FROM timers t JOIN agreements a ON a.id = t.agreement_id WHERE a.id = ?`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	live = map[string]int{}
	for rows.Next() {
		var kind string
		var current bool
		if err := rows.Scan(&kind, &current); err != nil {
			t.Fatal(err)
		}
		if current {
			live[kind]++
		}
		all++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return live, all
}

// column returns the one column that query q selects.
func column[T any](t *testing.T, db *agreements.DB, q string) []T {
	t.Helper()
	rows, err := db.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTimers: pausing and resuming, by the operator and by reply, over
// and over, leaves one timer that fires for the next round and one for
// the next reminder; the timers it voided fire nothing and are gone once
// their time has passed; each Sunday has its one round and each Monday its
// reminders.
func TestTimers(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	terms := testTerms()
	terms.Reminder = &agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Monday}, Hour: 8}
	a, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		t.Fatal(err)
	}
	a = mustActivate(t, db, a)
	// The confirmation timer of version 1 is void now, and stays until
	// its time.
	if live, all := timerCounts(t, db, a.ID); live["round"] != 1 || live["reminder"] != 1 || all != 3 {
		t.Fatalf("after activation: %v of %d timers fire; want a round and a reminder of 3", live, all)
	}

	alice := a.Terms.Parties[0]
	tok, _ := db.IssueToken(ctx, alice.ID, agreements.PurposeCommands, 0)
	n := 0
	command := func(cmd string, until time.Time, want string) {
		t.Helper()
		n++
		out, err := db.RecordInbound(ctx, agreements.Inbound{Key: fmt.Sprintf("<c%d@x>", n), Mailbox: "INBOX", UIDValidity: 1, UID: uint32(n), From: alice.Address,
			Tokens: []string{tok.Value}, Body: commandText(cmd, until)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Outcome != want {
			t.Fatalf("%s: outcome %q, want %q", cmd, out.Outcome, want)
		}
	}
	for range 3 {
		mustCommand(t, db, a, "alice@example.test", agreements.CommandPause)
		if live, _ := timerCounts(t, db, a.ID); len(live) != 0 {
			t.Fatalf("paused by the operator: %v timers fire", live)
		}
		mustCommand(t, db, a, "alice@example.test", agreements.CommandResume)
		command("pause", time.Date(2027, 3, 2, 0, 0, 0, 0, time.UTC), "paused")
		if live, _ := timerCounts(t, db, a.ID); live["round"] != 1 || live["reminder"] != 0 {
			t.Fatalf("paused until 2 March: %v timers fire; want only the end of the pause", live)
		}
		command("resume", time.Time{}, "resumed")
	}
	live, all := timerCounts(t, db, a.ID)
	if live["round"] != 1 || live["reminder"] != 1 {
		t.Fatalf("after pausing and resuming: %v of %d timers fire; want a round and a reminder", live, all)
	}
	if all <= 2 {
		t.Fatalf("%d timers: the voided ones should wait for their time", all)
	}

	// Three weeks, an hour at a time.
	st := agreements.ScheduleStats{}
	for end := now.Add(21 * 24 * time.Hour); now.Before(end); now = now.Add(time.Hour) {
		got, err := db.RunSchedule(ctx)
		if err != nil {
			t.Fatal(err)
		}
		st.Opened += got.Opened
		st.Resumed += got.Resumed
		st.Reminders += got.Reminders
	}
	// Sundays 28 February, 7 and 14 March; Mondays 1, 8 and 15 March, for
	// both; none of the voided pauses ended.
	if want := (agreements.ScheduleStats{Opened: 3, Reminders: 6}); st != want {
		t.Fatalf("three weeks: %+v, want %+v", st, want)
	}
	rs, err := db.FindRounds(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	for _, r := range rs {
		days = append(days, r.Occurrence)
	}
	slices.Sort(days)
	if want := []string{"2027-02-28", "2027-03-07", "2027-03-14"}; !slices.Equal(days, want) {
		t.Fatalf("rounds %v, want %v", days, want)
	}
	if live, all := timerCounts(t, db, a.ID); live["round"] != 1 || live["reminder"] != 1 || all != 2 {
		t.Fatalf("three weeks on: %v of %d timers fire; want a round and a reminder, and nothing else left", live, all)
	}

	// Ending the agreement voids its timers: nothing fires, and they go.
	command("stop", time.Time{}, "asked") // a stop asks once
	command("stop", time.Time{}, "ended")
	for end := now.Add(8 * 24 * time.Hour); now.Before(end); now = now.Add(time.Hour) {
		got, err := db.RunSchedule(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Opened != 0 || got.Reminders != 0 {
			t.Fatalf("%v, after stop: %+v", now, got)
		}
	}
	if live, all := timerCounts(t, db, a.ID); len(live) != 0 || all != 0 {
		t.Fatalf("a week after stop: %v of %d timers", live, all)
	}
}

// TestTimers_Order: the timers of a pass fire in time order, a chunk at a
// time, however many fall due at once; the next ones are set after the
// ones already set for their time.
func TestTimers_Order(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	const n = 5
	for range n {
		mustActivate(t, db, mustCreate(t, db))
	}
	seqs := column[int64](t, db, `SELECT seq FROM timers WHERE at = '2027-02-28T19:00:00Z' ORDER BY seq`)
	if want := []int64{1, 2, 3, 4, 5}; !slices.Equal(seqs, want) {
		t.Fatalf("seqs of the timers set for 28 February: %v, want %v", seqs, want)
	}
	now = time.Date(2027, 2, 28, 19, 0, 0, 0, time.UTC)
	st, err := db.RunSchedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Opened != n {
		t.Fatalf("opened %d rounds, want %d", st.Opened, n)
	}
	var left, next int
	if err := db.SQL().QueryRow(`SELECT (SELECT COUNT(*) FROM timers WHERE at <= '2027-02-28T19:00:00Z'), (SELECT COUNT(*) FROM timers WHERE at = '2027-03-07T19:00:00Z')`).Scan(&left, &next); err != nil {
		t.Fatal(err)
	}
	if left != 0 || next != n {
		t.Fatalf("after the pass: %d timers left that were due, %d set for 7 March; want 0 and %d", left, next, n)
	}
}

// TestTimers_PauseBetweenPasses: a pause and a resume between two passes
// that take in the time of a round void the timer set for it: that round
// fell in the pause and does not open, late, on the next pass.
func TestTimers_PauseBetweenPasses(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a := mustActivate(t, db, mustCreate(t, db))
	now = time.Date(2027, 2, 28, 18, 30, 0, 0, time.UTC) // Sunday; Alice's round is at 19:00 UTC
	mustCommand(t, db, a, "alice@example.test", agreements.CommandPause)
	now = time.Date(2027, 2, 28, 19, 30, 0, 0, time.UTC)
	mustCommand(t, db, a, "alice@example.test", agreements.CommandResume)
	st, err := db.RunSchedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Opened != 0 {
		t.Fatalf("the pass after the resume opened %d rounds; the round of 28 February fell in the pause", st.Opened)
	}
	now = time.Date(2027, 3, 7, 19, 0, 0, 0, time.UTC)
	if st, err = db.RunSchedule(ctx); err != nil || st.Opened != 1 {
		t.Fatalf("7 March: %+v %v; want its round", st, err)
	}
}

// TestTimers_Amended: once an amendment that moves the check-in from
// Sunday to Wednesday is confirmed, rounds come on Wednesdays, at the new
// version's time, and none on the old Sunday.
func TestTimers_Amended(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a := mustActivate(t, db, mustCreate(t, db))
	terms := a.Terms
	terms.CheckIn = agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Wednesday}, Hour: 20}
	a, err := db.AmendAgreement(ctx, a.ID, terms)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range a.Terms.Parties {
		if _, err := confirm(db, a, 2, p.ID, "<v2"+p.FirstName()+"@x>"); err != nil {
			t.Fatal(err)
		}
	}
	for end := now.Add(8 * 24 * time.Hour); now.Before(end); now = now.Add(time.Hour) {
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := db.FindRounds(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.OpenedAt.UTC().Format(time.RFC3339))
	}
	// Wednesday 24 February 20:00 had not come when the amendment was
	// confirmed at noon; 20:00 in Lisbon is 20:00 UTC in winter.
	if want := []string{"2027-02-24T20:00:00Z", "2027-03-03T20:00:00Z"}; !slices.Equal(got, want) {
		t.Fatalf("rounds opened at %v, want %v", got, want)
	}
	checkIns := 0
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailCheckIn {
			checkIns++
			if v := m.Data.Agreement.Version; v != 2 {
				t.Fatalf("check-in %d shows version %d, want 2", m.ID, v)
			}
		}
	}
	if checkIns != 4 {
		t.Fatalf("%d check-ins, want 4", checkIns)
	}
}

// TestTimers_NoAgreement: a timer whose agreement is not there fires
// nothing and goes away; one of a kind this inwriting does not know is
// left alone. The pass fails on neither, and the timers after them fire.
func TestTimers_NoAgreement(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	if _, err := db.SQL().Exec(`INSERT INTO timers (at, seq, agreement_id, kind, gen) VALUES
		('2027-02-24T11:00:00Z', 1, 999, 'round', 0), ('2027-02-24T11:00:00Z', 2, 998, 'reminder', 0), ('2027-02-24T11:00:00Z', 3, 997, 'other', 0)`); err != nil {
		t.Fatal(err)
	}
	a := mustActivate(t, db, mustCreate(t, db))
	now = time.Date(2027, 2, 28, 19, 0, 0, 0, time.UTC)
	st, err := db.RunSchedule(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := (agreements.ScheduleStats{Opened: 1, CheckIns: 1}); st != want {
		t.Fatalf("%+v, want %+v: the round of agreement %d", st, want, a.ID)
	}
	left := column[string](t, db, `SELECT kind FROM timers WHERE at <= '2027-02-28T19:00:00Z'`)
	if !slices.Equal(left, []string{"other"}) {
		t.Fatalf("timers left that were due: %v, want only the unknown one", left)
	}
}

// commandText is a command as a person writes it by reply.
func commandText(cmd string, until time.Time) string {
	if until.IsZero() {
		return cmd
	}
	return cmd + " until " + until.Format("2006-01-02")
}
