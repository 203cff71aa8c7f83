package main_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/inwriting/inwriting/agreements"
)

// loopAgreement is an agreement between the loop test's own mailboxes.
const loopAgreement = `Title: Away from the office
From: Ann Example <ann@example.test>
To: Ben Example <ben@example.test>
Time zones: Ann Europe/Lisbon, Ben America/Chicago

What went wrong:
We stopped talking about the small things.

I will:
1. Ask about Ben's day.

Ben will:
1. Ask about Ann's day.

Check in: every Sunday at 19:00
`

// autoResponder answers every mail that reaches user with the same
// out-of-office text, as many real auto-responders do: a plain reply,
// threaded, with none of the headers that mark automatic mail. It counts
// the mails that reached user.
type autoResponder struct {
	s        *stackEnv
	user     string
	mu       sync.Mutex
	received int
}

func (a *autoResponder) run(ctx context.Context, t *testing.T) {
	c, err := imapclient.DialStartTLS(a.s.st.IMAP, &imapclient.Options{TLSConfig: a.s.st.TLS})
	if err != nil {
		t.Error(err)
		return
	}
	defer c.Close()
	if err := c.Login(a.user, a.s.st.Password(a.user)).Wait(); err != nil {
		t.Error(err)
		return
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Error(err)
		return
	}
	var seen imap.UID
	for ctx.Err() == nil {
		c.Noop().Wait()
		set := imap.UIDSet{imap.UIDRange{Start: seen + 1, Stop: 0}}
		section := &imap.FetchItemBodySection{Peek: true}
		bufs, err := c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			t.Error(err)
			return
		}
		for _, b := range bufs {
			if b.UID <= seen {
				continue
			}
			seen = b.UID
			a.mu.Lock()
			a.received++
			a.mu.Unlock()
			text := fmt.Sprintf("Thank you for your message. I am out of the office until Monday %d December and will read it when I am back.", 7)
			a.s.replyAs(t, a.user, b.FindBodySection(section), text)
		}
		select {
		case <-ctx.Done():
		case <-time.After(300 * time.Millisecond):
		}
	}
}

func (a *autoResponder) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.received
}

// TestServe_AutoResponderLoop: Ann and Ben both have an out-of-office that
// sets no Auto-Submitted or Precedence header. For 60 seconds on the real
// stack, their auto-replies meet the service's mail: no detector can tell
// them from a person's reply, so the loop breaker must stop it. At most 3
// mails reach each, at most 3 comments are recorded, and the log says a
// loop was broken.
func TestServe_AutoResponderLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("a 60-second test on the mail stack")
	}
	s := serveOnStack(t)
	for _, u := range []string{"ann", "ben"} {
		if err := s.st.Empty(u); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ann, ben := &autoResponder{s: s, user: "ann"}, &autoResponder{s: s, user: "ben"}
	var wg sync.WaitGroup
	for _, a := range []*autoResponder{ann, ben} {
		wg.Add(1)
		go func() { defer wg.Done(); a.run(ctx, t) }()
	}
	id := s.newAgreement(t, loopAgreement)
	wg.Wait()
	r := s.stop()

	for _, a := range []*autoResponder{ann, ben} {
		if n := a.count(); n > 3 || n == 0 {
			t.Errorf("%d mails reached %s in 60 s, want 1 to 3", n, a.user)
		}
	}
	events, err := s.db.FindEvents(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	comments := 0
	for _, e := range events {
		if e.Type == agreements.EventCommented {
			comments++
		}
	}
	if comments > 3 {
		t.Errorf("%d comments recorded, want at most 3", comments)
	}
	if !strings.Contains(r.stderr, "mail loop broken") {
		t.Errorf("the log does not say a loop was broken:\n%s", r.stderr)
	}
	t.Logf("mails: Ann %d, Ben %d; comments recorded: %d", ann.count(), ben.count(), comments)
}
