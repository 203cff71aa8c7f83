package mailout_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
	"github.com/inwriting/inwriting/mailout"
	"github.com/inwriting/inwriting/templates"
)

var Now = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// peer is an in-process SMTP server whose answer depends on the
// recipient's local part: ok…, temp… (451 at RCPT), perm… (550 at RCPT),
// bye… (421 at RCPT, then it hangs up), drop… (hangs up in the middle of
// DATA, once; then accepts).
type peer struct {
	mu       sync.Mutex
	accepted map[string]int // Message-ID → times accepted
	conns    int
	dropped  map[string]bool
	addr     string
	wire     bytes.Buffer // the protocol as the client wrote and the server answered it
}

// Write records the protocol (go-smtp's Debug output).
func (p *peer) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wire.Write(b)
}

func (p *peer) trace() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.wire.String()
}

func newPeer(t *testing.T) *peer {
	p := &peer{accepted: map[string]int{}, dropped: map[string]bool{}}
	s := smtp.NewServer(p)
	s.Domain = "peer.test"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.Debug = p
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return p
}

// newPipePeer returns a peer that listens in memory, and the Dial that
// reaches it: for tests in a synctest bubble, where a TCP socket's wait
// would not count as blocked.
func newPipePeer(t *testing.T) (*peer, func(ctx context.Context, network, addr string) (net.Conn, error)) {
	p := &peer{accepted: map[string]int{}, dropped: map[string]bool{}, addr: "peer.test:25"}
	s := smtp.NewServer(p)
	s.Domain = "peer.test"
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.Debug = p
	ln := &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return p, ln.dial
}

// pipeListener is a net.Listener whose connections are net.Pipe pairs.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "peer.test:25" }

func (p *peer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	p.mu.Lock()
	p.conns++
	p.mu.Unlock()
	return &session{p: p, c: c}, nil
}

func (p *peer) times(msgID string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted[msgID]
}

type session struct {
	p       *peer
	c       *smtp.Conn
	to      string
	closing bool // it answered 421: it hangs up at the client's next command
}

// hangUp closes the connection if the session said 421 before.
func (s *session) hangUp() {
	if s.closing {
		s.c.Conn().Close() // the socket: Conn.Close waits for this command
	}
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error { s.hangUp(); return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = to
	switch {
	case strings.HasPrefix(to, "temp"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	case strings.HasPrefix(to, "perm"):
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	case strings.HasPrefix(to, "bye"):
		s.closing = true
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "closing, too busy"}
	}
	return nil
}
func (s *session) Data(r io.Reader) error {
	if strings.HasPrefix(s.to, "drop") {
		s.p.mu.Lock()
		first := !s.p.dropped[s.to]
		s.p.dropped[s.to] = true
		s.p.mu.Unlock()
		if first {
			buf := make([]byte, 100)
			io.ReadFull(r, buf)
			s.c.Close()
			return errors.New("dropped")
		}
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return err
	}
	s.p.mu.Lock()
	s.p.accepted[m.Header.Get("Message-ID")]++
	s.p.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.hangUp() }
func (s *session) Logout() error { return nil }

// setup returns a store with one agreement per pair of addresses, and a
// sender to peer.
func setup(t *testing.T, p *peer, pairs ...[2]string) (*agreements.DB, *mailout.Sender) {
	t.Helper()
	db := agreements.NewDB(filepath.Join(t.TempDir(), "db"))
	db.Reader = mailin.Reader{}
	db.Now = func() time.Time { return Now }
	db.MessageIDDomain = "example.test"
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, pair := range pairs {
		terms := agreements.Terms{
			Title: "Calls", WhatWentWrong: "I did not call.",
			Parties: []agreements.Party{
				{Name: "A", Address: pair[0], TimeZone: "UTC", Commitments: []string{"Call."}},
				{Name: "B", Address: pair[1], TimeZone: "UTC", Commitments: []string{"Ask."}},
			},
			CheckIn: agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 19},
		}
		if _, err := db.CreateAgreement(context.Background(), terms); err != nil {
			t.Fatal(err)
		}
	}
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	c := &mailout.Composer{Identity: mailout.Identity{Address: "service@example.test", Name: "inwriting"}, Templates: set}
	s := mailout.NewSender(db, c)
	s.Addr = p.addr
	s.TLS = mailout.TLSNone
	s.Now = func() time.Time { return Now }
	s.Timeout = 5 * time.Second
	if !testing.Verbose() {
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return db, s
}

func mails(t *testing.T, db *agreements.DB) map[string]*agreements.OutboxMail {
	t.Helper()
	ms, err := db.FindOutbox(context.Background(), agreements.OutboxFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byTo := map[string]*agreements.OutboxMail{}
	for _, m := range ms {
		byTo[m.To] = m
	}
	return byTo
}

func TestSender(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		p := newPeer(t)
		db, s := setup(t, p, [2]string{"ok1@example.test", "ok2@example.test"}, [2]string{"ok3@example.test", "ok4@example.test"})
		n, err := s.Drain(ctx)
		if err != nil || n != 4 {
			t.Fatalf("Drain = %d, %v", n, err)
		}
		for to, m := range mails(t, db) {
			if m.Status != agreements.MailSent || p.times("<"+m.MessageID+">") != 1 || len(m.Raw) == 0 {
				t.Fatalf("%s: status %s, accepted %d times", to, m.Status, p.times("<"+m.MessageID+">"))
			}
		}
		if p.conns != 1 {
			t.Fatalf("connections = %d, want 1 for the batch", p.conns)
		}
		// RFC 5321 §4.1.2: the paths are in angle brackets (mox refuses
		// them bare with 501).
		for _, want := range []string{"MAIL FROM:<service@example.test>", "RCPT TO:<ok1@example.test>"} {
			if !strings.Contains(p.trace(), want) {
				t.Fatalf("the client never wrote %q:\n%s", want, p.trace())
			}
		}
		// Nothing is due: a second drain sends nothing.
		if n, _ := s.Drain(ctx); n != 0 {
			t.Fatalf("second Drain = %d", n)
		}
	})

	t.Run("Temporary451", func(t *testing.T) {
		p := newPeer(t)
		db, s := setup(t, p, [2]string{"ok1@example.test", "temp1@example.test"})
		s.Drain(ctx)
		m := mails(t, db)["temp1@example.test"]
		if m.Status != agreements.MailPending || m.Attempts != 1 || !strings.Contains(m.LastError, "451") || !m.NextAttemptAt.After(Now) {
			t.Fatalf("451 mail = status %s attempts %d error %q next %v", m.Status, m.Attempts, m.LastError, m.NextAttemptAt)
		}
		if d := m.NextAttemptAt.Sub(Now); d < 45*time.Second || d > 75*time.Second {
			t.Fatalf("first retry in %v, want about a minute", d)
		}
		if mails(t, db)["ok1@example.test"].Status != agreements.MailSent {
			t.Fatal("the other mail of the batch was not sent")
		}
		// Past the retry window it fails for good.
		late := Now.Add(73 * time.Hour)
		db.Now = func() time.Time { return late }
		s.Now = db.Now
		s.Drain(ctx)
		m = mails(t, db)["temp1@example.test"]
		if m.Status != agreements.MailFailed || m.Attempts != 2 {
			t.Fatalf("after 3 days: status %s attempts %d", m.Status, m.Attempts)
		}
	})

	t.Run("Permanent550", func(t *testing.T) {
		p := newPeer(t)
		db, s := setup(t, p, [2]string{"perm1@example.test", "ok1@example.test"})
		s.Drain(ctx)
		m := mails(t, db)["perm1@example.test"]
		if m.Status != agreements.MailFailed || m.Attempts != 1 || !strings.Contains(m.LastError, "550") || !strings.Contains(m.LastError, "no such user") {
			t.Fatalf("550 mail = status %s attempts %d error %q", m.Status, m.Attempts, m.LastError)
		}
		if mails(t, db)["ok1@example.test"].Status != agreements.MailSent {
			t.Fatal("the mail after the 550 in the same connection was not sent")
		}
	})

	t.Run("Closing421", func(t *testing.T) {
		p := newPeer(t)
		db, s := setup(t, p, [2]string{"bye1@example.test", "ok1@example.test"})
		s.Drain(ctx)
		by := mails(t, db)
		if m := by["bye1@example.test"]; m.Status != agreements.MailPending || !strings.Contains(m.LastError, "421") {
			t.Fatalf("421 mail = status %s error %q", m.Status, m.LastError)
		}
		if m := by["ok1@example.test"]; m.Status != agreements.MailSent || p.times("<"+m.MessageID+">") != 1 {
			t.Fatalf("the mail after a 421 = %s (reconnects: %d connections)", m.Status, p.conns)
		}
	})

	t.Run("DropMidData", func(t *testing.T) {
		p := newPeer(t)
		db, s := setup(t, p, [2]string{"drop1@example.test", "ok1@example.test"})
		s.Drain(ctx)
		m := mails(t, db)["drop1@example.test"]
		if m.Status != agreements.MailPending || m.Attempts != 1 || p.times("<"+m.MessageID+">") != 0 {
			t.Fatalf("dropped mail = status %s attempts %d accepted %d", m.Status, m.Attempts, p.times("<"+m.MessageID+">"))
		}
		first := m.Raw
		// At its retry time it goes through, once, with the same bytes.
		later := m.NextAttemptAt
		db.Now = func() time.Time { return later }
		s.Now = db.Now
		s.Drain(ctx)
		m = mails(t, db)["drop1@example.test"]
		if m.Status != agreements.MailSent || p.times("<"+m.MessageID+">") != 1 || !bytes.Equal(m.Raw, first) {
			t.Fatalf("retried mail = status %s accepted %d", m.Status, p.times("<"+m.MessageID+">"))
		}
		for to, m := range mails(t, db) {
			if got := p.times("<" + m.MessageID + ">"); got != 1 {
				t.Fatalf("%s accepted %d times, want 1", to, got)
			}
		}
	})

	t.Run("ServerDown", func(t *testing.T) {
		p := newPeer(t)
		db, s := setup(t, p, [2]string{"ok1@example.test", "ok2@example.test"})
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		s.Addr = ln.Addr().String()
		ln.Close() // nothing listens there now
		s.Drain(ctx)
		for to, m := range mails(t, db) {
			if m.Status != agreements.MailPending || m.Attempts != 1 || !strings.Contains(m.LastError, "network") {
				t.Fatalf("%s = status %s attempts %d error %q", to, m.Status, m.Attempts, m.LastError)
			}
		}
	})

	t.Run("TLSRequired", func(t *testing.T) {
		p := newPeer(t)
		db, s := setup(t, p, [2]string{"ok1@example.test", "ok2@example.test"})
		s.TLS = mailout.TLSStartTLS // the peer offers no STARTTLS
		s.Drain(ctx)
		for to, m := range mails(t, db) {
			if m.Status != agreements.MailPending || !strings.Contains(m.LastError, "STARTTLS") {
				t.Fatalf("%s = status %s error %q; plain text must not be used", to, m.Status, m.LastError)
			}
		}
		if len(p.accepted) != 0 {
			t.Fatal("mail went out without TLS")
		}
	})

	// RunAndNotify runs in a bubble of its own: the peer is in memory and
	// the clock is synctest's, so "without waiting an Interval" is a
	// fact of the clock, not a matter of how busy the machine is.
	t.Run("RunAndNotify", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			p, dial := newPipePeer(t)
			db, s := setup(t, p, [2]string{"ok1@example.test", "ok2@example.test"})
			s.Dial = dial
			s.Interval = time.Hour
			db.Mailer = s
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			start := time.Now()
			go func() { done <- s.Run(ctx) }()
			synctest.Wait()
			if ms, _ := db.FindOutbox(ctx, agreements.OutboxFilter{Status: agreements.MailSent}); len(ms) != 2 {
				t.Fatalf("Run sent %d of the 2 mails waiting when it started", len(ms))
			}
			// Mail queued while Run waits goes out without waiting an Interval.
			terms, _ := db.FindAgreementByID(ctx, 1)
			nt := terms.Terms
			nt.Title = "Calls, amended"
			if _, err := db.AmendAgreement(ctx, 1, nt); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
			if ms, _ := db.FindOutbox(ctx, agreements.OutboxFilter{Status: agreements.MailSent}); len(ms) != 4 {
				t.Fatalf("sent %d of 4 mails", len(ms))
			}
			if waited := time.Since(start); waited >= s.Interval {
				t.Fatalf("the mail waited %v, an Interval", waited)
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	})
}
