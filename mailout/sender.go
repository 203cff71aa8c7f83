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
	RecordOutcomes(ctx context.Context, owner string, outcomes []agreements.MailOutcome) error
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

	// Observe, if set, is told of each attempt to send a mail: how it
	// went (one of the Send… classes) and how long the SMTP exchange
	// took; for metrics.
	Observe func(m *agreements.OutboxMail, class string, took time.Duration)

	// Owner names this sender in claims; unique per process.
	Owner string

	notify chan struct{}
}

var _ agreements.Mailer = (*Sender)(nil)

// How an attempt to send went, for Sender.Observe.
const (
	SendSent        = "sent"
	SendTemporary   = "temporary"   // refused for now; retried later
	SendPermanent   = "permanent"   // refused for good; the mail failed
	SendUnreachable = "unreachable" // no connection: the server did not answer, or TLS or login failed
)

// NewSender returns a sender with the defaults: STARTTLS required, 30 s
// timeout, batches of 50, a look for due mail every 5 s (mail queued by
// another process, such as "inwriting new", is not announced), retries for
// 3 days from 1 minute to 1 hour apart.
func NewSender(outbox Outbox, c *Composer) *Sender {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	crand.Read(b)
	return &Sender{
		Outbox: outbox, Composer: c, TLS: TLSStartTLS,
		Timeout: 30 * time.Second, Batch: 50, Lease: 5 * time.Minute, Interval: 5 * time.Second,
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
//
// Three steps run at once, so that rendering and recording cost little
// over SMTP itself: one goroutine renders the batch ahead, this one talks
// SMTP, and one records each outcome, in order, as soon as it is known.
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

	rendered := make(chan outcome, len(ms)) // never blocks the renderer
	go func() {
		defer close(rendered)
		now := s.Now()
		for _, m := range ms {
			o := outcome{m: m, raw: m.Raw}
			if o.raw == nil {
				var err error
				if o.raw, err = s.Composer.Compose(m, now); err != nil {
					o.err = &SendError{Permanent: true, Err: fmt.Errorf("render: %w", err)}
				}
			}
			rendered <- o
		}
	}()
	results := make(chan outcome, len(ms))
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		// Record each outcome as soon as it is known, together with any
		// that came in meanwhile: one transaction for those.
		for o := range results {
			batch := []outcome{o}
			for more := true; more; {
				select {
				case o, ok := <-results:
					if ok {
						batch = append(batch, o)
					} else {
						more = false
					}
				default:
					more = false
				}
			}
			s.record(ctx, batch)
		}
	}()

	var sc *smtp.Client
	var dialErr error
	for o := range rendered {
		switch {
		case o.err != nil:
		case ctx.Err() != nil:
			continue // released, unsent
		case dialErr != nil:
			o.err, o.unreachable = &SendError{Err: dialErr}, true
		default:
			if sc == nil {
				if sc, dialErr = s.dial(ctx); dialErr != nil {
					// The server is unreachable: the whole batch waits.
					o.err, o.unreachable = &SendError{Err: dialErr}, true
					break
				}
			}
			start := time.Now()
			o.err = s.deliver(sc, o.m, o.raw)
			o.took = time.Since(start)
			var se *SendError
			if errors.As(o.err, &se) && se.ConnLost {
				sc.Close()
				sc = nil
			}
		}
		results <- o
	}
	if sc != nil {
		sc.Quit()
		sc.Close()
	}
	close(results)
	<-recorded
	return len(ms), nil
}

// outcome is one claimed mail on its way through SendDue.
type outcome struct {
	m           *agreements.OutboxMail
	raw         []byte
	err         error
	took        time.Duration // the SMTP exchange
	unreachable bool          // no connection was made
}

// record stores the outcomes of sending a batch of mails.
func (s *Sender) record(ctx context.Context, batch []outcome) {
	now := s.Now()
	outs := make([]agreements.MailOutcome, len(batch))
	for i, o := range batch {
		m := o.m
		out := agreements.MailOutcome{ID: m.ID, Raw: o.raw, Status: agreements.MailSent}
		log := s.Logger.With("outbox", m.ID, "kind", m.Kind, "to", m.To, "message_id", m.MessageID)
		var se *SendError
		switch {
		case o.err == nil:
			log.Info("mail sent")
		case !errors.As(o.err, &se):
			se = &SendError{Err: o.err}
			fallthrough
		default:
			out.Reason = se.Error()
			if se.Permanent || now.Sub(m.CreatedAt) >= s.MaxAge {
				out.Status = agreements.MailFailed
				out.Bounced = se.Permanent && se.Recipient
				log.Warn("mail failed", "err", out.Reason, "attempts", m.Attempts+1)
			} else {
				out.Status, out.Next = agreements.MailPending, now.Add(s.backoff(m.Attempts))
				log.Warn("mail deferred", "err", out.Reason, "attempts", m.Attempts+1, "next", out.Next.Format(time.RFC3339))
			}
		}
		outs[i] = out
		if s.Observe != nil {
			class := SendSent
			switch {
			case o.unreachable:
				class = SendUnreachable
			case out.Status == agreements.MailFailed:
				class = SendPermanent
			case out.Status == agreements.MailPending:
				class = SendTemporary
			}
			s.Observe(m, class, o.took)
		}
	}
	if err := s.Outbox.RecordOutcomes(context.WithoutCancel(ctx), s.Owner, outs); err != nil {
		s.Logger.Error("record outcomes", "err", err)
	}
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
	Recipient bool  // the reply refused the recipient (RCPT TO)
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
	fail := func(stage string, err error) *SendError {
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
	// go-mail's low-level client writes the path as given: RFC 5321
	// §4.1.2 wants it in angle brackets, and strict servers (mox) refuse
	// it bare.
	if err := sc.Mail("<" + s.Composer.Identity.Address + ">"); err != nil {
		return fail("MAIL FROM", err)
	}
	if err := sc.Rcpt("<" + m.To + ">"); err != nil {
		se := fail("RCPT TO", err)
		se.Recipient = true
		return se
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

// Probe is what Check learned of the server beyond the connection.
type Probe struct {
	// Plus is the server's answer to RCPT TO the service's plus-address
	// (local+probe@domain): nil when it takes it.
	Plus error
}

// Check connects to the server, secures the connection and authenticates,
// then does what a mail does short of DATA: MAIL FROM the service's
// address, RCPT TO it, and RCPT TO a plus-address of it (replies go to
// one), then RSET and QUIT. It is what "doctor" runs: a server that
// refuses MAIL FROM or the service's address is an error; one that
// refuses the plus-address is said in Probe.Plus, since replies can come
// to the plain address with the subject tag instead.
func (s *Sender) Check(ctx context.Context) (Probe, error) {
	var pr Probe
	sc, err := s.dial(ctx)
	if err != nil {
		return pr, err
	}
	defer sc.Close()
	if err := sc.UpdateDeadline(s.Timeout); err != nil {
		return pr, classify("deadline", err)
	}
	addr := s.Composer.Identity.Address
	if err := sc.Mail("<" + addr + ">"); err != nil {
		return pr, classify("MAIL FROM:<"+addr+">", err)
	}
	if err := sc.Rcpt("<" + addr + ">"); err != nil {
		return pr, classify("RCPT TO:<"+addr+">", err)
	}
	plus := agreements.ReplyAddress(addr, "probe")
	if err := sc.Rcpt("<" + plus + ">"); err != nil {
		pr.Plus = classify("RCPT TO:<"+plus+">", err)
	}
	if err := sc.Reset(); err != nil {
		return pr, classify("RSET", err)
	}
	return pr, sc.Quit()
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
