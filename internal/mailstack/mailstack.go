// Package mailstack gives tests the connection details of the real mail
// stack (Postfix and Dovecot on 127.0.0.1) that scripts/mailstack starts,
// and of the other servers that scripts/mailmatrix starts beside it (mox
// and maddy, on other loopback addresses).
//
// A test calls Require, or Matrix for every server: it skips with a clear
// message when the stack is not up, unless INWRITING_MAILSTACK_REQUIRED=1
// (as .ci/run sets), when it fails instead.
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

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// RequiredEnv, set to 1, turns "the stack is not up" from a skip into a
// failure.
const RequiredEnv = "INWRITING_MAILSTACK_REQUIRED"

// DirEnv names the stack's state folder; DefaultDir is used without it.
const (
	DirEnv     = "INWRITING_MAILSTACK_DIR"
	DefaultDir = "/tmp/inwriting-mailstack"
)

// Stack is a running mail server.
type Stack struct {
	Name       string // "postfix-dovecot", "mox", "maddy", "maddy-noplus"
	Dir        string
	Domain     string // example.test (localhost on mox)
	SMTP       string // host:port, no AUTH, accepts mail for Domain
	Submission string // host:port, AUTH required, STARTTLS offered
	IMAP       string // host:port, STARTTLS offered
	IMAPS      string // host:port, implicit TLS; "" where not offered
	CAFile     string // the PEM certificate that TLS verifies

	// LoginAddress says that users log in with their whole address, not
	// its local part.
	LoginAddress bool
	// NoPlus says that user+anything@Domain is refused, not delivered to
	// user.
	NoPlus bool
	// BounceTo is an address the server accepts from a user and then
	// cannot deliver; BounceDSN says that it answers with a delivery
	// status notification (else it refuses the recipient at once).
	BounceTo  string
	BounceDSN bool

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

// Username returns the name user logs in with, to IMAP and submission.
func (s *Stack) Username(user string) string {
	if s.LoginAddress {
		return s.Address(user)
	}
	return user
}

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
	return read(dir)
}

// MatrixDirEnv names the state folder of scripts/mailmatrix, which holds
// a folder for each server; DefaultMatrixDir is used without it.
const (
	MatrixDirEnv     = "INWRITING_MAILMATRIX_DIR"
	DefaultMatrixDir = "/tmp/inwriting-mailmatrix"
	// MatrixEnv, set to 0, leaves the other servers out; set to 1, it
	// makes a missing one a failure under RequiredEnv.
	MatrixEnv = "INWRITING_MAILMATRIX"
)

// MatrixServers are the servers scripts/mailmatrix runs.
var MatrixServers = []string{"mox", "maddy", "maddy-noplus"}

// Matrix returns every server to test with: the mail stack, then those
// of scripts/mailmatrix that are up. Like Require, it skips tb (fails it,
// with RequiredEnv) when the mail stack is not up; a matrix server that
// is not up is left out, or fails tb when MatrixEnv and RequiredEnv are
// both 1.
func Matrix(tb testing.TB) []*Stack {
	tb.Helper()
	stacks := []*Stack{Require(tb)}
	if os.Getenv(MatrixEnv) == "0" {
		return stacks
	}
	dir := os.Getenv(MatrixDirEnv)
	if dir == "" {
		dir = DefaultMatrixDir
	}
	for _, name := range MatrixServers {
		s, err := read(filepath.Join(dir, name))
		if err != nil {
			if os.Getenv(MatrixEnv) == "1" && os.Getenv(RequiredEnv) == "1" {
				tb.Fatalf("%s required (%s=1) but not usable: %v; run scripts/mailmatrix up", name, MatrixEnv, err)
			}
			tb.Logf("%s left out (%v); scripts/mailmatrix up starts it", name, err)
			continue
		}
		stacks = append(stacks, s)
	}
	return stacks
}

// read reads a server's details from stack.env in dir and checks that
// every port answers.
func read(dir string) (*Stack, error) {
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
		Name:         env["INWRITING_MAILSTACK_NAME"],
		Dir:          dir,
		Domain:       env["INWRITING_MAILSTACK_DOMAIN"],
		SMTP:         env["INWRITING_MAILSTACK_SMTP"],
		Submission:   env["INWRITING_MAILSTACK_SUBMISSION"],
		IMAP:         env["INWRITING_MAILSTACK_IMAP"],
		IMAPS:        env["INWRITING_MAILSTACK_IMAPS"],
		CAFile:       env["INWRITING_MAILSTACK_CA"],
		LoginAddress: env["INWRITING_MAILSTACK_LOGIN"] == "address",
		NoPlus:       env["INWRITING_MAILSTACK_PLUS"] == "0",
		BounceDSN:    env["INWRITING_MAILSTACK_BOUNCE"] != "rcpt",
		passwords:    map[string]string{},
	}
	if s.Name == "" {
		s.Name = "postfix-dovecot"
	}
	// Postfix and maddy refuse gone.test and send a delivery status
	// notification; mox localserve refuses a local part that starts with
	// rcptto and ends with the code.
	s.BounceTo = "carol@gone.test"
	if !s.BounceDSN {
		s.BounceTo = "rcptto550@gone.test"
	}
	for _, u := range Users {
		s.passwords[u] = env["INWRITING_MAILSTACK_PASSWORD_"+strings.ToUpper(u)]
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("read the stack's certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("the stack's certificate is not PEM")
	}
	s.TLS = &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}
	for _, addr := range []string{s.SMTP, s.Submission, s.IMAP, s.IMAPS} {
		if addr == "" {
			continue
		}
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
	if s.Name != "postfix-dovecot" {
		return s.emptyIMAP(user)
	}
	out, err := exec.Command("doveadm", "-c", filepath.Join(s.Dir, "dovecot", "dovecot.conf"),
		"expunge", "-u", s.Address(user), "mailbox", "*", "all").CombinedOutput()
	if err != nil {
		return fmt.Errorf("empty %s's mailboxes: %v: %s", user, err, out)
	}
	return nil
}

// emptyIMAP removes every message from user's mailboxes over IMAP, as any
// client can on any server.
func (s *Stack) emptyIMAP(user string) error {
	c, err := imapclient.DialStartTLS(s.IMAP, &imapclient.Options{TLSConfig: s.TLS})
	if err != nil {
		return fmt.Errorf("empty %s's mailboxes: %w", user, err)
	}
	defer c.Close()
	if err := c.Login(s.Username(user), s.Password(user)).Wait(); err != nil {
		return fmt.Errorf("empty %s's mailboxes: %w", user, err)
	}
	boxes, err := c.List("", "*", nil).Collect()
	if err != nil {
		return fmt.Errorf("empty %s's mailboxes: %w", user, err)
	}
	for _, b := range boxes {
		sel, err := c.Select(b.Mailbox, nil).Wait()
		if err != nil || sel.NumMessages == 0 {
			continue
		}
		var all imap.SeqSet
		all.AddRange(1, 0) // 1:*
		if err := c.Store(all, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return fmt.Errorf("empty %s's %s: %w", user, b.Mailbox, err)
		}
		if err := c.Expunge().Close(); err != nil {
			return fmt.Errorf("empty %s's %s: %w", user, b.Mailbox, err)
		}
	}
	return nil
}
