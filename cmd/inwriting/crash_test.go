package main_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailstack"
	"github.com/inwriting/inwriting/mailin"
)

// TestCrash handles 2,000 replies while the serve process is killed with
// SIGKILL at 10 random moments and restarted, then checks that every reply
// was recorded exactly once and counts the mails Postfix received more
// than once. It takes about a minute: opt in with INWRITING_CRASH_TEST=1.
func TestCrash(t *testing.T) {
	if os.Getenv("INWRITING_CRASH_TEST") != "1" {
		t.Skip("slow: set INWRITING_CRASH_TEST=1 to run the crash test")
	}
	st := mailstack.Require(t)
	const agreementsN, kills = 1000, 10
	for _, u := range []string{"crash", "alice", "bob"} {
		if err := st.Empty(u); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(dir, "serve.log"))
			lines := strings.Split(string(b), "\n")
			var keep []string
			for _, l := range lines {
				if !strings.Contains(l, "mail sent") && !strings.Contains(l, "inbound mail") {
					keep = append(keep, l)
				}
			}
			t.Logf("serve log, without the routine lines:\n%s", strings.Join(keep, "\n"))
		}
	}()
	bin := filepath.Join(dir, "inwriting")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	data := filepath.Join(dir, "data")
	imapHost, imapPort, _ := strings.Cut(st.IMAP, ":")
	smtpHost, smtpPort, _ := strings.Cut(st.Submission, ":")
	env := append(os.Environ(),
		"INWRITING_DATA_DIR="+data,
		"INWRITING_NIGHT=off", // the wall clock's hour must not decide what is sent
		"INWRITING_SERVICE_ADDRESS="+st.Address("crash"),
		"INWRITING_IMAP_HOST="+imapHost, "INWRITING_IMAP_PORT="+imapPort, "INWRITING_IMAP_TLS=starttls",
		"INWRITING_IMAP_USERNAME=crash", "INWRITING_IMAP_PASSWORD="+st.Password("crash"),
		"INWRITING_IMAP_CA_FILE="+filepath.Join(st.Dir, "tls", "cert.pem"),
		"INWRITING_SMTP_HOST="+smtpHost, "INWRITING_SMTP_PORT="+smtpPort, "INWRITING_SMTP_TLS=starttls",
		"INWRITING_SMTP_USERNAME=crash", "INWRITING_SMTP_PASSWORD="+st.Password("crash"),
		"INWRITING_SMTP_CA_FILE="+filepath.Join(st.Dir, "tls", "cert.pem"),
	)

	// The agreements, and each party's confirm token.
	ctx := context.Background()
	db := agreements.NewDB(filepath.Join(data, "inwriting.db"))
	db.Reader = mailin.Reader{}
	db.MessageIDDomain = st.Domain
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	os.MkdirAll(data, 0o700)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	type reply struct{ from, token string }
	var replies []reply
	for i := range agreementsN {
		a, err := db.CreateAgreement(ctx, agreements.Terms{
			Title: fmt.Sprintf("Crash %d", i), WhatWentWrong: "A crash test.",
			Parties: []agreements.Party{
				{Name: "Alice", Address: st.Address("alice"), TimeZone: "UTC", Commitments: []string{"Call."}},
				{Name: "Bob", Address: st.Address("bob"), TimeZone: "UTC", Commitments: []string{"Ask."}},
			},
			CheckIn: agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 19},
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range a.Terms.Parties {
			tok, err := db.IssueToken(ctx, p.ID, agreements.PurposeConfirm, 1)
			if err != nil {
				t.Fatal(err)
			}
			replies = append(replies, reply{p.Address, tok.Value})
		}
	}
	rand.Shuffle(len(replies), func(i, j int) { replies[i], replies[j] = replies[j], replies[i] })

	// serve, killed and restarted.
	var mu sync.Mutex
	var cmd *exec.Cmd
	logf, _ := os.Create(filepath.Join(dir, "serve.log"))
	defer logf.Close()
	start := func() {
		c := exec.Command(bin, "serve")
		c.Env = env
		c.Stdout, c.Stderr = logf, logf
		if err := c.Start(); err != nil {
			t.Error(err)
			return
		}
		mu.Lock()
		cmd = c
		mu.Unlock()
		go c.Wait()
	}
	start()
	defer func() {
		mu.Lock()
		cmd.Process.Signal(syscall.SIGTERM)
		mu.Unlock()
		time.Sleep(3 * time.Second)
	}()
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for range kills {
			time.Sleep(time.Duration(500+rand.IntN(2500)) * time.Millisecond)
			mu.Lock()
			cmd.Process.Kill()
			mu.Unlock()
			time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
			start()
		}
	}()

	// Replies arrive through Postfix as from other servers.
	c, err := smtp.Dial(st.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range replies {
		raw := fmt.Sprintf("From: %s\r\nTo: crash+%s@%s\r\nSubject: Re: Please confirm\r\nMessage-ID: <crash.%d.%d@%s>\r\n\r\nI agree\r\n", r.from, r.token, st.Domain, i, time.Now().UnixNano(), st.Domain)
		if err := c.Mail(r.from); err != nil {
			t.Fatal(err)
		}
		if err := c.Rcpt("crash+" + r.token + "@" + st.Domain); err != nil {
			t.Fatal(err)
		}
		w, _ := c.Data()
		io.WriteString(w, raw)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if i%200 == 0 {
			time.Sleep(200 * time.Millisecond) // spread the replies over the kills
		}
	}
	c.Quit()
	<-killed

	// Everything settles with the last serve running.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var handled, pending int
		db.SQL().QueryRow(`SELECT COUNT(*) FROM inbox`).Scan(&handled)
		db.SQL().QueryRow(`SELECT COUNT(*) FROM outbox WHERE status != 'sent'`).Scan(&pending)
		if handled >= len(replies) && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 minutes: %d of %d replies handled, %d mails unsent", handled, len(replies), pending)
		}
		time.Sleep(500 * time.Millisecond)
	}
	var handled, distinct, confirmations, active, mails int
	db.SQL().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT message_key) FROM inbox`).Scan(&handled, &distinct)
	db.SQL().QueryRow(`SELECT COUNT(*) FROM confirmations`).Scan(&confirmations)
	db.SQL().QueryRow(`SELECT COUNT(*) FROM agreements WHERE status = 'active'`).Scan(&active)
	db.SQL().QueryRow(`SELECT COUNT(*) FROM outbox`).Scan(&mails)
	if handled != len(replies) || distinct != len(replies) || confirmations != len(replies) || active != agreementsN {
		t.Fatalf("%d replies recorded (%d distinct), %d confirmations, %d active; want %d, %d, %d, %d",
			handled, distinct, confirmations, active, len(replies), len(replies), len(replies), agreementsN)
	}
	if mails != 3*len(replies) {
		t.Fatalf("%d mails queued, want %d (a confirm request, a receipt and the confirmed copy per party)", mails, 3*len(replies))
	}

	// How often did Postfix receive each of our mails?
	ids := map[string]int{}
	rows, _ := db.SQL().Query(`SELECT message_id FROM outbox`)
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids["<"+id+">"] = 0
	}
	rows.Close()
	f, err := os.Open(filepath.Join(st.Dir, "log", "postfix.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	re := regexp.MustCompile(`cleanup\[\d+\]: \w+: message-id=(<[^>]+>)`)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			if _, ok := ids[m[1]]; ok {
				ids[m[1]]++
			}
		}
	}
	var missing, twice int
	for _, n := range ids {
		switch {
		case n == 0:
			missing++
		case n > 1:
			twice += n - 1
		}
	}
	t.Logf("crash test: %d replies, %d kills: every reply recorded once; %d mails sent, %d missing, %d sent more than once", len(replies), kills, len(ids), missing, twice)
	if missing > 0 {
		t.Fatalf("%d mails marked sent never reached Postfix", missing)
	}
	// A kill between the server's 250 and the commit that records it can
	// send a mail twice: that is the one duplicate that cannot be avoided.
	if twice > kills {
		t.Fatalf("%d mails sent twice over %d kills", twice, kills)
	}
	for _, u := range []string{"crash", "alice", "bob"} {
		st.Empty(u)
	}
}
