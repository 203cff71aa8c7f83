package main_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// failFirst marks outbox mail 1 as failed with a 550, as a sender would.
func (e *env) failFirst() {
	e.t.Helper()
	ctx := context.Background()
	db := e.openDB()
	defer db.Close()
	if _, err := db.ClaimMail(ctx, "test", 1, time.Minute); err != nil {
		e.t.Fatal(err)
	}
	if err := db.RecordOutcomes(ctx, "test", []agreements.MailOutcome{{ID: 1, Status: agreements.MailFailed, Reason: "RCPT TO: 550 no such user"}}); err != nil {
		e.t.Fatal(err)
	}
}

func TestOutbox(t *testing.T) {
	e := newEnv(t)
	if out := e.mustRun("outbox"); !strings.Contains(out, "The outbox is empty.") {
		t.Fatalf("outbox = %q", out)
	}
	e.mustRun("new", "--from-file", exampleFile)
	out := e.mustRun("outbox")
	if strings.Count(out, "pending  confirm-request") != 2 || !strings.Contains(out, "alice@example.test") {
		t.Fatalf("outbox = %s", out)
	}

	t.Run("Show", func(t *testing.T) {
		r := e.run("", "outbox", "show", "1")
		if r.code != 1 || !strings.Contains(r.stderr, "service.address") {
			t.Fatalf("show without a service address: exit %d %q", r.code, r.stderr)
		}
		e.vars["INWRITING_SERVICE_ADDRESS"] = "service@example.test"
		defer delete(e.vars, "INWRITING_SERVICE_ADDRESS")
		r = e.run("", "outbox", "show", "1")
		if r.code != 0 || !strings.Contains(r.stdout, "Subject: Please confirm: Evenings and phone calls") || !strings.Contains(r.stdout, "Reply-To: \"inwriting\" <service+") || !strings.Contains(r.stderr, "Not sent yet") {
			t.Fatalf("show: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if r := e.run("", "outbox", "show", "99"); r.code != 1 || !strings.Contains(r.stderr, "no outbox mail 99") {
			t.Fatalf("show 99: exit %d %q", r.code, r.stderr)
		}
	})

	t.Run("Retry", func(t *testing.T) {
		if r := e.run("", "outbox", "retry", "1"); r.code != 1 || !strings.Contains(r.stderr, "only failed mail can be retried") {
			t.Fatalf("retry pending: exit %d %q", r.code, r.stderr)
		}
		e.failFirst()
		out := e.mustRun("outbox", "--failed")
		if !strings.Contains(out, "failed") || !strings.Contains(out, "550 no such user") || strings.Contains(out, "bob@example.test") {
			t.Fatalf("outbox --failed = %s", out)
		}
		if out := e.mustRun("outbox", "retry", "1"); !strings.Contains(out, "will be sent again") {
			t.Fatalf("retry = %q", out)
		}
		if out := e.mustRun("outbox", "--failed"); !strings.Contains(out, "The outbox is empty.") {
			t.Fatalf("outbox --failed after retry = %s", out)
		}
	})

	t.Run("Usage", func(t *testing.T) {
		for _, args := range [][]string{{"outbox", "resend", "1"}, {"outbox", "retry"}, {"outbox", "show", "x"}} {
			if r := e.run("", args...); r.code != 2 {
				t.Fatalf("%v: exit %d", args, r.code)
			}
		}
	})
}
