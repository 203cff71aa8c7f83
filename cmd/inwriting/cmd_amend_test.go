package main_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

// TestAmend: a new version from a file shows what changed, and both
// parties are asked to confirm it; what is not an amendment says why.
func TestAmend(t *testing.T) {
	e := activeEnv(t)
	example, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	v2 := e.write("v2.txt", strings.Replace(string(example), "Check in: every Sunday at 19:00", "Check in: every Sunday at 18:00", 1))
	if !strings.Contains(string(example), "Check in: every Sunday at 19:00") {
		t.Fatal("the example agreement changed; this test needs its check-in line")
	}
	e.vars["INWRITING_SERVICE_ADDRESS"], e.vars["INWRITING_SMTP_HOST"] = "service@example.test", "smtp.example.test"
	out := e.mustRun("amend", "1", "--from-file", v2)
	for _, want := range []string{"Agreement 1: version 2", "Version 1 stays in force", "  - Check in: every Sunday at 19:00", "  + Check in: every Sunday at 18:00", "Waiting for confirmation by alice@example.test and bob@example.test"} {
		if !strings.Contains(out, want) {
			t.Errorf("amend does not say %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "\n  ") != 2 {
		t.Errorf("amend shows more than the changed line:\n%s", out)
	}
	db := e.openDB()
	defer db.Close()
	a, err := db.FindAgreementByID(context.Background(), 1)
	if err != nil || a.Version != 1 || a.Proposed != 2 || a.Status != agreements.StatusActive {
		t.Fatalf("after amend: %+v, %v", a, err)
	}
	ms, _ := db.FindOutbox(context.Background(), agreements.OutboxFilter{})
	asked := 0
	for _, m := range ms {
		if m.Kind == agreements.MailConfirmRequest && m.Data.Agreement != nil && m.Data.Agreement.Version == 2 {
			asked++
		}
	}
	if asked != 2 {
		t.Fatalf("%d requests to confirm version 2, want 2", asked)
	}

	other := e.write("other.txt", strings.Replace(string(example), "bob@example.test", "carol@example.test", -1))
	for _, tt := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"amend", "1"}, 2, "--from-file is required"},
		{[]string{"amend", "9", "--from-file", v2}, 1, "no agreement 9"},
		{[]string{"amend", "1", "--from-file", v2}, 1, "changes nothing"},
		{[]string{"amend", "1", "--from-file", other}, 1, "same parties"},
		{[]string{"amend", "1", "--from-file", "/nonexistent"}, 1, "no such file"},
	} {
		if r := e.run("", tt.args...); r.code != tt.code || !strings.Contains(r.stderr, tt.stderr) {
			t.Errorf("%v: exit %d %q, want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.stderr)
		}
	}
}
