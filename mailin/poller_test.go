package mailin_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailstack"
	"github.com/inwriting/inwriting/internal/mailtest"
	"github.com/inwriting/inwriting/internal/sandbox"
	"github.com/inwriting/inwriting/mailin"
)

// imapServer is a server the poller's suite runs against: the in-process
// go-imap server, and Dovecot from the mail stack when it is up.
type imapServer struct {
	name     string
	addr     string
	mode     mailin.TLSMode
	poller   func(p *mailin.Poller) // sets TLS and credentials
	user     string
	password string
	domain   string
	dial     func() (*imapclient.Client, error)
}

// client returns a client logged in as the service, closed when t ends.
func (s *imapServer) client(t *testing.T) *imapclient.Client {
	c, err := s.dial()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(s.user, s.password).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func quietLogger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// bareNo is a session that refuses to create a mailbox that exists with a
// bare NO, without the optional ALREADYEXISTS code (RFC 5530), as mox and
// maddy do.
type bareNo struct{ imapserver.Session }

func (s bareNo) Create(name string, opts *imap.CreateOptions) error {
	err := s.Session.Create(name, opts)
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
		return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Mailbox already exists"}
	}
	return err
}

// TestPoller_FoldersExist: a restart finds its folders there, on a server
// that says so with a bare NO; the poller goes on reading.
func TestPoller_FoldersExist(t *testing.T) {
	s := memServer(t, nil, func(ss imapserver.Session) imapserver.Session { return bareNo{ss} })
	w := newWorld(t, s)
	w.runOnce() // creates the folders
	a, aid := w.reply("alice@"+s.domain, 0, "I agree")
	w.append(a)
	w.runOnce() // as after a restart: CREATE is refused, LIST finds them
	if w.confirmations() != 1 || w.count("Processed", aid) != 1 {
		t.Fatalf("%d confirmations, %d processed after a restart", w.confirmations(), w.count("Processed", aid))
	}
}

// memServer starts go-imap's in-memory server on loopback with caps (nil:
// IMAP4rev1 only, without MOVE and UIDPLUS); wrap, if given, wraps each
// session.
func memServer(t *testing.T, caps imap.CapSet, wrap ...func(imapserver.Session) imapserver.Session) *imapServer {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("service", "pw")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			var ss imapserver.Session = mem.NewSession()
			for _, w := range wrap {
				ss = w(ss)
			}
			return ss, nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s := &imapServer{name: "memserver", addr: ln.Addr().String(), mode: mailin.TLSNone, user: "service", password: "pw", domain: "example.test"}
	s.poller = func(p *mailin.Poller) { p.TLS, p.Username, p.Password = mailin.TLSNone, s.user, s.password }
	s.dial = func() (*imapclient.Client, error) { return imapclient.DialInsecure(s.addr, nil) }
	return s
}

// dovecot returns the mail stack's Dovecot, or nil when the stack is not
// up (and not required).
func dovecot(t *testing.T) *imapServer {
	st, err := mailstack.Find()
	if err != nil {
		return nil
	}
	s := &imapServer{name: "dovecot", addr: st.IMAP, mode: mailin.TLSStartTLS, user: "service", password: st.Password("service"), domain: st.Domain}
	s.poller = func(p *mailin.Poller) {
		p.TLS, p.TLSConfig, p.Username, p.Password = mailin.TLSStartTLS, st.TLS, s.user, s.password
	}
	s.dial = func() (*imapclient.Client, error) {
		return imapclient.DialStartTLS(st.IMAP, &imapclient.Options{TLSConfig: st.TLS})
	}
	return s
}

// sandboxServer starts the dev sandbox's mail server on free ports.
func sandboxServer(t *testing.T) *imapServer {
	srv := sandbox.New()
	srv.IMAPAddr, srv.SMTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := &imapServer{name: "sandbox", addr: srv.IMAPAddr, mode: mailin.TLSNone, user: "service", password: sandbox.Password("service"), domain: sandbox.Domain}
	s.poller = func(p *mailin.Poller) { p.TLS, p.Username, p.Password = mailin.TLSNone, s.user, s.password }
	s.dial = func() (*imapclient.Client, error) { return imapclient.DialInsecure(s.addr, nil) }
	return s
}

// forEachServer runs fn against every server the suite has.
func forEachServer(t *testing.T, fn func(t *testing.T, s *imapServer)) {
	t.Run("memserver", func(t *testing.T) { fn(t, memServer(t, imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}})) })
	t.Run("sandbox", func(t *testing.T) { fn(t, sandboxServer(t)) })
	t.Run("dovecot", func(t *testing.T) {
		s := dovecot(t)
		if s == nil {
			mailstack.Require(t) // skips, or fails when the stack is required
		}
		fn(t, s)
	})
}

func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// world is one test's store, agreement and mailbox.
type world struct {
	t       *testing.T
	s       *imapServer
	db      *agreements.DB
	a       *agreements.Agreement
	mailbox string
	recv    *mailin.Receiver
	tokens  [2]string
	c       *imapclient.Client // the test's own client, made on first use
}

func (w *world) imap() *imapclient.Client {
	if w.c == nil {
		w.c = w.s.client(w.t)
	}
	return w.c
}

func newWorld(t *testing.T, s *imapServer) *world {
	ctx := context.Background()
	db := agreements.NewDB(filepath.Join(t.TempDir(), "db"))
	db.Reader = mailin.Reader{}
	db.ServiceAddress = "service@" + s.domain
	db.Logger = quietLogger()
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	a, err := db.CreateAgreement(ctx, agreements.Terms{
		Title: "Calls", WhatWentWrong: "I did not call.",
		Parties: []agreements.Party{
			{Name: "Alice", Address: "alice@" + s.domain, TimeZone: "UTC", Commitments: []string{"Call."}},
			{Name: "Bob", Address: "bob@" + s.domain, TimeZone: "UTC", Commitments: []string{"Ask."}},
		},
		CheckIn: agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 19},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, s: s, db: db, a: a, mailbox: randomName("Test-")}
	ms, _ := db.FindOutbox(ctx, agreements.OutboxFilter{})
	for _, m := range ms {
		if m.To == a.Terms.Parties[0].Address {
			w.tokens[0] = m.ReplyToken
		} else {
			w.tokens[1] = m.ReplyToken
		}
	}
	c := s.client(t)
	if err := c.Create(w.mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Delete(w.mailbox).Wait() })
	w.recv = &mailin.Receiver{Store: db, Address: "service@" + s.domain}
	return w
}

// reply is a raw reply from from, to party i's reply address, saying text.
func (w *world) reply(from string, i int, text string) ([]byte, string) {
	id := randomName("reply.") + "@" + w.s.domain
	raw := fmt.Sprintf("From: %s\r\nTo: service+%s@%s\r\nSubject: Re: Please confirm\r\nMessage-ID: <%s>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n\r\nOn Fri, Nov 27, 2026 at 9:00 AM inwriting <service@%s> wrote:\r\n> Please confirm\r\n",
		from, w.tokens[i], w.s.domain, id, text, w.s.domain)
	return []byte(raw), id
}

func (w *world) append(raw []byte) {
	w.t.Helper()
	c := w.imap()
	cmd := c.Append(w.mailbox, int64(len(raw)), nil)
	cmd.Write(raw)
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		w.t.Fatal(err)
	}
}

// count returns how many of the Message-IDs are in folder.
func (w *world) count(folder string, ids ...string) int {
	w.t.Helper()
	c := w.imap()
	if _, err := c.Select(folder, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		w.t.Fatal(err)
	}
	n := 0
	for _, id := range ids {
		data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}, NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
		if err != nil {
			w.t.Fatal(err)
		}
		n += len(data.AllUIDs())
	}
	return n
}

func (w *world) poller(h mailin.Handler) *mailin.Poller {
	if h == nil {
		h = w.recv
	}
	p := mailin.NewPoller(w.s.addr, h)
	w.s.poller(p)
	p.Mailbox = w.mailbox
	p.Logger = quietLogger()
	p.MinBackoff = 10 * time.Millisecond
	p.MaxBackoff = 100 * time.Millisecond
	return p
}

func (w *world) runOnce() {
	w.t.Helper()
	if err := w.poller(nil).RunOnce(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) confirmations() int {
	w.t.Helper()
	cs, err := w.db.FindConfirmations(context.Background(), w.a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return len(cs)
}

func (w *world) inboxRows() int {
	w.t.Helper()
	var n int
	if err := w.db.SQL().QueryRow(`SELECT COUNT(*) FROM inbox`).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func TestPoller(t *testing.T) {
	forEachServer(t, func(t *testing.T, s *imapServer) {
		t.Run("ConfirmByMail", func(t *testing.T) {
			w := newWorld(t, s)
			a, aid := w.reply("Alice <alice@"+s.domain+">", 0, "I agree")
			b, bid := w.reply("bob@"+s.domain, 1, "Agreed.")
			w.append(a)
			w.append(b)
			w.runOnce()
			got, err := w.db.FindAgreementByID(context.Background(), w.a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != agreements.StatusActive || w.confirmations() != 2 {
				t.Fatalf("status %s with %d confirmations", got.Status, w.confirmations())
			}
			if n := w.count("Processed", aid, bid); n != 2 {
				t.Fatalf("Processed holds %d of 2", n)
			}
			if n := w.count(w.mailbox, aid, bid); n != 0 {
				t.Fatalf("the mailbox still holds %d", n)
			}
		})

		t.Run("SortedByOutcome", func(t *testing.T) {
			w := newWorld(t, s)
			spoof, sid := w.reply("\"alice@"+s.domain+"\" <mallory@evil.test>", 0, "I agree")
			stranger := []byte(fmt.Sprintf("From: stranger@else.test\r\nTo: service@%s\r\nSubject: hi\r\nMessage-ID: <%s>\r\n\r\nhello\r\n", s.domain, "stranger."+randomName("")+"@x"))
			w.append(spoof)
			w.append(stranger)
			w.runOnce()
			if w.confirmations() != 0 {
				t.Fatal("a forged reply confirmed")
			}
			if n := w.count("Rejected", sid); n != 1 {
				t.Fatalf("Rejected holds %d of the forged reply", n)
			}
			if w.inboxRows() != 2 {
				t.Fatalf("inbox rows = %d, want 2", w.inboxRows())
			}
		})

		t.Run("TwiceOverTheSameMessages", func(t *testing.T) {
			w := newWorld(t, s)
			a, aid := w.reply("alice@"+s.domain, 0, "I agree")
			w.append(a)
			w.runOnce()
			w.append(a) // the same message again (a copy, a reply-all twice)
			w.runOnce()
			w.runOnce()
			if w.confirmations() != 1 || w.inboxRows() != 1 {
				t.Fatalf("%d confirmations, %d inbox rows; want 1 and 1", w.confirmations(), w.inboxRows())
			}
			if n := w.count("Processed", aid); n != 2 {
				t.Fatalf("Processed holds %d copies, want both moved", n)
			}
		})

		t.Run("CrashAfterCommitBeforeMove", func(t *testing.T) {
			w := newWorld(t, s)
			a, aid := w.reply("alice@"+s.domain, 0, "I agree")
			w.append(a)
			// The first poller commits and dies before it moves anything.
			crash := &crashAfterCommit{Receiver: w.recv}
			if err := w.poller(crash).RunOnce(context.Background()); err == nil {
				t.Fatal("the crashing poller did not fail")
			}
			if w.confirmations() != 1 || w.count(w.mailbox, aid) != 1 {
				t.Fatalf("after the crash: %d confirmations, %d in the mailbox", w.confirmations(), w.count(w.mailbox, aid))
			}
			w.runOnce()
			if w.confirmations() != 1 || w.inboxRows() != 1 || w.count("Processed", aid) != 1 || w.count(w.mailbox, aid) != 0 {
				t.Fatalf("after restart: %d confirmations, %d rows, %d processed", w.confirmations(), w.inboxRows(), w.count("Processed", aid))
			}
		})

		t.Run("UIDValidityChange", func(t *testing.T) {
			w := newWorld(t, s)
			a, _ := w.reply("alice@"+s.domain, 0, "I agree")
			b, _ := w.reply("bob@"+s.domain, 1, "I agree")
			w.append(a)
			w.runOnce()
			// The mailbox is recreated (new UIDVALIDITY) and holds the old
			// message again, and a new one.
			c := w.imap()
			if _, err := c.Select("INBOX", nil).Wait(); err != nil { // leave the mailbox before deleting it
				t.Fatal(err)
			}
			if err := c.Delete(w.mailbox).Wait(); err != nil {
				t.Fatal(err)
			}
			if err := c.Create(w.mailbox, nil).Wait(); err != nil {
				t.Fatal(err)
			}
			w.append(a)
			w.append(b)
			w.runOnce()
			if w.confirmations() != 2 || w.inboxRows() != 2 {
				t.Fatalf("%d confirmations, %d rows; want 2 and 2", w.confirmations(), w.inboxRows())
			}
		})

		t.Run("IdleAndReconnect", func(t *testing.T) {
			w := newWorld(t, s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			passes := make(chan struct{}, 100)
			p := w.poller(nil)
			p.PollInterval = time.Hour // only IDLE can bring the mail in time
			if s.name != "dovecot" {
				// go-imap's in-memory server announces nothing that arrives
				// while an IDLE is starting (it registers the IDLE after
				// answering "+ idling"); Dovecot does not have that gap.
				p.IdleTimeout = time.Second
			}
			p.Passed = func() { passes <- struct{}{} }
			done := make(chan error)
			go func() { done <- p.Run(ctx) }()
			<-passes
			a, aid := w.reply("alice@"+s.domain, 0, "I agree")
			w.append(a)
			afterPasses(t, passes, func() bool { return w.count("Processed", aid) == 1 })
			if w.confirmations() != 1 {
				t.Fatalf("%d confirmations", w.confirmations())
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})

		t.Run("DropMidFetch", func(t *testing.T) {
			w := newWorld(t, s)
			var ids []string
			for i := range 6 {
				raw, id := w.reply("alice@"+s.domain, i%2, "I agree")
				if i%2 == 1 {
					raw, id = w.reply("bob@"+s.domain, 1, fmt.Sprintf("Comment %d: can we talk?", i))
				}
				w.append(raw)
				ids = append(ids, id)
			}
			// A proxy that cuts every connection after a few KB, until it
			// has cut three.
			proxy := newCuttingProxy(t, s.addr, 3000, 3)
			p := w.poller(nil)
			p.Addr = proxy
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p.Batch = 1
			passes := make(chan struct{}, 100)
			p.Passed = func() { passes <- struct{}{} }
			done := make(chan error)
			go func() { done <- p.Run(ctx) }()
			afterPasses(t, passes, func() bool { return w.count("Processed", ids...) == len(ids) })
			cancel()
			<-done
			if w.inboxRows() != len(ids) || w.confirmations() != 1 {
				t.Fatalf("%d rows (want %d), %d confirmations (want 1)", w.inboxRows(), len(ids), w.confirmations())
			}
		})
	})
}

// TestPoller_NoMove runs against a server without MOVE or UIDPLUS: the
// poller copies, flags the original \Deleted, and expunges nothing.
func TestPoller_NoMove(t *testing.T) {
	s := memServer(t, nil)
	w := newWorld(t, s)
	a, aid := w.reply("alice@"+s.domain, 0, "I agree")
	w.append(a)
	w.runOnce()
	w.runOnce()
	if w.confirmations() != 1 || w.inboxRows() != 1 || w.count("Processed", aid) != 1 {
		t.Fatalf("%d confirmations, %d rows, %d processed", w.confirmations(), w.inboxRows(), w.count("Processed", aid))
	}
	c := s.client(t)
	if _, err := c.Select(w.mailbox, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := c.UIDSearch(&imap.SearchCriteria{Flag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(data.AllUIDs()) != 1 {
		t.Fatalf("%d messages left flagged \\Deleted, want the original", len(data.AllUIDs()))
	}
}

// crashAfterCommit handles a message, then fails as if the process died
// before the MOVE.
type crashAfterCommit struct{ *mailin.Receiver }

func (c *crashAfterCommit) Deliver(ctx context.Context, d mailin.Delivery) (agreements.Folder, error) {
	if _, err := c.Receiver.Deliver(ctx, d); err != nil {
		return "", err
	}
	return "", errors.New("killed after commit")
}

// afterPasses checks cond after each pass of the poller that sends on
// passes, until it holds. It waits on the poller, not on the clock: the
// two minutes are there to end a test that would otherwise hang, not to
// judge a busy machine.
func afterPasses(t *testing.T, passes <-chan struct{}, cond func() bool) {
	t.Helper()
	hang := time.NewTimer(2 * time.Minute)
	defer hang.Stop()
	for !cond() {
		select {
		case <-passes:
		case <-hang.C:
			t.Fatal("the poller made no pass that did it in two minutes: it hangs")
		}
	}
}

// newCuttingProxy forwards to target and cuts each of the first cuts
// connections after limit bytes from the server.
func newCuttingProxy(t *testing.T, target string, limit int64, cuts int) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	left := cuts
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			cut := left > 0
			left--
			mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() {
				if cut {
					io.CopyN(in, out, limit)
				} else {
					io.Copy(in, out)
				}
				in.Close()
				out.Close()
			}()
		}
	}()
	return ln.Addr().String()
}

// noCreate is a session that cannot create a folder, not even one that
// exists: a poller on it cannot start.
type noCreate struct{ imapserver.Session }

func (s noCreate) Create(name string, opts *imap.CreateOptions) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "Permission denied"}
}

// TestPoller_Status: a running poller says whether it is connected, and
// since when it is not and why, for serve's readiness check; one that
// cannot make its folders never counts as connected.
func TestPoller_Status(t *testing.T) {
	for _, tt := range []struct {
		name      string
		wrap      []func(imapserver.Session) imapserver.Session
		connected bool
	}{
		{"Connects", nil, true},
		{"CannotMakeFolders", []func(imapserver.Session) imapserver.Session{func(ss imapserver.Session) imapserver.Session { return noCreate{ss} }}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := memServer(t, nil, tt.wrap...)
			p := mailin.NewPoller(s.addr, nil)
			s.poller(p)
			p.Logger = quietLogger()
			if st := p.Status(); st.Started || st.Connected {
				t.Fatalf("before Run: %+v", st)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- p.Run(ctx) }()
			defer func() { cancel(); <-done }()
			mailtest.Eventually(t, "the poller's first try", func() bool { return p.Status().Started })
			st := p.Status()
			if st.Connected != tt.connected || st.Since.IsZero() || (st.Err == nil) == !tt.connected {
				t.Fatalf("status = %+v, want connected %v", st, tt.connected)
			}
			if !tt.connected && !strings.Contains(st.Err.Error(), "create folder") {
				t.Fatalf("err = %v, want it to name the folder it could not make", st.Err)
			}
		})
	}
}

// lagging is a session whose first pass search after hide is set finds
// nothing (the poller's search: every message not \Deleted, by no
// header): a server that announces a message before its searches see it.
// Its IDLE announces what arrived before it began, as the sandbox's does
// (go-imap's in-memory server alone would miss mail that arrives while an
// IDLE starts).
type lagging struct {
	imapserver.Session
	hide *atomic.Bool
}

func (s *lagging) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	return sandbox.Idle(s.Session, w, stop)
}

func (s *lagging) Search(kind imapserver.NumKind, criteria *imap.SearchCriteria, options *imap.SearchOptions) (*imap.SearchData, error) {
	if len(criteria.Header) == 0 && slices.Contains(criteria.NotFlag, imap.FlagDeleted) && s.hide.CompareAndSwap(true, false) {
		// A search that matches nothing: no message has UID 2^32-1.
		criteria = &imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(^imap.UID(0))}}
	}
	return s.Session.Search(kind, criteria, options)
}

// TestPoller_AnnouncedBeforeVisible: when new mail is announced but the
// search after it does not find it yet, the poller looks again a moment
// later, instead of waiting for the next mail or the IDLE's end.
func TestPoller_AnnouncedBeforeVisible(t *testing.T) {
	var hide atomic.Bool
	s := memServer(t, imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}}, func(ss imapserver.Session) imapserver.Session { return &lagging{Session: ss, hide: &hide} })
	w := newWorld(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	passes := make(chan struct{}, 100)
	p := w.poller(nil)
	p.PollInterval, p.IdleTimeout = time.Hour, time.Hour // only the announcement and the look again can bring it in
	p.Passed = func() { passes <- struct{}{} }
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	<-passes
	hide.Store(true)
	a, aid := w.reply("alice@"+s.domain, 0, "I agree")
	w.append(a)
	afterPasses(t, passes, func() bool { return w.count("Processed", aid) == 1 })
	if hide.Load() {
		t.Fatal("no search of the poller's was hidden: the test tested nothing")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
