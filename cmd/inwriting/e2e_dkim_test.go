package main_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/inwriting/inwriting/agreements"
)

// TestServe_DKIM: with dkim.* set, the mail serve sends arrives through
// Postfix and Dovecot with a signature that go-msgauth verifies against
// the key's DNS record, List-Unsubscribe among the signed headers.
func TestServe_DKIM(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pubDER, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	keyFile := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	record := "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(pubDER)
	s := serveOnStack(t, func(e *env) {
		e.vars["INWRITING_DKIM_DOMAIN"], e.vars["INWRITING_DKIM_SELECTOR"], e.vars["INWRITING_DKIM_KEY_FILE"] = "example.test", "iw2026", keyFile
		e.vars["INWRITING_SERVICE_PUBLIC_URL"] = "https://inwriting.example.test"
		// doctor reads the record as the world would.
		e.resolver = fakeDNS{"iw2026._domainkey.example.test": {record}}
	})
	id := s.newAgreement(t, fmt.Sprintf(agreementText, "Signed", "Bob Example <bob@example.test>"))
	raw := s.fetch(t, "bob", s.sentMail(t, id, agreements.MailConfirmRequest, s.st.Address("bob")).MessageID)
	if !bytes.Contains(raw, []byte("\nReceived: ")) && !bytes.HasPrefix(raw, []byte("Received: ")) {
		t.Fatalf("the mail did not come through the mail server:\n%s", raw)
	}
	lookups := 0
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(name string) ([]string, error) {
		lookups++
		if name != "iw2026._domainkey.example.test" {
			return nil, fmt.Errorf("no such record %s", name)
		}
		return []string{record}, nil
	}})
	if err != nil || len(vs) != 1 || lookups != 1 {
		t.Fatalf("verify: %v, %d signatures, %d lookups", err, len(vs), lookups)
	}
	v := vs[0]
	if v.Err != nil || v.Domain != "example.test" {
		t.Fatalf("signature of %s: %v", v.Domain, v.Err)
	}
	signed := strings.ToLower(strings.Join(v.HeaderKeys, ":"))
	for _, h := range []string{"from", "to", "subject", "message-id", "list-unsubscribe", "list-unsubscribe-post"} {
		if !strings.Contains(signed, h) {
			t.Errorf("%s is not signed: %s", h, signed)
		}
	}
}
