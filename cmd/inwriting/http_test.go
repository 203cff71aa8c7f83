package main_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	main "github.com/inwriting/inwriting/cmd/inwriting"
	"github.com/inwriting/inwriting/mailin"
)

func TestOneClickUnsubscribe(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := agreements.NewDB(filepath.Join(dir, "db"))
	db.Reader = mailin.Reader{}
	db.Now = func() time.Time { return Now }
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	terms, err := agreements.ParseProposal(agreements.ProposalInput{Text: mustRead(t, exampleFile)})
	if err != nil {
		t.Fatal(err)
	}
	a, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		t.Fatal(err)
	}
	confirmByReply(t, db, a.ID)
	tok, err := db.IssueToken(ctx, a.Terms.Parties[1].ID, agreements.PurposeCommands, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := main.NewMain()
	srv := httptest.NewServer(m.HandlerForTest(db))
	defer srv.Close()

	// A GET (a link scanner) changes nothing.
	res, err := http.Get(srv.URL + "/unsubscribe/" + tok.Value)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(body), `method="post"`) {
		t.Fatalf("GET = %d %s", res.StatusCode, body)
	}
	if got, _ := db.FindAgreementByID(ctx, a.ID); got.Status != agreements.StatusActive {
		t.Fatal("a GET paused the agreement")
	}
	// The one-click POST of RFC 8058.
	for range 2 {
		res, err = http.Post(srv.URL+"/unsubscribe/"+tok.Value, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("POST = %v %v", res.StatusCode, err)
		}
	}
	if got, _ := db.FindAgreementByID(ctx, a.ID); got.Status != agreements.StatusPaused || !got.Terms.Parties[1].Unsubscribed() || got.Terms.Parties[0].Unsubscribed() {
		t.Fatalf("status %s, unsubscribed %v %v; want paused, Bob alone unsubscribed", got.Status, got.Terms.Parties[0].Unsubscribed(), got.Terms.Parties[1].Unsubscribed())
	}
	ms, _ := db.FindOutbox(ctx, agreements.OutboxFilter{})
	notices := 0
	for _, m := range ms {
		if m.Kind == agreements.MailNotice {
			notices++
			if m.To != "alice@example.test" || m.Data.Notice != agreements.NoticePausedForNow || m.Data.Author != nil {
				t.Fatalf("notice to %s is %q by %v", m.To, m.Data.Notice, m.Data.Author)
			}
		}
	}
	if notices != 1 {
		t.Fatalf("%d notices, want 1, to Alice only", notices)
	}
	res, _ = http.Post(srv.URL+"/unsubscribe/aaaaaaaaaaaaaaaaaaaaaaaa", "", nil)
	if res.StatusCode != 404 {
		t.Fatalf("unknown token: %d", res.StatusCode)
	}
	if res, _ := http.Get(srv.URL + "/healthz"); res.StatusCode != 200 {
		t.Fatalf("healthz: %d", res.StatusCode)
	}
}

func mustRead(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReadyz: serve is ready when the database can be written, the poller
// is connected or reconnecting for a short while, and no mail has waited
// long past its time; each check says its part.
func TestReadyz(t *testing.T) {
	ctx := context.Background()
	db := agreements.NewDB(filepath.Join(t.TempDir(), "inwriting.db"))
	now := Now
	db.Now = func() time.Time { return now }
	db.Reader = mailin.Reader{}
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	connected := mailin.Status{Started: true, Connected: true, Since: time.Now().Add(-time.Hour)}
	for _, tt := range []struct {
		name   string
		status *mailin.Status // nil: no poller
		mail   bool           // a mail queued at Now
		after  time.Duration  // how long after Now the check runs
		code   int
		says   string
	}{
		{"Ready", &connected, false, 0, 200, "imap: connected since"},
		{"NoPoller", nil, false, 0, 503, "imap: no poller runs"},
		{"Starting", &mailin.Status{}, false, 0, 503, "imap: starting"},
		{"Reconnecting", &mailin.Status{Started: true, Since: time.Now().Add(-time.Minute), Err: errors.New("connection reset")}, false, 0, 200, "imap: reconnecting since"},
		{"CannotStart", &mailin.Status{Started: true, Since: time.Now().Add(-10 * time.Minute), Err: errors.New("create folder Processed: NO")}, false, 0, 503, "create folder Processed"},
		{"MailBeingSent", &connected, true, time.Minute, 200, "is being sent"},
		{"OutboxStuck", &connected, true, time.Hour, 503, "is not sent"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			now = Now.Add(tt.after)
			if tt.mail {
				if _, err := db.SQL().Exec(`DELETE FROM outbox`); err != nil {
					t.Fatal(err)
				}
				now = Now
				if _, err := db.CreateAgreement(ctx, exampleTerms(t)); err != nil {
					t.Fatal(err)
				}
				now = Now.Add(tt.after)
			}
			m := main.NewMain()
			var status func() mailin.Status
			if tt.status != nil {
				st := *tt.status
				status = func() mailin.Status { return st }
			}
			m.ReadyForTest(db, status)
			srv := httptest.NewServer(m.HandlerForTest(db))
			defer srv.Close()
			res, err := http.Get(srv.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.code || !strings.Contains(string(body), tt.says) || !strings.Contains(string(body), "database: writable") {
				t.Fatalf("readyz: %d\n%s\nwant %d and %q", res.StatusCode, body, tt.code, tt.says)
			}
		})
	}
}

// exampleTerms returns deploy/example-agreement.txt, read.
func exampleTerms(t *testing.T) agreements.Terms {
	t.Helper()
	terms, err := agreements.ParseProposal(agreements.ProposalInput{Text: mustRead(t, exampleFile)})
	if err != nil {
		t.Fatal(err)
	}
	return terms
}
