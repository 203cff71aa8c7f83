package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

// activeEnv returns an environment with agreement 1 confirmed by both.
func activeEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	e.mustRun("new", "--from-file", exampleFile)
	db := e.openDB()
	defer db.Close()
	confirmByReply(t, db, 1)
	return e
}

// state returns agreement 1's status, the data of its last event, and
// how many notices wait in the outbox.
func (e *env) state() (status agreements.Status, last agreements.Event, notices int) {
	e.t.Helper()
	db := e.openDB()
	defer db.Close()
	ctx := context.Background()
	a, err := db.FindAgreementByID(ctx, 1)
	if err != nil {
		e.t.Fatal(err)
	}
	es, err := db.FindEvents(ctx, 1)
	if err != nil {
		e.t.Fatal(err)
	}
	ms, err := db.FindOutbox(ctx, agreements.OutboxFilter{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range ms {
		if m.Kind == agreements.MailNotice {
			notices++
		}
	}
	return a.Status, es[len(es)-1], notices
}

// TestPauseResumeStop: the operator's pause, resume and stop for a party
// are the party's own commands: the same status changes, the same event
// (by that party), the same notices to both, the same owner of a break or
// an end; what cannot be done is an error that mails nobody.
func TestPauseResumeStop(t *testing.T) {
	e := activeEnv(t)
	step := func(args string, want agreements.Status, notices int) agreements.Event {
		t.Helper()
		out := e.mustRun(strings.Fields(args)...)
		status, last, n := e.state()
		if status != want || n != notices {
			t.Fatalf("%s: status %s and %d notices, want %s and %d\n%s", args, status, n, want, notices, out)
		}
		return last
	}
	ev := step("pause 1 --as ALICE@example.test", agreements.StatusPaused, 2)
	if ev.Type != agreements.EventPaused || !strings.Contains(string(ev.Data), `"by":"alice@example.test"`) {
		t.Fatalf("pause event = %s %s", ev.Type, ev.Data)
	}
	// Nothing to pause: an error for the operator, no mail to Alice.
	if r := e.run("", "pause", "1", "--as", "alice@example.test"); r.code != 1 || !strings.Contains(r.stderr, "no check-ins to pause") {
		t.Fatalf("pause twice: exit %d %q", r.code, r.stderr)
	}
	if _, _, n := e.state(); n != 2 {
		t.Fatalf("a refused pause mailed: %d notices", n)
	}
	// Alice's break is hers: the operator cannot end it for Bob.
	if r := e.run("", "resume", "1", "--as", "bob@example.test"); r.code != 1 || !strings.Contains(r.stderr, "alice@example.test paused it; only they can take that back") {
		t.Fatalf("resume for Bob of Alice's pause: exit %d %q", r.code, r.stderr)
	}
	step("resume 1 --as alice@example.test", agreements.StatusActive, 4)

	// "until" is a date in the party's own zone: midnight in Chicago.
	ev = step("pause 1 --as bob@example.test --until 2027-01-10", agreements.StatusPaused, 6)
	var d struct{ Until string }
	if err := json.Unmarshal(ev.Data, &d); err != nil || d.Until != "2027-01-10T06:00:00Z" {
		t.Fatalf("pause until: %s (%v), want until 2027-01-10T06:00:00Z", ev.Data, err)
	}
	step("stop 1 --as bob@example.test", agreements.StatusEnded, 8) // the operator's stop is Bob's said wish: no asking
	if r := e.run("", "resume", "1", "--as", "alice@example.test"); r.code != 1 || !strings.Contains(r.stderr, "bob@example.test ended it") {
		t.Fatalf("resume for Alice of Bob's end: exit %d %q", r.code, r.stderr)
	}
	step("resume 1 --as bob@example.test", agreements.StatusActive, 10) // within 7 days

	for _, tt := range []struct {
		args   string
		code   int
		stderr string
	}{
		{"pause 1", 2, "--as is required"},
		{"pause 1 --as carol@example.test", 1, "carol@example.test is not a party to agreement 1"},
		{"pause 2 --as alice@example.test", 1, "no agreement 2"},
		{"pause x --as alice@example.test", 2, `"x" is not an agreement ID`},
		{"pause 1 --as alice@example.test --until 2020-01-01", 2, "not in the future"},
		{"pause 1 --as alice@example.test --until soon", 2, "want a date like"},
		{"stop 1 --as alice@example.test --until 2027-01-10", 2, "flag provided but not defined: -until"},
	} {
		if r := e.run("", strings.Fields(tt.args)...); r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%s: exit %d %q, want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
		}
	}
	if status, _, n := e.state(); status != agreements.StatusActive || n != 10 {
		t.Fatalf("after the errors: %s, %d notices", status, n)
	}
}
