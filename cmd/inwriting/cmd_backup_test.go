package main_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

// TestBackup: a backup taken while agreements are being written is one
// consistent copy; restored, every agreement's log verifies. A copy that
// was changed does not pass the check, and a backup never overwrites.
func TestBackup(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.mustRun("new", "--from-file", exampleFile)
	terms := exampleTerms(t)

	// Write while the backup runs: new agreements, each with its events,
	// one transaction after another, as serve would.
	db := e.openDB()
	defer db.Close()
	var written atomic.Int64
	stop, underway := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		isUnderway := sync.OnceFunc(func() { close(underway) })
		defer isUnderway() // also when it fails
		for {
			if written.Load() == 5 {
				isUnderway()
			}
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.CreateAgreement(ctx, terms); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()
	copyPath := filepath.Join(e.dir, "backup.db")
	<-underway // the writer is well under way before the copy starts
	out := e.mustRun("backup", copyPath)
	close(stop)
	wg.Wait()
	if !strings.Contains(out, "every event log verifies") {
		t.Fatalf("backup:\n%s", out)
	}

	// Restored: the configuration points at the copy.
	e.vars["INWRITING_DATABASE"] = copyPath
	if out := e.mustRun("verify", "--all"); !strings.Contains(out, "every event log verifies") {
		t.Fatalf("verify --all on the copy:\n%s", out)
	}
	restored := e.mustRun("list")
	if n := strings.Count(restored, "Evenings and phone calls"); n < 6 || int64(n) > written.Load()+1 {
		t.Fatalf("the copy holds %d agreements; %d were written", n, written.Load()+1)
	}
	delete(e.vars, "INWRITING_DATABASE")

	for _, tt := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"backup", copyPath}, 1, "exists; a backup is written to a new file"},
		{[]string{"backup", "--check", filepath.Join(e.dir, "nothing.db")}, 1, "no such file"},
		{[]string{"verify", "--all", "x"}, 2, "verify takes FILE, or --all alone"},
	} {
		if r := e.run("", tt.args...); r.code != tt.code || !strings.Contains(r.stderr, tt.says) {
			t.Errorf("%v: exit %d %q, want %d and %q", tt.args, r.code, r.stderr, tt.code, tt.says)
		}
	}

	// A copy whose log was changed is not whole.
	bad := agreements.NewDB(copyPath)
	if err := bad.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bad.SQL().Exec(`DROP TRIGGER IF EXISTS events_no_update; UPDATE events SET data = replace(data, 'Evenings', 'Mornings') WHERE agreement_id = 1 AND seq = 1`); err != nil {
		t.Fatal(err)
	}
	bad.Close()
	r := e.run("", "backup", "--check", copyPath)
	if r.code != 1 || !strings.Contains(r.stdout, "agreement 1:") {
		t.Fatalf("check of a changed copy: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
