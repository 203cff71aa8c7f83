// Command poller measures reading replies from the real Dovecot of
// scripts/mailstack: (a) a bare go-imap UID FETCH BODY.PEEK[] of N replies
// against (b) the poller handling the same N (fetch, parse, trim, match,
// store, move), in the same run; then the time from Postfix accepting a
// reply to its handling being committed, with IDLE, over M replies.
//
//	scripts/mailstack up && go run ./internal/bench/poller -n 1000 -m 100
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/smtp"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailstack"
	"github.com/inwriting/inwriting/mailin"
)

func main() {
	n := flag.Int("n", 1000, "replies for the throughput runs")
	m := flag.Int("m", 100, "replies for the latency run")
	flag.Parse()
	if err := run(context.Background(), *n, *m); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, n, m int) error {
	st, err := mailstack.Find()
	if err != nil {
		return fmt.Errorf("mail stack: %w (run scripts/mailstack up)", err)
	}
	if err := st.Empty("bench"); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "inwriting-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := agreements.NewDB(filepath.Join(dir, "db"))
	db.Reader = mailin.Reader{}
	db.ServiceAddress = st.Address("bench")
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(ctx); err != nil {
		return err
	}
	defer db.Close()
	tokens, err := agreementsFor(ctx, db, st, (n+m+1)/2+1)
	if err != nil {
		return err
	}
	c, err := imapclient.DialStartTLS(st.IMAP, &imapclient.Options{TLSConfig: st.TLS})
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Login("bench", st.Password("bench")).Wait(); err != nil {
		return err
	}
	box := "Bench-" + randomHex(4)
	if err := c.Create(box, nil).Wait(); err != nil {
		return err
	}
	defer func() { c.Delete(box).Wait() }()
	for i := range n {
		raw := reply(st, tokens[i], i)
		cmd := c.Append(box, int64(len(raw)), nil)
		cmd.Write(raw)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			return err
		}
	}

	// (a) A bare UID FETCH of every message, read to the end.
	if _, err := c.Select(box, nil).Wait(); err != nil {
		return err
	}
	start := time.Now()
	var all imap.UIDSet
	all.AddRange(1, 0)
	fc := c.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	bytes, got := 0, 0
	for msg := fc.Next(); msg != nil; msg = fc.Next() {
		for item := msg.Next(); item != nil; item = msg.Next() {
			if b, ok := item.(imapclient.FetchItemDataBodySection); ok && b.Literal != nil {
				k, _ := io.Copy(io.Discard, b.Literal)
				bytes += int(k)
			}
		}
		got++
	}
	if err := fc.Close(); err != nil {
		return err
	}
	bare := time.Since(start)
	if got != n {
		return fmt.Errorf("bare fetch read %d of %d", got, n)
	}

	// (b) The poller handles them all.
	recv := &mailin.Receiver{Store: db, Address: st.Address("bench")}
	p := mailin.NewPoller(st.IMAP, recv)
	p.TLS, p.TLSConfig, p.Username, p.Password, p.Mailbox = mailin.TLSStartTLS, st.TLS, "bench", st.Password("bench"), box
	p.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	start = time.Now()
	if err := p.RunOnce(ctx); err != nil {
		return err
	}
	handled := time.Since(start)
	var rows int
	db.SQL().QueryRow(`SELECT COUNT(*) FROM inbox`).Scan(&rows)
	if rows != n {
		return fmt.Errorf("the poller recorded %d of %d", rows, n)
	}
	bareRate, pollRate := float64(n)/bare.Seconds(), float64(n)/handled.Seconds()
	fmt.Printf("%d replies, %d KiB\n(a) bare UID FETCH BODY.PEEK[]: %.0f msgs/s (%v)\n(b) poller (fetch, parse, trim, match, store, move): %.0f msgs/s (%v)\nratio b/a: %.2f (target >= 0.70)\n",
		n, bytes>>10, bareRate, bare.Round(time.Millisecond), pollRate, handled.Round(time.Millisecond), pollRate/bareRate)

	// Latency: Postfix accepts a reply → its handling is committed.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lp := mailin.NewPoller(st.IMAP, recv)
	lp.TLS, lp.TLSConfig, lp.Username, lp.Password = mailin.TLSStartTLS, st.TLS, "bench", st.Password("bench")
	lp.Logger = p.Logger
	ready := make(chan struct{}, 1000)
	lp.Passed = func() {
		select {
		case ready <- struct{}{}:
		default:
		}
	}
	go lp.Run(ctx)
	<-ready
	var lat []time.Duration
	for i := range m {
		raw := reply(st, tokens[n+i], n+i)
		key := messageID(raw)
		if err := sendRaw(st.SMTP, tokens[n+i].from, "bench+"+tokens[n+i].value+"@"+st.Domain, raw); err != nil {
			return err
		}
		sent := time.Now()
		deadline := sent.Add(30 * time.Second)
		for {
			var one int
			if db.SQL().QueryRow(`SELECT 1 FROM inbox WHERE message_key = ?`, key).Scan(&one) == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("reply %d not committed within 30 s", i)
			}
			time.Sleep(2 * time.Millisecond)
		}
		lat = append(lat, time.Since(sent))
	}
	slices.Sort(lat)
	fmt.Printf("Postfix accepted → committed, with IDLE, %d replies: p50 %v, p99 %v, max %v (target p99 <= 2s)\n",
		m, lat[len(lat)/2].Round(time.Millisecond), lat[len(lat)*99/100].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	return st.Empty("bench")
}

type token struct {
	value, from string
}

// agreementsFor creates k agreements between alice and bob and returns
// both parties' confirm tokens, alternating.
func agreementsFor(ctx context.Context, db *agreements.DB, st *mailstack.Stack, k int) ([]token, error) {
	var out []token
	for i := range k {
		a, err := db.CreateAgreement(ctx, agreements.Terms{
			Title: fmt.Sprintf("Bench %d", i), WhatWentWrong: "A benchmark.",
			Parties: []agreements.Party{
				{Name: "Alice", Address: st.Address("alice"), TimeZone: "UTC", Commitments: []string{"Call."}},
				{Name: "Bob", Address: st.Address("bob"), TimeZone: "UTC", Commitments: []string{"Ask."}},
			},
			CheckIn: agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 19},
		})
		if err != nil {
			return nil, err
		}
		for _, p := range a.Terms.Parties {
			t, err := db.IssueToken(ctx, p.ID, agreements.PurposeConfirm, 1)
			if err != nil {
				return nil, err
			}
			out = append(out, token{value: t.Value, from: p.Address})
		}
	}
	return out, nil
}

func reply(st *mailstack.Stack, t token, i int) []byte {
	quote := strings.Repeat("> Reply \"I agree\" to confirm. Reply with anything else to comment.\r\n", 30)
	return []byte(fmt.Sprintf("From: %s\r\nTo: bench+%s@%s\r\nSubject: Re: Please confirm [ref %s]\r\nMessage-ID: <bench.%d.%s@%s>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI agree\r\n\r\nOn Fri, Nov 27, 2026 at 9:00 AM inwriting <bench@%s> wrote:\r\n%s",
		t.from, t.value, st.Domain, t.value, i, randomHex(4), st.Domain, st.Domain, quote))
}

func messageID(raw []byte) string {
	for _, l := range strings.Split(string(raw), "\r\n") {
		if v, ok := strings.CutPrefix(l, "Message-ID: "); ok {
			return v
		}
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sendRaw submits raw to Postfix's plain SMTP port, as another server
// would deliver it.
func sendRaw(addr, from, to string, raw []byte) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
