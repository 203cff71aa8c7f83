package main_test

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
			mustDoctor(t, e, tt.code, tt.want...)
		})
	}
}

// fakeDNS answers TXT lookups from a map; a name it lacks is not found.
type fakeDNS map[string][]string

func (f fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	if txts, ok := f[name]; ok {
		return txts, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// TestDoctor_DNSAndHTTP: doctor reads the domain's SPF, DMARC and DKIM
// records where DNS answers, fails when the DKIM record holds another key
// than the one the service signs with, and checks serve's web listener:
// free to listen on, or, when serve runs, ready.
func TestDoctor_DNSAndHTTP(t *testing.T) {
	all := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}, imap.CapMove: {}, imap.CapUIDPlus: {}}
	dir := t.TempDir()
	key := filepath.Join(dir, "dkim.pem")
	pub := make([]byte, 32)
	priv := ed25519.NewKeyFromSeed(make([]byte, 32))
	copy(pub, priv.Public().(ed25519.PublicKey))
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	good := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	dkim := map[string]string{"INWRITING_DKIM_DOMAIN": "example.test", "INWRITING_DKIM_SELECTOR": "iw", "INWRITING_DKIM_KEY_FILE": key}
	for _, tt := range []struct {
		name string
		dns  fakeDNS
		vars map[string]string
		code int
		want []string
	}{
		{"AllPublished", fakeDNS{"example.test": {"v=spf1 mx -all"}, "_dmarc.example.test": {"v=DMARC1; p=quarantine"}, "iw._domainkey.example.test": {good}}, dkim, 0, []string{
			"ok    spf        v=spf1 mx -all", "ok    dmarc      v=DMARC1; p=quarantine", "ok    dkim dns   iw._domainkey.example.test holds the key",
		}},
		{"NothingPublished", fakeDNS{}, nil, 0, []string{
			"note  spf        example.test has no SPF record", "note  dmarc      _dmarc.example.test has no DMARC record",
		}},
		{"OtherKey", fakeDNS{"example.test": {"v=spf1 mx -all"}, "iw._domainkey.example.test": {"v=DKIM1; k=ed25519; p=AAAA"}}, dkim, 1, []string{
			"FAIL  dkim dns   the DKIM record holds another key",
		}},
		{"NoDKIMRecord", fakeDNS{"example.test": {"v=spf1 mx -all"}}, dkim, 1, []string{
			"FAIL  dkim dns   iw._domainkey.example.test has no DKIM record",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := doctorEnv(t, all, &doctorSMTP{})
			e.resolver = tt.dns
			for k, v := range tt.vars {
				e.vars[k] = v
			}
			mustDoctor(t, e, tt.code, tt.want...)
		})
	}

	t.Run("HTTP", func(t *testing.T) {
		e := doctorEnv(t, all, &doctorSMTP{})
		e.resolver = fakeDNS{}
		if r := e.run("", "doctor"); !strings.Contains(r.stdout, "note  http       service.listen is not set") {
			t.Errorf("without service.listen:\n%s", r.stdout)
		}
		e.vars["INWRITING_SERVICE_LISTEN"] = freeAddr(t)
		if r := e.run("", "doctor"); r.code != 0 || !strings.Contains(r.stdout, "is free for serve's listener") {
			t.Errorf("a free address: exit %d\n%s", r.code, r.stdout)
		}
		// Something that is not a ready serve answers there.
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "imap: starting", http.StatusServiceUnavailable)
		}))
		defer srv.Close()
		e.vars["INWRITING_SERVICE_LISTEN"] = strings.TrimPrefix(srv.URL, "http://")
		if r := e.run("", "doctor"); r.code != 1 || !strings.Contains(r.stdout, "is not ready: imap: starting") {
			t.Errorf("a serve that is not ready: exit %d\n%s", r.code, r.stdout)
		}
	})
}

// mustDoctor runs doctor in e and wants exit code and each of want in
// what it says.
func mustDoctor(t *testing.T, e *env, code int, want ...string) {
	t.Helper()
	r := e.run("", "doctor")
	if r.code != code {
		t.Fatalf("exit %d, want %d\n%s%s", r.code, code, r.stdout, r.stderr)
	}
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("doctor does not say %q:\n%s", w, r.stdout)
		}
	}
}
