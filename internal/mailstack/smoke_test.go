package mailstack_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/internal/mailstack"
	"github.com/inwriting/inwriting/internal/mailtest"
)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// send submits a message from smoke to to over the submission port with
// STARTTLS and AUTH, and returns its Message-ID (without brackets).
func send(t *testing.T, s *mailstack.Stack, to, subject string) string {
	t.Helper()
	host, port, _ := strings.Cut(s.Submission, ":")
	var p int
	fmt.Sscan(port, &p)
	c, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(s.TLS),
		gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername("smoke"), gomail.WithPassword(s.Password("smoke")),
		gomail.WithTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	m := gomail.NewMsg()
	if err := m.From(s.Address("smoke")); err != nil {
		t.Fatal(err)
	}
	if err := m.To(to); err != nil {
		t.Fatal(err)
	}
	id := randomHex(8) + "@smoke.example.test"
	m.SetMessageIDWithValue(id)
	m.Subject(subject)
	m.SetBodyString(gomail.TypeTextPlain, "I agree\n")
	if err := c.DialAndSendWithContext(context.Background(), m); err != nil {
		t.Fatalf("send: %v", err)
	}
	return id
}

func dial(t *testing.T, s *mailstack.Stack, opts *imapclient.Options) *imapclient.Client {
	t.Helper()
	if opts == nil {
		opts = &imapclient.Options{}
	}
	opts.TLSConfig = s.TLS
	c, err := imapclient.DialStartTLS(s.IMAP, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("smoke", s.Password("smoke")).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitUID waits until the message with Message-ID id is in the selected
// mailbox and returns its UID.
func waitUID(t *testing.T, c *imapclient.Client, id string) imap.UID {
	t.Helper()
	var uid imap.UID
	mailtest.Eventually(t, "message "+id+" arriving", func() bool {
		data, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if uids := data.AllUIDs(); len(uids) > 0 {
			uid = uids[0]
			return true
		}
		if err := c.Noop().Wait(); err != nil {
			t.Fatal(err)
		}
		return false
	})
	return uid
}

// TestSmoke proves the stack: mail submitted with go-mail to a
// plus-address reaches smoke's INBOX, go-imap fetches it whole by UID,
// MOVEs it to a folder, and IDLE reports the next message.
func TestSmoke(t *testing.T) {
	s := mailstack.Require(t)
	t.Logf("mail stack: SMTP %s, submission %s, IMAP %s (state in %s)", s.SMTP, s.Submission, s.IMAP, s.Dir)
	token := "tok" + randomHex(6)

	newMail := make(chan uint32, 16)
	c := dial(t, s, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case newMail <- *d.NumMessages:
				default:
				}
			}
		},
	}})
	caps := c.Caps()
	for _, cp := range []imap.Cap{imap.CapIdle, imap.CapMove, imap.CapUIDPlus} {
		if !caps.Has(cp) {
			t.Fatalf("server lacks %s after login", cp)
		}
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if sel.UIDValidity == 0 {
		t.Fatal("UIDVALIDITY = 0")
	}

	// 1. Send to a plus-address and fetch the whole message by UID.
	id := send(t, s, "smoke+"+token+"@"+s.Domain, "smoke "+token)
	uid := waitUID(t, c, id)
	fc := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	bufs, err := fc.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if len(bufs) != 1 || bufs[0].UID != uid {
		t.Fatalf("fetched %d messages, want UID %d", len(bufs), uid)
	}
	raw := bufs[0].FindBodySection(&imap.FetchItemBodySection{})
	for _, want := range []string{"Delivered-To: smoke+" + token + "@" + s.Domain, "Message-ID: <" + id + ">", "I agree"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Fatalf("message lacks %q:\n%s", want, raw)
		}
	}

	// 2. MOVE it to a folder of its own (created first; ALREADYEXISTS is fine).
	folder := "Smoke-" + token
	if err := c.Create(folder, nil).Wait(); err != nil {
		var ie *imap.Error
		if !errors.As(err, &ie) || ie.Code != imap.ResponseCodeAlreadyExists {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { c.Delete(folder).Wait() })
	md, err := c.Move(imap.UIDSetNum(uid), folder).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if md.UIDValidity == 0 || md.DestUIDs == nil {
		t.Fatalf("MOVE data = %+v, want UIDPLUS COPYUID", md)
	}
	left, err := c.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{imap.UIDSetNum(uid)}}, nil).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if len(left.AllUIDs()) != 0 {
		t.Fatal("the moved message is still in INBOX")
	}
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	if st.NumMessages == nil || *st.NumMessages != 1 {
		t.Fatalf("%s holds %v messages, want 1", folder, st.NumMessages)
	}

	// 3. IDLE, send another, and wait for the EXISTS notice (Dovecot batches
	// them for about half a second).
	for len(newMail) > 0 {
		<-newMail
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	id2 := send(t, s, "smoke+"+token+"@"+s.Domain, "smoke idle "+token)
	select {
	case n := <-newMail:
		t.Logf("IDLE: EXISTS %d after %v", n, time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("no IDLE notification within 10 s")
	}
	if err := idle.Close(); err != nil {
		t.Fatal(err)
	}
	if err := idle.Wait(); err != nil {
		t.Fatal(err)
	}
	uid2 := waitUID(t, c, id2)
	// Leave the mailbox as we found it.
	if err := c.Store(imap.UIDSetNum(uid2), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.UIDExpunge(imap.UIDSetNum(uid2)).Close(); err != nil {
		t.Fatal(err)
	}
}
