// Command outbox measures what the outbox costs over SMTP itself: it fills
// the outbox with N mails and drains them into the real Postfix of
// scripts/mailstack, and in the same run sends the same N messages with a
// bare go-mail loop over one connection. It prints both rates and their
// ratio.
//
//	scripts/mailstack up && go run ./internal/bench/outbox -n 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailstack"
	"github.com/inwriting/inwriting/mailout"
	"github.com/inwriting/inwriting/templates"
)

func main() {
	n := flag.Int("n", 500, "mails per run (even)")
	rounds := flag.Int("rounds", 2, "alternating rounds of each path")
	flag.Parse()
	if err := run(context.Background(), *n, *rounds); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, n, rounds int) error {
	st, err := mailstack.Find()
	if err != nil {
		return fmt.Errorf("mail stack: %w (run scripts/mailstack up)", err)
	}
	dir, err := os.MkdirTemp("", "inwriting-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	set, err := templates.New("")
	if err != nil {
		return err
	}
	comp := &mailout.Composer{Identity: mailout.Identity{Address: st.Address("service"), Name: "inwriting"}, Templates: set}

	var bare, box []float64
	for r := range rounds {
		db, err := fill(ctx, filepath.Join(dir, fmt.Sprintf("db%d", r)), st, n)
		if err != nil {
			return err
		}
		// The bare loop sends the same messages as go-mail *Msg values,
		// built beforehand; go-mail encodes each as it sends it.
		raws, err := messages(ctx, db, comp, n)
		if err != nil {
			return err
		}
		// Alternate which path goes first, and let Postfix finish delivering
		// the previous run before timing the next, so neither path pays
		// for the other's deliveries.
		bareRun := func() error {
			waitQueue(st)
			rate, err := bareLoop(ctx, st, raws)
			bare = append(bare, rate)
			return err
		}
		if r%2 == 0 {
			if err := bareRun(); err != nil {
				return err
			}
		}
		waitQueue(st)
		s := mailout.NewSender(db, comp)
		s.Addr, s.TLSConfig = st.Submission, st.TLS
		s.Username, s.Password = "service", st.Password("service")
		s.Batch = n // one connection for the run, like the bare loop
		s.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		start := time.Now()
		sent, err := s.Drain(ctx)
		if err != nil {
			return err
		}
		d := time.Since(start)
		ok, err := db.FindOutbox(ctx, agreements.OutboxFilter{Status: agreements.MailSent})
		if err != nil {
			return err
		}
		if len(ok) != n || sent != n {
			return fmt.Errorf("outbox sent %d of %d", len(ok), n)
		}
		box = append(box, float64(n)/d.Seconds())
		db.Close()
		if r%2 == 1 {
			if err := bareRun(); err != nil {
				return err
			}
		}
		fmt.Printf("round %d: bare go-mail %.0f mails/s, outbox %.0f mails/s, ratio %.2f\n", r+1, bare[r], box[r], box[r]/bare[r])
	}
	waitQueue(st)
	for _, u := range []string{"alice", "bob"} {
		if err := st.Empty(u); err != nil {
			return err
		}
	}
	b, o := mean(bare), mean(box)
	ratios := make([]float64, len(bare))
	for i := range bare {
		ratios[i] = box[i] / bare[i]
	}
	slices.Sort(ratios)
	fmt.Printf("bare go-mail loop: %.0f mails/s\noutbox path:       %.0f mails/s (render, claim, record, send)\nratio of means:    %.2f\nmedian ratio of the rounds: %.2f (target >= 0.90)\n",
		b, o, o/b, ratios[len(ratios)/2])
	return nil
}

// fill creates n/2 agreements between alice and bob: n "please confirm"
// mails in the outbox.
func fill(ctx context.Context, path string, st *mailstack.Stack, n int) (*agreements.DB, error) {
	db := agreements.NewDB(path)
	db.MessageIDDomain = st.Domain
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(ctx); err != nil {
		return nil, err
	}
	for i := range n / 2 {
		terms := agreements.Terms{
			Title: fmt.Sprintf("Bench agreement %d", i), WhatWentWrong: "A benchmark.",
			Parties: []agreements.Party{
				{Name: "Alice", Address: st.Address("alice"), TimeZone: "Europe/Lisbon", Commitments: []string{"Call when late."}},
				{Name: "Bob", Address: st.Address("bob"), TimeZone: "America/Chicago", Commitments: []string{"Ask when worried."}},
			},
			CheckIn: agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 19},
		}
		if _, err := db.CreateAgreement(ctx, terms); err != nil {
			return nil, err
		}
	}
	return db, nil
}

func messages(ctx context.Context, db *agreements.DB, c *mailout.Composer, n int) ([]*gomail.Msg, error) {
	ms, err := db.FindOutbox(ctx, agreements.OutboxFilter{})
	if err != nil {
		return nil, err
	}
	var raws []*gomail.Msg
	for _, m := range ms {
		msg, err := c.Message(m, time.Now())
		if err != nil {
			return nil, err
		}
		raws = append(raws, msg)
	}
	if len(raws) != n {
		return nil, fmt.Errorf("outbox holds %d mails, want %d", len(raws), n)
	}
	return raws, nil
}

// bareLoop sends msgs with go-mail over one connection and returns
// mails/s.
func bareLoop(ctx context.Context, st *mailstack.Stack, msgs []*gomail.Msg) (float64, error) {
	host, port, _ := strings.Cut(st.Submission, ":")
	var p int
	fmt.Sscan(port, &p)
	c, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(st.TLS),
		gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername("service"), gomail.WithPassword(st.Password("service")))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	if err := c.DialWithContext(ctx); err != nil {
		return 0, err
	}
	for _, m := range msgs {
		if err := c.Send(m); err != nil {
			return 0, err
		}
	}
	if err := c.Close(); err != nil {
		return 0, err
	}
	return float64(len(msgs)) / time.Since(start).Seconds(), nil
}

// waitQueue waits (up to 60 s) until Postfix's queue is empty.
func waitQueue(st *mailstack.Stack) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		n := 0
		for _, q := range []string{"incoming", "active", "deferred", "maildrop"} {
			filepath.WalkDir(filepath.Join(st.Dir, "postfix", "queue", q), func(_ string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					n++
				}
				return nil
			})
		}
		if n == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
