package sandbox_test

import (
	"net/smtp"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/inwriting/inwriting/internal/mailtest"
	"github.com/inwriting/inwriting/internal/sandbox"
)

func start(t *testing.T, dir string) *sandbox.Server {
	s := sandbox.New()
	s.IMAPAddr, s.SMTPAddr, s.Dir = "127.0.0.1:0", "127.0.0.1:0", dir
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func count(t *testing.T, s *sandbox.Server, user string) uint32 {
	t.Helper()
	c, err := imapclient.DialInsecure(s.IMAPAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(user, sandbox.Password(user)).Wait(); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status("INBOX", &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	return *st.NumMessages
}

func send(s *sandbox.Server, user string, to ...string) error {
	auth := smtp.PlainAuth("", user, sandbox.Password(user), "127.0.0.1")
	msg := "From: " + user + "@example.test\r\nSubject: hi\r\n\r\nhello\r\n"
	return smtp.SendMail(s.SMTPAddr, auth, user+"@example.test", to, []byte(msg))
}

func TestSandbox(t *testing.T) {
	s := start(t, "")
	if err := send(s, "alice", "service+TOKEN@example.test", "bob@example.test"); err != nil {
		t.Fatal(err)
	}
	if count(t, s, "service") != 1 || count(t, s, "bob") != 1 || count(t, s, "alice") != 0 {
		t.Fatal("plus-addressed mail did not land in service's INBOX, or bob's copy is missing")
	}
	if err := send(s, "alice", "carol@elsewhere.test"); err == nil || !strings.Contains(err.Error(), "550") {
		t.Fatalf("mail to another domain = %v, want 550", err)
	}
	if err := smtp.SendMail(s.SMTPAddr, nil, "x@example.test", []string{"bob@example.test"}, []byte("Subject: x\r\n\r\nx\r\n")); err == nil {
		t.Fatal("mail without AUTH was accepted")
	}
	if err := s.Deliver("nobody@example.test", []byte("x")); err == nil {
		t.Fatal("delivered to a mailbox that does not exist")
	}
}

func TestSandbox_Persistent(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	if err := send(s, "bob", "alice@example.test"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2 := start(t, dir)
	if n := count(t, s2, "alice"); n != 1 {
		t.Fatalf("after a restart alice has %d mails, want 1", n)
	}
}

func TestSandbox_LoopbackOnly(t *testing.T) {
	s := sandbox.New()
	s.IMAPAddr, s.SMTPAddr = "0.0.0.0:0", "127.0.0.1:0"
	if err := s.Start(); err == nil {
		s.Close()
		t.Fatal("the sandbox listened beyond loopback")
	}
}

// TestSandbox_IdleAnnouncesEarlierMail: mail that arrives between a
// client's last command and its IDLE is announced when the IDLE starts,
// not when the next mail comes.
func TestSandbox_IdleAnnouncesEarlierMail(t *testing.T) {
	s := start(t, "")
	exists := make(chan uint32, 4)
	c, err := imapclient.DialInsecure(s.IMAPAddr, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				exists <- *d.NumMessages
			}
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("service", sandbox.Password("service")).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Noop().Wait(); err != nil {
		t.Fatal(err)
	}
	if err := s.Deliver("service@example.test", []byte("Subject: between\r\n\r\nx\r\n")); err != nil {
		t.Fatal(err)
	}
	idle, err := c.Idle()
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	var n uint32
	mailtest.Eventually(t, "the IDLE's announcement", func() bool {
		select {
		case n = <-exists:
			return true
		default:
			return false
		}
	})
	if n != 1 {
		t.Fatalf("EXISTS %d, want 1", n)
	}
}
