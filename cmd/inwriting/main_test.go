package main_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	main "github.com/inwriting/inwriting/cmd/inwriting"
	"github.com/inwriting/inwriting/mailin"
)

// Now is the test clock.
var Now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// env is a test's environment: a data folder of its own, nothing else.
type env struct {
	t    *testing.T
	vars map[string]string
	dir  string
	// now and tick, when set, are the clock and scheduler interval of the
	// programs run.
	now  func() time.Time
	tick time.Duration
	// resolver, when set, answers the programs' DNS lookups.
	resolver main.Resolver
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	return &env{t: t, dir: dir, vars: map[string]string{"INWRITING_DATA_DIR": filepath.Join(dir, "data"), "HOME": dir}}
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the CLI in-process with args and stdin, as a fresh process would.
func (e *env) run(stdin string, args ...string) result {
	e.t.Helper()
	return e.runWith(false, stdin, args...)
}

// runTerminal runs the CLI as if a person typed stdin at a terminal.
func (e *env) runTerminal(stdin string, args ...string) result {
	e.t.Helper()
	return e.runWith(true, stdin, args...)
}

func (e *env) runWith(terminal bool, stdin string, args ...string) result {
	e.t.Helper()
	return e.runCtx(context.Background(), terminal, stdin, args...)
}

// runCtx runs the CLI until it returns or ctx ends (as a signal would end
// serve).
func (e *env) runCtx(ctx context.Context, terminal bool, stdin string, args ...string) result {
	var out, errb syncBuffer
	m := main.NewMain()
	m.Stdin = strings.NewReader(stdin)
	m.Stdout, m.Stderr = &out, &errb
	m.Getenv = func(k string) string { return e.vars[k] }
	m.Now = func() time.Time { return Now }
	if e.now != nil {
		m.Now = e.now
	}
	if e.tick != 0 {
		m.SetTickForTest(e.tick)
	}
	m.IsTerminal = func() bool { return terminal }
	m.Resolver = e.resolver
	code := m.Main(ctx, args)
	return result{code, out.String(), errb.String()}
}

func (e *env) mustRun(args ...string) string {
	e.t.Helper()
	r := e.run("", args...)
	if r.code != 0 {
		e.t.Fatalf("inwriting %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

func (e *env) write(name, content string) string {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

const exampleFile = "../../deploy/example-agreement.txt"

func TestHelp(t *testing.T) {
	e := newEnv(t)
	t.Run("Global", func(t *testing.T) {
		for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}} {
			r := e.run("", args...)
			if r.code != 0 || !strings.Contains(r.stdout, "Commands:") || !strings.Contains(r.stdout, "INWRITING_LOG_LEVEL") {
				t.Fatalf("%v: exit %d, stdout %q", args, r.code, r.stdout)
			}
		}
	})
	t.Run("EveryCommand", func(t *testing.T) {
		for _, c := range []string{"new", "list", "show", "export", "verify", "outbox", "read-reply", "version"} {
			r := e.run("", c, "--help")
			if r.code != 0 || !strings.Contains(r.stdout, "Usage: inwriting "+c) || !strings.Contains(r.stdout, "-config") {
				t.Fatalf("%s --help: exit %d, stdout %q", c, r.code, r.stdout)
			}
			if r2 := e.run("", "help", c); r2.stdout != r.stdout {
				t.Fatalf("help %s differs from %s --help", c, c)
			}
		}
	})
}

func TestUsageErrors(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"show"},
		{"show", "1", "2"},
		{"show", "abc"},
		{"export", "1", "--format", "pdf"},
		{"list", "--status", "happy"},
		{"new", "--nope"},
		{"new"}, // no file, no flags, not a terminal
		{"new", "--from-file", exampleFile, "--title", "x"},
		{"new", "--title", "x", "--party", "a@example.test"},
		{"help", "frobnicate"},
	} {
		r := e.run("", args...)
		if r.code != 2 {
			t.Fatalf("%v: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "inwriting: ") {
			t.Fatalf("%v: stderr %q, want a message", args, r.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	out := newEnv(t).mustRun("version")
	if !strings.HasPrefix(out, "inwriting ") {
		t.Fatalf("version = %q", out)
	}
}

// TestExitCodes runs the real binary's main (this test binary, re-executed)
// and checks the process's exit codes and streams.
func TestExitCodes(t *testing.T) {
	if os.Getenv("INWRITING_TEST_MAIN") == "1" {
		os.Args = append([]string{"inwriting"}, strings.Fields(os.Getenv("INWRITING_TEST_ARGS"))...)
		main.RunMainForTest()
		return
	}
	dir := t.TempDir()
	for _, tt := range []struct {
		args   string
		code   int
		stderr string
	}{
		{"version", 0, ""},
		{"list", 0, ""},
		{"show 99", 1, "there is no agreement 99"},
		{"bogus", 2, `unknown command "bogus"`},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExitCodes$")
		cmd.Env = append(os.Environ(), "INWRITING_TEST_MAIN=1", "INWRITING_TEST_ARGS="+tt.args, "INWRITING_DATA_DIR="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tt.code || !strings.Contains(stderr.String(), tt.stderr) {
			t.Fatalf("%s: exit %d stderr %q, want %d and %q", tt.args, code, stderr.String(), tt.code, tt.stderr)
		}
	}
}

// syncBuffer is a bytes.Buffer that serve's goroutines can log to at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// confirmByReply confirms agreement id's current version for every
// party, each by a reply "I agree" to their request to confirm, as the
// poller hands it to the store.
func confirmByReply(t *testing.T, db *agreements.DB, id int64) {
	t.Helper()
	ctx := context.Background()
	a, err := db.FindAgreementByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range a.Terms.Parties {
		tok, err := db.IssueToken(ctx, p.ID, agreements.PurposeConfirm, int64(a.Version))
		if err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprintf("<confirm-%d-%d-%s@example.test>", id, a.Version, p.FirstName())
		out, err := db.RecordInbound(ctx, agreements.Inbound{Key: key, MessageID: key, Mailbox: "INBOX", UIDValidity: 1, UID: uint32(1000*id) + uint32(i),
			From: p.Address, Tokens: []string{tok.Value}, Body: "I agree", AuthResult: "dkim=pass", AuthPass: true})
		if err != nil || out.Outcome != "confirmed" {
			t.Fatalf("%s's reply \"I agree\": %+v, %v", p.Address, out, err)
		}
	}
}

// openDB opens the environment's database in the store, on the test clock.
func (e *env) openDB() *agreements.DB {
	e.t.Helper()
	db := agreements.NewDB(filepath.Join(e.vars["INWRITING_DATA_DIR"], "inwriting.db"))
	db.Reader = mailin.Reader{}
	db.Now = func() time.Time { return Now }
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	return db
}
