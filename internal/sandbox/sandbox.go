// Package sandbox is the mail server of "inwriting dev": IMAP (go-imap's
// in-memory server) and SMTP (go-smtp) on loopback, delivering to local
// mailboxes with plus-addressing, so the service and two demo parties can
// exchange mail with no account anywhere.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Domain is the sandbox's mail domain.
const Domain = "example.test"

// Users are the sandbox's mailboxes: the service and two demo parties.
var Users = []string{"service", "alice", "bob"}

// Password returns user's password: fixed and printed, since the sandbox
// listens on loopback only.
func Password(user string) string { return "sandbox-" + user }

// Server is the sandbox mail server. Create it with New, then Start.
type Server struct {
	// IMAPAddr and SMTPAddr are where to listen; ":0" ports pick free ones.
	IMAPAddr string
	SMTPAddr string

	// Dir, if set, keeps the delivered mail as files, delivered again at
	// the next start (the service's exactly-once handling makes that
	// harmless); "" keeps everything in memory.
	Dir string

	Logger *log.Logger

	mem   *imapmemserver.Server
	users map[string]*imapmemserver.User
	imap  *imapserver.Server
	smtp  *smtp.Server
	lns   []net.Listener
	mu    sync.Mutex
	seq   int
}

// New returns a sandbox on the default ports: IMAP 127.0.0.1:2143 and SMTP
// 127.0.0.1:2525.
func New() *Server {
	return &Server{IMAPAddr: "127.0.0.1:2143", SMTPAddr: "127.0.0.1:2525", Logger: log.New(io.Discard, "", 0)}
}

// Start makes the mailboxes and starts listening.
func (s *Server) Start() error {
	for _, addr := range []string{s.IMAPAddr, s.SMTPAddr} {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("sandbox address %q: %w", addr, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return fmt.Errorf("the sandbox listens on loopback only, not %s", addr)
		}
	}
	s.mem = imapmemserver.New()
	s.users = map[string]*imapmemserver.User{}
	for _, name := range Users {
		u := imapmemserver.NewUser(name, Password(name))
		if err := u.Create("INBOX", nil); err != nil {
			return err
		}
		s.mem.AddUser(u)
		s.users[name] = u
	}
	s.imap = imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return imapSession{s.mem.NewSession().(imapserver.SessionIMAP4rev2)}, nil, nil
		},
		// IMAP4rev2 brings MOVE, UIDPLUS and IDLE, so the real poller runs
		// unchanged; rev1 too, for older clients.
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true, // loopback only, checked above
		Logger:       s.Logger,
	})
	iln, err := net.Listen("tcp", s.IMAPAddr)
	if err != nil {
		return fmt.Errorf("sandbox IMAP: %w", err)
	}
	s.lns = append(s.lns, iln)
	s.IMAPAddr = iln.Addr().String()

	s.smtp = smtp.NewServer(backend{s})
	s.smtp.Domain = "sandbox." + Domain
	s.smtp.AllowInsecureAuth = true
	s.smtp.MaxMessageBytes = 25 << 20
	s.smtp.MaxRecipients = 50
	s.smtp.ReadTimeout, s.smtp.WriteTimeout = time.Minute, time.Minute
	s.smtp.ErrorLog = s.Logger
	sln, err := net.Listen("tcp", s.SMTPAddr)
	if err != nil {
		iln.Close()
		return fmt.Errorf("sandbox SMTP: %w", err)
	}
	s.lns = append(s.lns, sln)
	s.SMTPAddr = sln.Addr().String()

	if err := s.reload(); err != nil {
		s.Close()
		return err
	}
	go s.imap.Serve(iln)
	go s.smtp.Serve(sln)
	return nil
}

// Close stops both servers.
func (s *Server) Close() error {
	var errs []error
	if s.imap != nil {
		errs = append(errs, s.imap.Close())
	}
	if s.smtp != nil {
		errs = append(errs, s.smtp.Close())
	}
	for _, ln := range s.lns {
		ln.Close()
	}
	return errors.Join(errs...)
}

// Deliver puts raw in the INBOX of the mailbox rcpt names
// (user+anything@Domain goes to user).
func (s *Server) Deliver(rcpt string, raw []byte) error {
	user, ok := s.mailboxOf(rcpt)
	if !ok {
		return fmt.Errorf("no mailbox %s", rcpt)
	}
	return s.deliver(user, rcpt, raw, true)
}

func (s *Server) deliver(user, rcpt string, raw []byte, save bool) error {
	msg := append([]byte("Delivered-To: "+rcpt+"\r\n"), raw...)
	if _, err := s.users[user].Append("INBOX", bytes.NewReader(msg), &imap.AppendOptions{Time: time.Now()}); err != nil {
		return err
	}
	if save && s.Dir != "" {
		s.mu.Lock()
		s.seq++
		name := fmt.Sprintf("%d-%06d.eml", time.Now().UnixNano(), s.seq)
		s.mu.Unlock()
		dir := filepath.Join(s.Dir, user)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), msg, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// reload delivers the mail kept in Dir again, oldest first.
func (s *Server) reload() error {
	if s.Dir == "" {
		return nil
	}
	for _, user := range Users {
		files, _ := filepath.Glob(filepath.Join(s.Dir, user, "*.eml"))
		sort.Strings(files)
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				return err
			}
			if _, err := s.users[user].Append("INBOX", bytes.NewReader(raw), &imap.AppendOptions{Time: time.Now()}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) mailboxOf(rcpt string) (string, bool) {
	local, domain, ok := strings.Cut(strings.ToLower(strings.Trim(rcpt, "<> ")), "@")
	if !ok || domain != Domain {
		return "", false
	}
	user, _, _ := strings.Cut(local, "+")
	_, ok = s.users[user]
	return user, ok
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s}, nil
}

// session accepts mail for the sandbox's mailboxes. Like a submission
// server it wants AUTH from a sandbox user before sending; unlike one it
// delivers only locally: mail for other domains is refused.
type session struct {
	s    *Server
	user string
	rcpt []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		name, _, _ := strings.Cut(strings.ToLower(username), "@")
		if _, ok := ss.s.users[name]; !ok || password != Password(name) {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "wrong user name or password"}
		}
		ss.user = name
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "log in first (AUTH PLAIN as service, alice or bob)"}
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if _, ok := ss.s.mailboxOf(to); !ok {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "the sandbox delivers only to service, alice and bob@" + Domain}
	}
	ss.rcpt = append(ss.rcpt, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	for _, rcpt := range ss.rcpt {
		if err := ss.s.Deliver(rcpt, raw); err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: err.Error()}
		}
	}
	return nil
}

func (ss *session) Reset()        { ss.rcpt = nil }
func (ss *session) Logout() error { return nil }

// Wait blocks until ctx ends, then closes the server.
func (s *Server) Wait(ctx context.Context) error {
	<-ctx.Done()
	return s.Close()
}

// imapSession is imapmemserver's session, whose IDLE also announces the
// mail that arrived since the client's last command (see Idle).
type imapSession struct{ imapserver.SessionIMAP4rev2 }

func (s imapSession) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	return Idle(s.SessionIMAP4rev2, w, stop)
}

// idleRecheck is how often an IDLE looks again for what its start missed.
const idleRecheck = time.Second

// Idle runs session s's IDLE so that it also announces the mail that
// arrived since the client's last command. imapmemserver's own IDLE
// announces only what arrives during it, so mail delivered between a
// client's NOOP and its IDLE would wait for the next mail; RFC 2177 lets
// a server announce it at once, and Dovecot does. It looks again every
// idleRecheck until stop.
func Idle(s imapserver.Session, w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	for {
		if err := s.Poll(w, true); err != nil {
			return err
		}
		pause := make(chan struct{})
		var once sync.Once
		end := func() { once.Do(func() { close(pause) }) }
		t := time.AfterFunc(idleRecheck, end)
		go func() {
			select {
			case <-stop:
				end()
			case <-pause:
			}
		}()
		err := s.Idle(w, pause)
		t.Stop()
		end()
		if err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		default:
		}
	}
}
