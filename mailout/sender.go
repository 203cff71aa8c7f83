package mailout

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/inwriting/inwriting/agreements"
)

// Outbox is what the sender needs of the store. *agreements.DB meets it.
type Outbox interface {
	ClaimMail(ctx context.Context, owner string, max int, lease time.Duration) ([]*agreements.OutboxMail, error)
	SaveRendered(ctx context.Context, id int64, owner string, raw []byte) error
	MarkSent(ctx context.Context, id int64, owner string) error
	RetryMailAt(ctx context.Context, id int64, owner string, next time.Time, reason string) error
	FailMail(ctx context.Context, id int64, owner string, reason string) error
	ReleaseMail(ctx context.Context, owner string) error
}

// TLSMode is how the sender secures its SMTP connection.
type TLSMode string

// The TLS modes.
const (
	TLSStartTLS TLSMode = "starttls" // STARTTLS, required (the default)
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (port 465)
	TLSNone     TLSMode = "none"     // plain text; only for a server on loopback
)

// Sender delivers the outbox over SMTP. Create it with NewSender, set its
// fields, then call Run (or SendDue).
type Sender struct {
	Outbox   Outbox
	Composer *Composer

	// Addr is the SMTP server's host:port.
	Addr      string
	TLS       TLSMode
	TLSConfig *tls.Config // nil: verify the server as Addr's host
	Username  string      // "" for no AUTH
	Password  string

	// Dial, if set, opens the TCP connection (for tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	Timeout    time.Duration // one SMTP command or message
	Batch      int           // mails claimed at once
	Lease      time.Duration // how long a claim holds
	Interval   time.Duration // how often Run looks for due mail without being told
	MaxAge     time.Duration // how long a temporary failure is retried
	MinBackoff time.Duration // the first retry's delay; it doubles, with jitter
	MaxBackoff time.Duration

	Now    func() time.Time
	Logger *slog.Logger

	// Owner names this sender in claims; unique per process.
	Owner string

	notify chan struct{}
}

var _ agreements.Mailer = (*Sender)(nil)

// NewSender returns a sender with the defaults: STARTTLS required, 30 s
// timeout, batches of 50, retries for 3 days from 1 minute to 1 hour apart.
func NewSender(outbox Outbox, c *Composer) *Sender {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	crand.Read(b)
	return &Sender{
		Outbox: outbox, Composer: c, TLS: TLSStartTLS,
		Timeout: 30 * time.Second, Batch: 50, Lease: 5 * time.Minute, Interval: 30 * time.Second,
		MaxAge: 72 * time.Hour, MinBackoff: time.Minute, MaxBackoff: time.Hour,
		Now: time.Now, Logger: slog.Default(),
		Owner:  fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b)),
		notify: make(chan struct{}, 1),
	}
}

// Notify wakes Run: mail was queued.
func (s *Sender) Notify() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Run sends due mail until ctx ends, waking on Notify or every Interval.
// On the way out it releases what it claimed and did not finish.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.notify:
		case <-t.C:
		}
		for {
			n, err := s.SendDue(ctx)
			if err != nil && ctx.Err() == nil {
				s.Logger.Error("send mail", "err", err)
			}
			if n < s.Batch || err != nil || ctx.Err() != nil {
				break
			}
		}
		t.Reset(s.Interval)
	}
}

// Drain sends due mail until none is due or ctx ends, and returns how many
// mails it attempted.
func (s *Sender) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.SendDue(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// SendDue claims one batch of due mail and sends it over one connection.
// It returns how many mails it claimed.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	ms, err := s.Outbox.ClaimMail(ctx, s.Owner, s.Batch, s.Lease)
	if err != nil || len(ms) == 0 {
		return 0, err
	}
	// Whatever is left claimed when we stop goes back at once.
	defer func() {
		if err := s.Outbox.ReleaseMail(context.WithoutCancel(ctx), s.Owner); err != nil {
			s.Logger.Error("release mail", "err", err)
		}
	}()
	var sc *smtp.Client
	defer func() {
		if sc != nil {
			sc.Quit()
			sc.Close()
		}
	}()
	for _, m := range ms {
		if ctx.Err() != nil {
			return len(ms), nil
		}
		raw := m.Raw
		if raw == nil {
			if raw, err = s.Composer.Compose(m, s.Now()); err != nil {
				s.record(ctx, m, &SendError{Permanent: true, Err: fmt.Errorf("render: %w", err)})
				continue
			}
			if err := s.Outbox.SaveRendered(ctx, m.ID, s.Owner, raw); err != nil {
				return len(ms), err
			}
		}
		if sc == nil {
			if sc, err = s.dial(ctx); err != nil {
				// The server is unreachable: every mail of the batch waits.
				for _, rest := range ms[indexOf(ms, m):] {
					s.record(ctx, rest, &SendError{Err: err})
				}
				return len(ms), nil
			}
		}
		err := s.deliver(sc, m, raw)
		s.record(ctx, m, err)
		var se *SendError
		if errors.As(err, &se) && se.ConnLost {
			sc.Close()
			sc = nil
		}
	}
	return len(ms), nil
}

func indexOf(ms []*agreements.OutboxMail, m *agreements.OutboxMail) int {
	for i := range ms {
		if ms[i] == m {
			return i
		}
	}
	return 0
}

// record stores the outcome of sending m.
func (s *Sender) record(ctx context.Context, m *agreements.OutboxMail, err error) {
	ctx = context.WithoutCancel(ctx)
	log := s.Logger.With("outbox", m.ID, "kind", m.Kind, "to", m.To, "message_id", m.MessageID)
	var se *SendError
	switch {
	case err == nil:
		if err := s.Outbox.MarkSent(ctx, m.ID, s.Owner); err != nil {
			log.Error("mark sent", "err", err)
			return
		}
		log.Info("mail sent")
		return
	case !errors.As(err, &se):
		se = &SendError{Err: err}
	}
	now := s.Now()
	if se.Permanent || now.Sub(m.CreatedAt) >= s.MaxAge {
		if err := s.Outbox.FailMail(ctx, m.ID, s.Owner, se.Error()); err != nil {
			log.Error("mark failed", "err", err)
			return
		}
		log.Warn("mail failed", "err", se.Error(), "attempts", m.Attempts+1)
		return
	}
	next := now.Add(s.backoff(m.Attempts))
	if err := s.Outbox.RetryMailAt(ctx, m.ID, s.Owner, next, se.Error()); err != nil {
		log.Error("mark for retry", "err", err)
		return
	}
	log.Warn("mail deferred", "err", se.Error(), "attempts", m.Attempts+1, "next", next.Format(time.RFC3339))
}

// backoff returns the delay before retry n+1: MinBackoff doubled n times,
// at most MaxBackoff, with ±25% jitter so retries do not march in step.
func (s *Sender) backoff(n int) time.Duration {
	d := s.MinBackoff
	for range n {
		d *= 2
		if d >= s.MaxBackoff {
			d = s.MaxBackoff
			break
		}
	}
	return d*3/4 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// SendError is a failure to send one mail.
type SendError struct {
	Permanent bool  // a 5xx reply: retrying will not help
	Code      int   // the SMTP reply code; 0 for a network failure
	ConnLost  bool  // the connection is no longer usable
	Err       error // the server's reply or the network error
}

func (e *SendError) Error() string {
	if e.Code != 0 {
		return e.Err.Error()
	}
	return "network: " + e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// classify turns an SMTP client error into a *SendError: 5xx replies are
// permanent, 4xx temporary, and anything else (a network error, a
// timeout) temporary with the connection lost.
func classify(stage string, err error) *SendError {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &SendError{Permanent: te.Code >= 500, Code: te.Code, Err: fmt.Errorf("%s: %d %s", stage, te.Code, te.Msg)}
	}
	return &SendError{ConnLost: true, Err: fmt.Errorf("%s: %w", stage, err)}
}

// deliver sends raw to m.To over sc, one message per transaction.
func (s *Sender) deliver(sc *smtp.Client, m *agreements.OutboxMail, raw []byte) error {
	if err := sc.UpdateDeadline(s.Timeout); err != nil {
		return classify("deadline", err)
	}
	fail := func(stage string, err error) error {
		se := classify(stage, err)
		if !se.ConnLost && sc.Reset() != nil {
			se.ConnLost = true
		}
		// 421 means the server is closing the connection (RFC 5321 §3.8).
		if se.Code == 421 {
			se.ConnLost = true
		}
		return se
	}
	if err := sc.Mail(s.Composer.Identity.Address); err != nil {
		return fail("MAIL FROM", err)
	}
	if err := sc.Rcpt(m.To); err != nil {
		return fail("RCPT TO", err)
	}
	w, err := sc.Data()
	if err != nil {
		return fail("DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return &SendError{ConnLost: true, Err: fmt.Errorf("DATA: %w", err)}
	}
	if err := w.Close(); err != nil {
		return fail("end of DATA", err)
	}
	return nil
}

// dial connects, says EHLO, secures the connection and authenticates.
func (s *Sender) dial(ctx context.Context) (*smtp.Client, error) {
	host, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return nil, fmt.Errorf("smtp address %q: %w", s.Addr, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("smtp address %q: bad port", s.Addr)
	}
	opts := []gomail.Option{gomail.WithPort(p), gomail.WithTimeout(s.Timeout)}
	tc := s.TLSConfig
	if tc == nil {
		tc = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	switch s.TLS {
	case TLSStartTLS, "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tc))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tc))
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		return nil, fmt.Errorf("smtp tls mode %q is not starttls, tls or none", s.TLS)
	}
	if s.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	if s.Dial != nil {
		opts = append(opts, gomail.WithDialContextFunc(gomail.DialContextFunc(s.Dial)))
	}
	c, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp client: %w", err)
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.Addr, err)
	}
	return sc, nil
}
