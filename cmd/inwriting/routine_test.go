package main_test

import (
	"context"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/agreements"
	main "github.com/inwriting/inwriting/cmd/inwriting"
	"github.com/inwriting/inwriting/internal/sandbox"
)

// TestRoutine_ByMail lives through twelve weeks of a weekly Sunday 19:00
// check-in between Alice in Lisbon and Bob in Chicago, across both clock
// changes of spring 2027 (Chicago 14 March, Lisbon 28 March), by mail
// alone: the service's own sender, poller and reply reader run on the
// sandbox's IMAP and SMTP servers, driven one step at a time on an
// injected clock, and Alice and Bob read their mailboxes over IMAP and
// answer as a mail client would, over SMTP. Bob misses a round, Alice
// corrects an answer with "fix:", pauses after week 7, and in week 9 Bob
// asks to start again and Alice, told so, resumes; the scheduler runs
// twice at every step. The night (21:00-08:00) is on: nobody is woken.
func TestRoutine_ByMail(t *testing.T) {
	ctx := context.Background()
	srv := sandbox.New()
	srv.IMAPAddr, srv.SMTPAddr = freeAddr(t), freeAddr(t)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var mu sync.Mutex
	now := time.Date(2027, 2, 24, 15, 0, 0, 0, time.UTC) // a Wednesday, day in Lisbon and in Chicago
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	setClock := func(t time.Time) {
		mu.Lock()
		now = t
		mu.Unlock()
	}
	db, sender, poller, err := main.SandboxServiceForTest(ctx, srv, t.TempDir(), clock, "21:00-08:00")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	text := strings.Replace(agreementText, "%s", "Twelve weeks", 1)
	text = strings.Replace(text, "%s", "Bob Example <bob@example.test>", 1)
	terms, err := agreements.ParseProposal(agreements.ProposalInput{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		t.Fatal(err)
	}
	alice, bob := newMailUser(t, srv, "alice"), newMailUser(t, srv, "bob")
	lisbon, chicago := mustLoadLocation(t, "Europe/Lisbon"), mustLoadLocation(t, "America/Chicago")

	kindOf := func(id string) agreements.MailKind {
		ms, err := db.FindOutbox(ctx, agreements.OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.MessageID == id {
				return m.Kind
			}
		}
		t.Fatalf("a mail that the service did not send: %s", id)
		return ""
	}
	week := func() int { return int(clock().Sub(time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC)).Hours()/24/7) + 1 }
	type arrival struct {
		kind agreements.MailKind
		at   time.Time
		week int
		raw  []byte
	}
	got := map[string][]arrival{}                                    // by user
	answered := map[string]map[int]time.Time{"alice": {}, "bob": {}} // first answer, by user and week
	roundOpened := map[int]time.Time{}
	replies := 0

	// step sends what is due, lets Alice and Bob read and answer, and reads
	// their answers, until the mail stops.
	step := func() {
		t.Helper()
		for {
			n, err := sender.Drain(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				return
			}
			sent := 0
			for _, u := range []*mailUser{alice, bob} {
				for _, raw := range u.newMail(t) {
					m, err := mail.ReadMessage(strings.NewReader(string(raw)))
					if err != nil {
						t.Fatal(err)
					}
					k := kindOf(strings.Trim(m.Header.Get("Message-Id"), "<>"))
					got[u.user] = append(got[u.user], arrival{k, clock(), week(), raw})
					var answers []string
					switch {
					case k == agreements.MailConfirmRequest:
						answers = []string{"I agree"}
					case k == agreements.MailCheckIn && u == bob && week() == 3:
						// Bob misses this round.
					case k == agreements.MailCheckIn && u == alice && week() == 5:
						answers = []string{"1 missed, 2 kept", "fix: 1 partly, 2 kept"}
					case k == agreements.MailCheckIn && u == alice:
						answers = []string{"1 kept, 2 kept\nSomething good about Bob: he asked me first."}
					case k == agreements.MailCheckIn:
						answers = []string{"1 kept\nSomething good about Alice: she called at six."}
					case k == agreements.MailNotice && u == alice && strings.Contains(string(raw), "Bob would like to start the check-ins again"):
						// The break is hers: Bob's wish comes to her, and she resumes.
						answers = []string{"resume"}
					}
					if k == agreements.MailCheckIn {
						if _, ok := roundOpened[week()]; !ok {
							roundOpened[week()] = clock()
						}
						if u == alice && week() == 7 {
							answers = append(answers, "pause")
						}
					}
					for _, text := range answers {
						u.reply(t, raw, text)
						replies++
						sent++
						if _, ok := answered[u.user][week()]; !ok && k == agreements.MailCheckIn {
							answered[u.user][week()] = clock()
						}
					}
					if k == agreements.MailNotice && u == bob && strings.Contains(string(raw), "paused") {
						u.lastNotice = raw
					}
				}
			}
			if sent > 0 {
				if err := poller.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	step() // the copies to confirm, the confirmations, the confirmed copies
	if got, _ := db.FindAgreementByID(ctx, a.ID); got.Status != agreements.StatusActive {
		t.Fatalf("status %s after both agreed by mail", got.Status)
	}
	for end := clock().Add(12 * 7 * 24 * time.Hour); clock().Before(end); setClock(clock().Add(30 * time.Minute)) {
		for range 2 {
			if _, err := db.RunSchedule(ctx); err != nil {
				t.Fatal(err)
			}
		}
		step()
		c := clock()
		if week() == 9 && c.Weekday() == time.Wednesday && c.Hour() == 15 && c.Minute() == 0 {
			if bob.lastNotice == nil {
				t.Fatal("Bob was not told of the pause")
			}
			bob.reply(t, bob.lastNotice, "resume")
			replies++
			if err := poller.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			step()
		}
	}

	// Every reply was read, once, and none was refused.
	var handled, refused int
	db.SQL().QueryRow(`SELECT COUNT(*), COUNT(*) FILTER (WHERE outcome IN ('refused', 'unsure', 'rejected-auth', 'unreadable')) FROM inbox`).Scan(&handled, &refused)
	if handled != replies || refused != 0 {
		t.Fatalf("%d replies handled (%d refused), want %d, none refused", handled, refused, replies)
	}
	count := func(user string, k agreements.MailKind) int {
		n := 0
		for _, a := range got[user] {
			if a.kind == k {
				n++
			}
		}
		return n
	}
	// 12 Sundays, less weeks 8 and 9 (Alice paused after week 7's round;
	// she resumed in week 9, after its Sunday, when Bob asked).
	for _, user := range []string{"alice", "bob"} {
		if n := count(user, agreements.MailCheckIn); n != 10 {
			t.Errorf("%s got %d check-ins, want 10", user, n)
		}
		if n := count(user, agreements.MailDigest); n != 10 {
			t.Errorf("%s got %d digests, want 10", user, n)
		}
		if n := count(user, agreements.MailNotice); n != 3 {
			t.Errorf("%s got %d notices, want 3 (paused; Bob's wish, to each; resumed)", user, n)
		}
		if n := count(user, agreements.MailConfirmed); n != 1 {
			t.Errorf("%s got %d confirmed copies, want 1", user, n)
		}
	}
	if n, m := count("bob", agreements.MailNudge), count("alice", agreements.MailNudge); n != 1 || m != 0 {
		t.Errorf("nudges: Bob %d, Alice %d; want 1 (Bob, week 3) and 0", n, m)
	}
	// 10 check-in answers and a fix from Alice, 9 from Bob: a receipt
	// each; and Alice's confirmation. Bob's, the last, is answered by the
	// confirmed copy alone.
	if n, m := count("alice", agreements.MailReceipt), count("bob", agreements.MailReceipt); n != 1+10+1 || m != 9 {
		t.Errorf("receipts: Alice %d, Bob %d; want 12 and 9 (confirmation, answers, fix)", n, m)
	}
	// Each party's check-ins came at 19:00 on Sundays, their own time, on
	// both sides of the clock changes.
	for user, loc := range map[string]*time.Location{"alice": lisbon, "bob": chicago} {
		for _, a := range got[user] {
			if l := a.at.In(loc); a.kind == agreements.MailCheckIn && (l.Weekday() != time.Sunday || l.Hour() != 19 || l.Minute() != 0) {
				t.Errorf("%s's week-%d check-in came at %s", user, a.week, l.Format(time.RFC1123))
			}
		}
	}
	// A digest comes as soon as both have answered, or, for the round Bob
	// missed, when his own 24 hours from his check-in are up (the last
	// window), or, when that is in the reader's night, at its end; never
	// before, and it says what the other wrote.
	night, _ := agreements.ParseNight("21:00-08:00")
	zone := map[string]*time.Location{"alice": lisbon, "bob": chicago}
	// Nobody is woken: nothing but a check-in (at the time they chose) or
	// an answer to their own reply reaches them in their night.
	for user, as := range got {
		for _, a := range as {
			if h := a.at.In(zone[user]).Hour(); (h >= 21 || h < 8) && a.kind != agreements.MailCheckIn && a.kind != agreements.MailReceipt {
				t.Errorf("%s got a %s at %s, in their night", user, a.kind, a.at.In(zone[user]).Format("Mon 2 Jan 15:04 MST"))
			}
		}
	}
	var bobsThird time.Time
	for _, a := range got["bob"] {
		if a.kind == agreements.MailCheckIn && a.week == 3 {
			bobsThird = a.at
		}
	}
	for user, other := range map[string]string{"alice": "she called at six", "bob": "he asked me first"} {
		for _, a := range got[user] {
			if a.kind != agreements.MailDigest {
				continue
			}
			want := answered["alice"][a.week]
			if b := answered["bob"][a.week]; b.After(want) {
				want = b
			}
			if a.week == 3 {
				want = bobsThird.Add(24 * time.Hour)
			}
			// Not in the reader's night: it waits for the morning.
			want = night.After(want, zone[user])
			if !a.at.Equal(want) {
				t.Errorf("%s's digest of week %d came at %v, want %v", user, a.week, a.at, want)
			}
			body := strings.ReplaceAll(string(a.raw), "=\r\n", "")
			says := other
			switch {
			case a.week == 3 && user == "alice":
				says = "Bob did not get to answer this time." // kindly, not blamed
			case a.week == 5 && user == "bob":
				says = "Call or text before 18:00 when I will be home after 19:00: partly" // the fix, not the first answer, by its words
			}
			if !strings.Contains(body, says) {
				t.Errorf("%s's digest of week %d lacks %q:\n%s", user, a.week, says, body)
			}
		}
	}
	// Alice's fix replaced her week-5 answer.
	rounds, err := db.FindRounds(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 10 {
		t.Fatalf("%d rounds, want 10", len(rounds))
	}
	if ans := rounds[4].Parties[0].Answer; ans == nil || ans.Statuses[1] != "partly" || ans.Statuses[2] != "kept" {
		t.Errorf("Alice's week-5 answer = %+v, want the fix (1 partly, 2 kept)", ans)
	}
	if ans := rounds[2].Parties[1]; ans.AnsweredAt != "" {
		t.Errorf("Bob answered week 3: %+v", ans)
	}
	if ans := rounds[0].Parties[1].Answer; ans == nil || ans.Statuses[1] != "kept" || !strings.Contains(ans.PositiveOther, "called at six") {
		t.Errorf("Bob's week-1 answer = %+v", ans)
	}
	if r, err := db.FindRecord(ctx, a.ID); err != nil || r.ChainErr != nil {
		t.Fatalf("the event log: %v %v", err, r.ChainErr)
	}
}

// mailUser is a person at the sandbox with a mail client: an IMAP session
// on their INBOX, and SMTP submission for replies.
type mailUser struct {
	user, smtpAddr string
	c              *imapclient.Client
	seen           imap.UID
	lastNotice     []byte
}

func newMailUser(t *testing.T, srv *sandbox.Server, user string) *mailUser {
	t.Helper()
	c, err := imapclient.DialInsecure(srv.IMAPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, sandbox.Password(user)).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	return &mailUser{user: user, smtpAddr: srv.SMTPAddr, c: c}
}

// newMail returns the mail that arrived since the last call, oldest first.
func (u *mailUser) newMail(t *testing.T) [][]byte {
	t.Helper()
	if err := u.c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	set := imap.UIDSet{imap.UIDRange{Start: u.seen + 1, Stop: 0}}
	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := u.c.Fetch(set, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, b := range bufs {
		if b.UID <= u.seen { // "n:*" names the last mail even when n is past it
			continue
		}
		u.seen = b.UID
		out = append(out, b.FindBodySection(section))
	}
	return out
}

// reply answers raw as a mail client would, through the sandbox's SMTP.
func (u *mailUser) reply(t *testing.T, raw []byte, text string) {
	t.Helper()
	m, _ := replyMsg(t, u.user+"@"+sandbox.Domain, raw, text)
	host, port, _ := net.SplitHostPort(u.smtpAddr)
	p, _ := strconv.Atoi(port)
	c, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(u.user), gomail.WithPassword(sandbox.Password(u.user)))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DialAndSend(m); err != nil {
		t.Fatal(err)
	}
}

func mustLoadLocation(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
