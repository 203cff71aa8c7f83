package main_test

import (
	"io"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"
)

// doctorSMTP is an SMTP server that refuses what its fields say.
type doctorSMTP struct {
	refuseFrom, refusePlus bool
}

func (d *doctorSMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return doctorSession{d}, nil }

type doctorSession struct{ d *doctorSMTP }

func (s doctorSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.d.refuseFrom {
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender not allowed"}
	}
	return nil
}

func (s doctorSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.d.refusePlus && strings.Contains(to, "+") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User does not exist"}
	}
	return nil
}

func (doctorSession) Data(io.Reader) error { return nil }
func (doctorSession) Reset()               {}
func (doctorSession) Logout() error        { return nil }

// doctorEnv returns an environment whose configuration reaches an
// in-memory IMAP server (with caps) and the SMTP server d, both plain
// text on loopback.
func doctorEnv(t *testing.T, caps imap.CapSet, d *doctorSMTP) *env {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("service", "pw")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	is := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         caps,
		InsecureAuth: true,
	})
	iln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go is.Serve(iln)
	t.Cleanup(func() { is.Close() })
	ss := smtp.NewServer(d)
	ss.Domain = "mx.example.test"
	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go ss.Serve(sln)
	t.Cleanup(func() { ss.Close() })

	e := newEnv(t)
	port := func(ln net.Listener) string { return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) }
	for k, v := range map[string]string{
		"INWRITING_SERVICE_ADDRESS": "service@example.test",
		"INWRITING_IMAP_HOST":       "127.0.0.1", "INWRITING_IMAP_PORT": port(iln), "INWRITING_IMAP_TLS": "none",
		"INWRITING_IMAP_USERNAME": "service", "INWRITING_IMAP_PASSWORD": "pw",
		"INWRITING_SMTP_HOST": "127.0.0.1", "INWRITING_SMTP_PORT": port(sln), "INWRITING_SMTP_TLS": "none",
	} {
		e.vars[k] = v
	}
	return e
}

// TestDoctor: doctor sends MAIL FROM and RCPT TO as a mail would, asks
// about the plus-address replies go to, says what the IMAP server's
// capabilities make the poller do, and fails on what would stop the
// service.
func TestDoctor(t *testing.T) {
	all := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	for _, tt := range []struct {
		name string
		caps imap.CapSet
		smtp doctorSMTP
		vars map[string]string
		code int
		want []string
	}{
		{"AllWell", all, doctorSMTP{}, nil, 0, []string{
			"MAIL FROM and RCPT TO service@example.test accepted",
			"ok    plus       the server takes service+TOKEN@example.test",
			"IDLE: new mail is read as it arrives; MOVE: handled mail is moved",
			"All checks passed.",
		}},
		{"NoPlus", all, doctorSMTP{refusePlus: true}, nil, 1, []string{
			"FAIL  plus       the server refuses plus-addresses (RCPT TO:<service+probe@example.test>: 550 5.1.1 User does not exist)",
			"set service.plus_addressing = false",
		}},
		{"NoPlusConfigured", all, doctorSMTP{refusePlus: true}, map[string]string{"INWRITING_SERVICE_PLUS_ADDRESSING": "false"}, 0, []string{
			"replies come to service@example.test, matched by the subject tag",
		}},
		{"SenderRefused", all, doctorSMTP{refuseFrom: true}, nil, 1, []string{
			"FAIL  smtp       MAIL FROM:<service@example.test>: 553 5.7.1 sender not allowed",
		}},
		{"OldIMAP", imap.CapSet{imap.CapIMAP4rev1: {}}, doctorSMTP{}, nil, 0, []string{
			"; no MOVE or UIDPLUS: handled mail is copied to its folder and flagged \\Deleted, never expunged",
		}},
		{"RequireWithoutAuthServ", all, doctorSMTP{}, map[string]string{"INWRITING_AUTH_REQUIRE": "true"}, 1, []string{
			"auth.require is on but no auth.authserv_id is set",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.smtp
			e := doctorEnv(t, tt.caps, &d)
			for k, v := range tt.vars {
				e.vars[k] = v
			}
			r := e.run("", "doctor")
			if r.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("doctor does not say %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}
