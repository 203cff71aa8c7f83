// Package mailstack gives tests the connection details of the real mail
// stack (Postfix and Dovecot on 127.0.0.1) that scripts/mailstack starts.
//
// A test calls Require: it skips with a clear message when the stack is not
// up, unless INWRITING_MAILSTACK_REQUIRED=1 (as .ci/run sets), when it fails
// instead.
package mailstack

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// RequiredEnv, set to 1, turns "the stack is not up" from a skip into a
// failure.
const RequiredEnv = "INWRITING_MAILSTACK_REQUIRED"

// DirEnv names the stack's state folder; DefaultDir is used without it.
const (
	DirEnv     = "INWRITING_MAILSTACK_DIR"
	DefaultDir = "/tmp/inwriting-mailstack"
)

// Stack is the running mail stack.
type Stack struct {
	Dir        string
	Domain     string // example.test
	SMTP       string // host:port, no AUTH, accepts mail for Domain
	Submission string // host:port, AUTH required, STARTTLS offered
	IMAP       string // host:port, STARTTLS offered
	IMAPS      string // host:port, implicit TLS

	// TLS verifies the stack's self-signed certificate (ServerName
	// localhost).
	TLS *tls.Config

	passwords map[string]string
}

// Users are the stack's mailboxes (local parts of Domain). Each package's
// end-to-end tests have their own, since go test runs packages at once:
// smoke for this package; service for mailin's poller; mailout, mo-alice
// and mo-bob for mailout; and for cmd/inwriting, inwriting (the service),
// alice and bob (the parties), ann and ben (the mail-loop test's parties),
// bench and crash (the benchmarks and the crash test).
var Users = []string{"service", "alice", "bob", "inwriting", "bench", "crash", "ann", "ben", "smoke", "mailout", "mo-alice", "mo-bob"}

// Address returns user's address, e.g. alice@example.test.
func (s *Stack) Address(user string) string { return user + "@" + s.Domain }

// Password returns the password of user, one of Users.
func (s *Stack) Password(user string) string { return s.passwords[user] }

// Require returns the running stack, or skips (fails, with RequiredEnv) tb.
func Require(tb testing.TB) *Stack {
	tb.Helper()
	s, err := Find()
	if err != nil {
		if os.Getenv(RequiredEnv) == "1" {
			tb.Fatalf("mail stack required (%s=1) but not usable: %v", RequiredEnv, err)
		}
		tb.Skipf("mail stack not up (%v); run scripts/mailstack up, or set %s=1 to fail instead of skipping", err, RequiredEnv)
	}
	return s
}

// Find reads the stack's details from its state folder and checks that
// every port answers.
func Find() (*Stack, error) {
	dir := os.Getenv(DirEnv)
	if dir == "" {
		dir = DefaultDir
	}
	f, err := os.Open(filepath.Join(dir, "stack.env"))
	if err != nil {
		return nil, fmt.Errorf("no stack.env in %s", dir)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			env[k] = v
		}
	}
	s := &Stack{
		Dir:        dir,
		Domain:     env["INWRITING_MAILSTACK_DOMAIN"],
		SMTP:       env["INWRITING_MAILSTACK_SMTP"],
		Submission: env["INWRITING_MAILSTACK_SUBMISSION"],
		IMAP:       env["INWRITING_MAILSTACK_IMAP"],
		IMAPS:      env["INWRITING_MAILSTACK_IMAPS"],
		passwords:  map[string]string{},
	}
	for _, u := range Users {
		s.passwords[u] = env["INWRITING_MAILSTACK_PASSWORD_"+strings.ToUpper(u)]
	}
	pem, err := os.ReadFile(env["INWRITING_MAILSTACK_CA"])
	if err != nil {
		return nil, fmt.Errorf("read the stack's certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the stack's certificate is not PEM")
	}
	s.TLS = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	for _, addr := range []string{s.SMTP, s.Submission, s.IMAP, s.IMAPS} {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			return nil, fmt.Errorf("%s does not answer", addr)
		}
		c.Close()
	}
	return s, nil
}

// Empty removes every message from user's mailboxes.
func (s *Stack) Empty(user string) error {
	out, err := exec.Command("doveadm", "-c", filepath.Join(s.Dir, "dovecot", "dovecot.conf"),
		"expunge", "-u", s.Address(user), "mailbox", "*", "all").CombinedOutput()
	if err != nil {
		return fmt.Errorf("empty %s's mailboxes: %v: %s", user, err, out)
	}
	return nil
}
