package mailin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/inwriting/inwriting/agreements"
)

// Handler takes the messages the poller fetches. *Receiver meets it.
type Handler interface {
	// Handled reports whether the message at uid was handled before, and
	// where it went.
	Handled(ctx context.Context, mailbox string, uidValidity, uid uint32) (agreements.Folder, bool, error)
	// Deliver handles a message and returns the folder to move it to. An
	// error leaves the message where it is, to be handled again.
	Deliver(ctx context.Context, d Delivery) (agreements.Folder, error)
}

// TLSMode is how the poller secures its IMAP connection.
type TLSMode string

// The TLS modes.
const (
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (port 993), the default
	TLSStartTLS TLSMode = "starttls" // STARTTLS, required
	TLSNone     TLSMode = "none"     // plain text; only for a server on loopback
)

// Poller fetches new mail from one mailbox and hands it to a Handler,
// moving each message to a folder after its handling is committed. It
// uses IDLE when the server offers it, and reconnects with backoff after
// any error. Set the fields, then call Run.
type Poller struct {
	Addr      string // host:port
	TLS       TLSMode
	TLSConfig *tls.Config // nil: verify the server as Addr's host
	Username  string
	Password  string
	Mailbox   string // default INBOX

	Handler Handler

	MaxSize      int64         // larger messages are fetched header only
	Batch        int           // UIDs handled per FETCH
	PollInterval time.Duration // without IDLE
	// IdleTimeout is how long one IDLE lasts before a liveness check and
	// a pass over the mailbox. It bounds how long mail that the server
	// did not announce waits: maddy, like go-imap's in-memory server,
	// does not announce mail that arrived between the NOOP before an IDLE
	// and the IDLE's start.
	IdleTimeout    time.Duration
	CommandTimeout time.Duration // a command that takes longer means a dead connection
	MinBackoff     time.Duration
	MaxBackoff     time.Duration

	Logger *slog.Logger

	// Passed, if set, is called after each complete pass over the mailbox
	// (tests and benchmarks wait on it).
	Passed func()

	// Changed, if set, is called when the poller connects (err nil) and
	// each time a session or a try to open one fails (err): for metrics.
	Changed func(err error)

	mu     sync.Mutex
	status Status
}

// Status is how a running poller stands, for a readiness check.
type Status struct {
	Started   bool      // Run has tried to connect
	Connected bool      // a session is open: logged in, folders made, mailbox selected
	Since     time.Time // when it connected, or when it last failed to
	Err       error     // why it is not connected
}

// Status returns how the poller stands.
func (p *Poller) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// setStatus records a connection, or the start of an outage (err): an
// outage lasts from its first failure until the next connection.
func (p *Poller) setStatus(connected bool, err error) {
	if p.Changed != nil {
		p.Changed(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if connected || p.status.Connected || !p.status.Started {
		p.status.Since = time.Now()
	}
	p.status.Started, p.status.Connected, p.status.Err = true, connected, err
}

// NewPoller returns a poller with the defaults: implicit TLS, INBOX,
// IDLE for a minute at a time, polling every minute without IDLE.
func NewPoller(addr string, h Handler) *Poller {
	return &Poller{
		Addr: addr, TLS: TLSImplicit, Mailbox: "INBOX", Handler: h,
		MaxSize: DefaultMaxSize, Batch: 50, PollInterval: time.Minute, IdleTimeout: time.Minute,
		CommandTimeout: 30 * time.Second, MinBackoff: time.Second, MaxBackoff: 2 * time.Minute,
		Logger: slog.Default(),
	}
}

// Folders is where handled mail goes.
var Folders = []agreements.Folder{agreements.FolderProcessed, agreements.FolderUnmatched, agreements.FolderRejected}

// Run polls until ctx ends. Connection errors are retried with backoff;
// each outage is logged once when it starts and once when it ends.
func (p *Poller) Run(ctx context.Context) error {
	backoff := p.MinBackoff
	down := false
	for ctx.Err() == nil {
		err := p.session(ctx, func() {
			p.setStatus(true, nil)
			if down {
				p.Logger.Info("IMAP connection restored", "addr", p.Addr)
				down = false
			}
			backoff = p.MinBackoff
		})
		if ctx.Err() != nil {
			return nil
		}
		p.setStatus(false, err)
		if !down {
			p.Logger.Warn("IMAP connection lost; reconnecting with backoff", "addr", p.Addr, "err", err)
			down = true
		} else {
			p.Logger.Debug("IMAP reconnect failed", "addr", p.Addr, "err", err)
		}
		wait := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, p.MaxBackoff)
	}
	return nil
}

// RunOnce connects, handles everything in the mailbox once, and logs out.
func (p *Poller) RunOnce(ctx context.Context) error {
	c, uidValidity, caps, err := p.open(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := p.pass(ctx, c, uidValidity, caps); err != nil {
		return err
	}
	return p.timed(c, p.CommandTimeout, func() error { return c.Logout().Wait() })
}

// Dial connects and logs in: what "doctor" checks.
func (p *Poller) Dial(ctx context.Context, opts *imapclient.Options) (*imapclient.Client, error) {
	if opts == nil {
		opts = &imapclient.Options{}
	}
	d := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", p.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", p.Addr, err)
	}
	host, _, _ := net.SplitHostPort(p.Addr)
	tc := p.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	opts.TLSConfig = tc
	var c *imapclient.Client
	switch p.TLS {
	case TLSImplicit, "":
		tconn := tls.Client(conn, tc)
		if err := tconn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS with %s: %w", p.Addr, err)
		}
		c = imapclient.New(tconn, opts)
	case TLSStartTLS:
		if c, err = imapclient.NewStartTLS(conn, opts); err != nil {
			conn.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", p.Addr, err)
		}
	case TLSNone:
		c = imapclient.New(conn, opts)
	default:
		conn.Close()
		return nil, fmt.Errorf("imap tls mode %q is not tls, starttls or none", p.TLS)
	}
	if err := p.timed(c, p.CommandTimeout, func() error { return c.Login(p.Username, p.Password).Wait() }); err != nil {
		c.Close()
		return nil, fmt.Errorf("log in to %s as %s: %w", p.Addr, p.Username, err)
	}
	return c, nil
}

// open connects, logs in, selects the mailbox and makes the folders.
func (p *Poller) open(ctx context.Context, notify ...chan struct{}) (*imapclient.Client, uint32, imap.CapSet, error) {
	opts := &imapclient.Options{}
	if len(notify) > 0 {
		ch := notify[0]
		opts.UnilateralDataHandler = &imapclient.UnilateralDataHandler{
			// Runs on the reader goroutine: never call the client here.
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					select {
					case ch <- struct{}{}:
					default:
					}
				}
			},
		}
	}
	c, err := p.Dial(ctx, opts)
	if err != nil {
		return nil, 0, nil, err
	}
	caps := c.Caps() // after login: MOVE, UIDPLUS and IDLE appear only now
	var sel *imap.SelectData
	err = p.timed(c, p.CommandTimeout, func() (err error) {
		sel, err = c.Select(p.mailbox(), nil).Wait()
		return err
	})
	if err != nil {
		c.Close()
		return nil, 0, nil, fmt.Errorf("select %s: %w", p.mailbox(), err)
	}
	for _, f := range Folders {
		if err := p.create(c, string(f)); err != nil {
			c.Close()
			return nil, 0, nil, err
		}
	}
	return c, sel.UIDValidity, caps, nil
}

func (p *Poller) mailbox() string {
	if p.Mailbox == "" {
		return "INBOX"
	}
	return p.Mailbox
}

// create makes a folder; one that exists is fine. The ALREADYEXISTS
// response code is optional (RFC 5530 §3): Dovecot sends it, mox and
// maddy answer a bare NO, so a refused CREATE is checked with LIST.
func (p *Poller) create(c *imapclient.Client, name string) error {
	err := p.timed(c, p.CommandTimeout, func() error { return c.Create(name, nil).Wait() })
	var ie *imap.Error
	if err == nil || errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
		return nil
	}
	if ie != nil {
		var found bool
		lerr := p.timed(c, p.CommandTimeout, func() error {
			boxes, err := c.List("", name, nil).Collect()
			found = len(boxes) > 0
			return err
		})
		if lerr == nil && found {
			return nil
		}
	}
	return fmt.Errorf("create folder %s: %w", name, err)
}

// session runs passes on one connection until it fails or ctx ends.
func (p *Poller) session(ctx context.Context, connected func()) error {
	newMail := make(chan struct{}, 1)
	c, uidValidity, caps, err := p.open(ctx, newMail)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	connected()
	announced := false
	for {
		found, err := p.pass(ctx, c, uidValidity, caps)
		if err != nil {
			return err
		}
		if announced && found == 0 {
			// New mail was announced, and the search does not see it yet:
			// a server may announce a message before it commits it (maddy
			// did, under load). One more look, a moment later, instead
			// of waiting for the next mail or the end of the IDLE.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(announceRecheck):
			}
			if _, err := p.pass(ctx, c, uidValidity, caps); err != nil {
				return err
			}
		}
		if p.Passed != nil {
			p.Passed()
		}
		if ctx.Err() != nil {
			return nil
		}
		if announced, err = p.wait(ctx, c, caps, newMail); err != nil {
			return err
		}
	}
}

// announceRecheck is how long after an announcement of new mail that a
// search did not find the poller looks again.
const announceRecheck = time.Second

// wait returns when there may be new mail: IDLE (RFC 2177) reports it as
// an untagged EXISTS (announced is then set), or the poll interval passed.
// After each IDLE a NOOP checks that the connection lives.
func (p *Poller) wait(ctx context.Context, c *imapclient.Client, caps imap.CapSet, newMail chan struct{}) (announced bool, err error) {
	if !caps.Has(imap.CapIdle) {
		select {
		case <-ctx.Done():
		case <-c.Closed():
			return false, errors.New("connection closed")
		case <-time.After(p.PollInterval):
		}
		return false, nil
	}
	// Changes made since the last command may not be announced when IDLE
	// starts (some servers only announce what happens during it): a NOOP
	// just before brings them in, and new mail then skips the IDLE.
	if err := p.timed(c, p.CommandTimeout, func() error { return c.Noop().Wait() }); err != nil {
		return false, fmt.Errorf("noop: %w", err)
	}
	select {
	case <-newMail:
		return true, nil
	default:
	}
	idle, err := c.Idle()
	if err != nil {
		return false, fmt.Errorf("idle: %w", err)
	}
	timer := time.NewTimer(p.IdleTimeout)
	defer timer.Stop()
	p.Logger.Debug("idle")
	select {
	case <-ctx.Done():
	case <-newMail:
		p.Logger.Debug("idle: new mail")
		announced = true
	case <-timer.C:
	case <-c.Closed():
	}
	if err := p.timed(c, p.CommandTimeout, func() error {
		if err := idle.Close(); err != nil {
			return err
		}
		return idle.Wait()
	}); err != nil {
		return false, fmt.Errorf("end idle: %w", err)
	}
	return announced, p.timed(c, p.CommandTimeout, func() error { return c.Noop().Wait() })
}

// timed runs fn, closing the client if it takes longer than d: go-imap has
// no read timeout of its own, and a half-open connection would otherwise
// wait forever.
func (p *Poller) timed(c *imapclient.Client, d time.Duration, fn func() error) error {
	t := time.AfterFunc(d, func() { c.Close() })
	defer t.Stop()
	return fn()
}

// pass handles every message in the mailbox, oldest first.
// It returns how many messages it found.
func (p *Poller) pass(ctx context.Context, c *imapclient.Client, uidValidity uint32, caps imap.CapSet) (int, error) {
	var data *imap.SearchData
	err := p.timed(c, p.CommandTimeout, func() (err error) {
		// Never depend on \Seen: other clients change it. \Deleted marks
		// what we copied away on a server without MOVE or UIDPLUS.
		data, err = c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}, nil).Wait()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("search: %w", err)
	}
	uids := data.AllUIDs()
	found := len(uids)
	slices.Sort(uids)
	for len(uids) > 0 {
		n := min(len(uids), max(p.Batch, 1))
		if err := p.batch(ctx, c, uidValidity, caps, uids[:n]); err != nil {
			return found, err
		}
		uids = uids[n:]
	}
	return found, nil
}

func (p *Poller) batch(ctx context.Context, c *imapclient.Client, uidValidity uint32, caps imap.CapSet, uids []imap.UID) error {
	mailbox := p.mailbox()
	moves := map[string][]imap.UID{}
	// However the batch ends, what was committed is moved.
	defer func() {
		for folder, set := range moves {
			if err := p.move(c, caps, set, folder); err != nil {
				p.Logger.Warn("move handled mail", "folder", folder, "err", err)
			}
		}
	}()
	var fetch []imap.UID
	for _, uid := range uids {
		folder, ok, err := p.Handler.Handled(ctx, mailbox, uidValidity, uint32(uid))
		if err != nil {
			return err
		}
		if ok {
			// Handled and committed, but not moved (a crash between the
			// two): move it now.
			moves[string(folder)] = append(moves[string(folder)], uid)
			continue
		}
		fetch = append(fetch, uid)
	}
	if len(fetch) == 0 {
		return nil
	}
	var sizes []*imapclient.FetchMessageBuffer
	err := p.timed(c, p.CommandTimeout, func() (err error) {
		sizes, err = c.Fetch(imap.UIDSetNum(fetch...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		return err
	})
	if err != nil {
		return fmt.Errorf("fetch sizes: %w", err)
	}
	size := map[imap.UID]int64{}
	for _, b := range sizes {
		size[b.UID] = b.RFC822Size
	}
	// Fetch whole messages in groups of at most 32 MiB, read them, close
	// the FETCH, and only then touch the store: never hold a FETCH open
	// across slow work. Larger messages come header only.
	whole := &imap.FetchItemBodySection{Peek: true}
	header := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	for len(fetch) > 0 {
		var group []imap.UID
		var total int64
		for len(fetch) > 0 && (len(group) == 0 || total+size[fetch[0]] <= 32<<20) {
			if _, ok := size[fetch[0]]; ok { // else expunged meanwhile
				group = append(group, fetch[0])
				total += min(size[fetch[0]], p.MaxSize)
			}
			fetch = fetch[1:]
		}
		if len(group) == 0 {
			continue
		}
		var small, large []imap.UID
		for _, uid := range group {
			if size[uid] > p.MaxSize {
				large = append(large, uid)
			} else {
				small = append(small, uid)
			}
		}
		raw := map[imap.UID][]byte{}
		for _, part := range []struct {
			uids    []imap.UID
			section *imap.FetchItemBodySection
		}{{small, whole}, {large, header}} {
			if len(part.uids) == 0 {
				continue
			}
			var bufs []*imapclient.FetchMessageBuffer
			err := p.timed(c, 5*time.Minute, func() (err error) {
				bufs, err = c.Fetch(imap.UIDSetNum(part.uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{part.section}}).Collect()
				return err
			})
			if err != nil {
				return fmt.Errorf("fetch: %w", err)
			}
			for _, b := range bufs {
				raw[b.UID] = b.FindBodySection(part.section)
			}
		}
		for _, uid := range group {
			body, ok := raw[uid]
			if !ok {
				continue
			}
			d := Delivery{Mailbox: mailbox, UIDValidity: uidValidity, UID: uint32(uid), Size: size[uid], Raw: body, TooLarge: size[uid] > p.MaxSize}
			folder, err := p.Handler.Deliver(ctx, d)
			if err != nil {
				return fmt.Errorf("handle %d: %w", uid, err)
			}
			moves[string(folder)] = append(moves[string(folder)], uid)
		}
	}
	return nil
}

// move moves messages to folder: UID MOVE (RFC 6851 §3.1) where offered.
// Without MOVE it copies, and only after the copy succeeded flags and
// expunges those UIDs (go-imap's own fallback deletes mail whose copy
// failed); UID EXPUNGE (RFC 4315 §2.1, UIDPLUS) removes those UIDs alone,
// so without UIDPLUS the original is left flagged \Deleted rather than
// expunging anyone else's mail with a plain EXPUNGE. A missing folder is
// created on TRYCREATE (RFC 3501 §7.1).
func (p *Poller) move(c *imapclient.Client, caps imap.CapSet, uids []imap.UID, folder string) error {
	set := imap.UIDSetNum(uids...)
	try := func() error {
		if caps.Has(imap.CapMove) {
			return p.timed(c, p.CommandTimeout, func() error {
				_, err := c.Move(set, folder).Wait()
				return err
			})
		}
		return p.timed(c, p.CommandTimeout, func() error {
			_, err := c.Copy(set, folder).Wait()
			return err
		})
	}
	err := try()
	var ie *imap.Error
	if errors.As(err, &ie) && ie.Code == imap.ResponseCodeTryCreate {
		if err := p.create(c, folder); err != nil {
			return err
		}
		err = try()
	}
	if err != nil {
		return fmt.Errorf("move %v to %s: %w", uids, folder, err)
	}
	if caps.Has(imap.CapMove) {
		return nil
	}
	return p.timed(c, p.CommandTimeout, func() error {
		if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
			return fmt.Errorf("flag %v deleted: %w", uids, err)
		}
		if caps.Has(imap.CapUIDPlus) {
			if err := c.UIDExpunge(set).Close(); err != nil {
				return fmt.Errorf("expunge %v: %w", uids, err)
			}
		}
		return nil
	})
}
