package main_test

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gomail "github.com/wneessen/go-mail"

	main "github.com/inwriting/inwriting/cmd/inwriting"
	"github.com/inwriting/inwriting/internal/sandbox"
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDev runs "inwriting dev" as a newcomer would, on free ports, until
// the test ends or stopDev; it returns the flags that reach it.
func startDev(t *testing.T, e *env, extra ...string) []string {
	flags, _ := startDevStop(t, e, extra...)
	return flags
}

// startDevStop is startDev, and also returns stop: Ctrl-C, then what dev
// printed.
func startDevStop(t *testing.T, e *env, extra ...string) (flags []string, stop func() result) {
	flags = []string{"--imap", freeAddr(t), "--smtp", freeAddr(t)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result)
	go func() { done <- e.runCtx(ctx, false, "", append(append([]string{"dev"}, flags...), extra...)...) }()
	stop = sync.OnceValue(func() result {
		cancel()
		select {
		case r := <-done:
			if r.code != 0 {
				t.Errorf("dev: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			} else if t.Failed() {
				t.Logf("dev printed:\n%s%s", r.stdout, r.stderr)
			}
			return r
		case <-time.After(30 * time.Second):
			t.Error("dev did not stop within 30 s of Ctrl-C")
			return result{code: -1}
		}
	})
	t.Cleanup(func() { stop() })
	demo := !slices.Contains(extra, "--no-demo")
	waitUntil(t, func() bool {
		r := e.run("", append(append([]string{"dev"}, flags...), "inbox", "alice")...)
		return r.code == 0 && (!demo || strings.Contains(r.stdout, "Please confirm"))
	})
	return flags, stop
}

// TestDev_OwnAgreement: a newcomer writes their own agreement and starts
// it in the running sandbox with "dev new"; both parties confirm from the
// terminal.
func TestDev_OwnAgreement(t *testing.T) {
	e := newEnv(t)
	dev, stop := startDevStop(t, e, "--no-demo")
	run := func(args ...string) string { return e.mustRun(append(append([]string{"dev"}, dev...), args...)...) }
	own := e.write("ours.txt", "Title: Saturday mornings\nFrom: Bob Example <bob@example.test>\nTo: Alice Example <alice@example.test>\nTime zone: Europe/Lisbon\n\n"+
		"What went wrong:\nI slept in and missed the market twice.\n\nI will:\n1. Set an alarm on Friday night.\n\nAlice will:\n1. Knock once at 8.\n\nCheck in: every Saturday at 12:00\n")
	if out := run("new", own); !strings.Contains(out, "as bob@example.test, with alice@example.test in Cc") {
		t.Fatalf("dev new: %q", out)
	}
	for _, user := range []string{"alice", "bob"} {
		// Alice has Bob's own message too, in Cc.
		n := ""
		waitUntil(t, func() bool {
			m := regexp.MustCompile(`(?m)^\s*(\d+) .*Please confirm: Saturday mornings`).FindStringSubmatch(run("inbox", user))
			if m != nil {
				n = m[1]
			}
			return m != nil
		})
		if out := run("reply", user, n, "I agree"); !strings.Contains(out, "Sent as "+user) {
			t.Fatalf("reply: %q", out)
		}
	}
	for _, user := range []string{"alice", "bob"} {
		waitUntil(t, func() bool { return strings.Contains(run("inbox", user), "Confirmed: Saturday mornings") })
	}
	for _, tt := range []struct {
		text, want string
	}{
		{"Title: T\nFrom: Carol <carol@example.test>\nTo: Alice <alice@example.test>\nTime zone: UTC\nWhat went wrong: x\nI will:\n- a\nAlice will:\n- b\nCheck in: daily at 8:00\n", "not a sandbox mailbox"},
		{"Title: T\nWhat went wrong: x\n", "is missing"},
	} {
		r := e.run("", append(append([]string{"dev"}, dev...), "new", e.write("bad.txt", tt.text))...)
		if r.code == 0 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("dev new with a bad file: exit %d %q, want an error naming %q", r.code, r.stderr, tt.want)
		}
	}
	out := stop().stdout
	for _, want := range []string{"No agreement yet", "dev --imap " + dev[1] + " --smtp " + dev[3] + " new FILE", "← bob@example.test: started", "→ alice@example.test: confirm-request"} {
		if !strings.Contains(out, want) {
			t.Errorf("dev did not show %q:\n%s", want, out)
		}
	}
}

// TestDev_Restart: the sandbox started again on its folder goes on with
// what it holds, and does not claim to have just asked anyone.
func TestDev_Restart(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	_, stop := startDevStop(t, e, "--dir", dir)
	if out := stop().stdout; !strings.Contains(out, "have each been asked to confirm the demo agreement") {
		t.Fatalf("first start:\n%s", out)
	}
	dev, stop := startDevStop(t, e, "--dir", dir)
	// The service runs on: Alice's "I agree" gets its receipt.
	e.mustRun(append(append([]string{"dev"}, dev...), "reply", "alice", "1", "I agree")...)
	waitUntil(t, func() bool {
		return strings.Contains(e.mustRun(append(append([]string{"dev"}, dev...), "inbox", "alice")...), "Recorded: Evenings and phone calls")
	})
	out := stop().stdout
	if strings.Contains(out, "have each been asked") || !strings.Contains(out, "goes on with what "+dir+" holds: 1 agreement,") {
		t.Fatalf("second start:\n%s", out)
	}
}

// TestProgramName: the commands the sandbox prints work as printed.
func TestProgramName(t *testing.T) {
	for _, tt := range []struct {
		exe      string
		inModule bool
		path     string
		want     string
	}{
		{"inwriting", false, "github.com/inwriting/inwriting/cmd/inwriting", "inwriting"},
		{"/usr/local/bin/inwriting", false, "", "/usr/local/bin/inwriting"},
		{"./inwriting", true, "", "./inwriting"},
		{"/tmp/go-build123/b001/exe/inwriting", true, "github.com/inwriting/inwriting/cmd/inwriting", "go run ./cmd/inwriting"},
		{"/tmp/go-build123/b001/exe/inwriting", false, "github.com/inwriting/inwriting/cmd/inwriting", "go run github.com/inwriting/inwriting/cmd/inwriting"},
	} {
		if got := main.ProgramName(tt.exe, tt.inModule, tt.path); got != tt.want {
			t.Errorf("programName(%q, %v, %q) = %q, want %q", tt.exe, tt.inModule, tt.path, got, tt.want)
		}
	}
}

func TestDev_Newcomer(t *testing.T) {
	e := newEnv(t)
	dev, stop := startDevStop(t, e)
	run := func(args ...string) string { return e.mustRun(append(append([]string{"dev"}, dev...), args...)...) }

	// Both parties read their copy and reply "I agree" from the terminal.
	for _, user := range []string{"alice", "bob"} {
		inbox := run("inbox", user)
		if !strings.Contains(inbox, "  1  ") || !strings.Contains(inbox, "Please confirm: Evenings and phone calls") {
			t.Fatalf("%s's inbox:\n%s", user, inbox)
		}
		mail := run("read", user, "1")
		for _, want := range []string{"Reply-To: \"inwriting\" <service+", "Reply \"I agree\" to confirm.", "Attached: agreement-1-v1.txt"} {
			if !strings.Contains(mail, want) {
				t.Fatalf("%s's mail lacks %q:\n%s", user, want, mail)
			}
		}
		if out := run("reply", user, "1", "I agree"); !strings.Contains(out, "Sent as "+user) {
			t.Fatalf("reply: %q", out)
		}
	}
	// Both receive the confirmed copy.
	for _, user := range []string{"alice", "bob"} {
		waitUntil(t, func() bool { return strings.Contains(run("inbox", user), "Confirmed: Evenings and phone calls") })
	}

	t.Run("Errors", func(t *testing.T) {
		for _, args := range [][]string{{"inbox", "carol"}, {"read", "alice", "x"}, {"reply", "alice", "1"}, {"frobnicate"}} {
			if r := e.run("", append(append([]string{"dev"}, dev...), args...)...); r.code != 2 {
				t.Fatalf("dev %v: exit %d", args, r.code)
			}
		}
		if r := e.run("", append(append([]string{"dev"}, dev...), "read", "alice", "99")...); r.code != 1 || !strings.Contains(r.stderr, "there is no mail 99") {
			t.Fatalf("read 99: exit %d %q", r.code, r.stderr)
		}
		if r := e.run("", "dev", "--imap", freeAddr(t), "inbox", "alice"); r.code != 1 || !strings.Contains(r.stderr, "the sandbox is not running") {
			t.Fatalf("no sandbox: exit %d %q", r.code, r.stderr)
		}
	})

	// The sandbox showed each mail in and out, a line each.
	out := stop().stdout
	for _, want := range []string{
		"→ alice@example.test: confirm-request", "→ bob@example.test: confirm-request",
		"← alice@example.test: confirmed", "← bob@example.test: confirmed",
		"→ alice@example.test: confirmed", "→ bob@example.test: confirmed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dev did not show %q:\n%s", want, out)
		}
	}
}

// TestDev_MailClient drives the sandbox with go-imap and go-mail on the
// printed ports, as a mail client would.
func TestDev_MailClient(t *testing.T) {
	e := newEnv(t)
	dev := startDev(t, e)
	imapAddr, smtpAddr := dev[1], dev[3]
	c, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("bob", sandbox.Password("bob")).Wait(); err != nil {
		t.Fatal(err)
	}
	if !c.Caps().Has(imap.CapIdle) || !c.Caps().Has(imap.CapMove) {
		t.Fatal("the sandbox lacks IDLE or MOVE")
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	// The sandbox's sender may not have delivered the copy yet.
	waitUntil(t, func() bool {
		c.Noop().Wait()
		return c.Mailbox().NumMessages >= 1
	})
	bufs, err := c.Fetch(imap.SeqSetNum(1), &imap.FetchOptions{Envelope: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil || len(bufs) != 1 {
		t.Fatalf("fetch: %v", err)
	}
	env := bufs[0].Envelope
	if len(env.ReplyTo) == 0 || !strings.HasPrefix(env.ReplyTo[0].Addr(), "service+") {
		t.Fatalf("Reply-To = %v", env.ReplyTo)
	}
	host, port, _ := net.SplitHostPort(smtpAddr)
	var p int
	fmt.Sscan(port, &p)
	m := gomail.NewMsg()
	m.From("bob@" + sandbox.Domain)
	m.To(env.ReplyTo[0].Addr())
	m.Subject("Re: " + env.Subject)
	m.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+env.MessageID+">")
	m.SetBodyString(gomail.TypeTextPlain, "1 kept? no: I agree except point 2\n")
	cl, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername("bob"), gomail.WithPassword(sandbox.Password("bob")))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.DialAndSend(m); err != nil {
		t.Fatal(err)
	}
	// Alice receives it as a comment; nobody confirmed anything.
	waitUntil(t, func() bool {
		r := e.run("", append(append([]string{"dev"}, dev...), "inbox", "alice")...)
		return regexp.MustCompile(`Bob wrote about: Evenings`).MatchString(r.stdout)
	})

	t.Run("NoAuthNoMail", func(t *testing.T) {
		cl, _ := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.NoTLS))
		m := gomail.NewMsg()
		m.From("mallory@evil.test")
		m.To("service@" + sandbox.Domain)
		m.SetBodyString(gomail.TypeTextPlain, "I agree")
		if err := cl.DialAndSend(m); err == nil {
			t.Fatal("the sandbox took mail without AUTH")
		}
	})
}

// TestDev_Speed runs the sandbox's clock 200,000 times faster: the 48-hour
// reminder to confirm comes within a second or two, and expiry after a
// week within a few more.
func TestDev_Speed(t *testing.T) {
	e := newEnv(t)
	dev := startDev(t, e, "--speed", "200000")
	inbox := func() string { return e.mustRun(append(append([]string{"dev"}, dev...), "inbox", "alice")...) }
	waitUntil(t, func() bool { return strings.Contains(inbox(), "Reminder, please confirm") })
	waitUntil(t, func() bool { return strings.Contains(inbox(), "Expired: Evenings") })
	if n := strings.Count(inbox(), "Reminder, please confirm"); n != 1 {
		t.Fatalf("%d reminders, want one", n)
	}
}
