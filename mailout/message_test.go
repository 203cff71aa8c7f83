package mailout_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailout"
	"github.com/inwriting/inwriting/templates"
)

func outboxMail() *agreements.OutboxMail {
	text := "inwriting agreement, format 1\n"
	return &agreements.OutboxMail{
		ID: 1, Kind: agreements.MailConfirmRequest, MessageID: "iw.1@example.test", AgreementID: 3,
		To: "alice@example.test", ToName: "Alice", ReplyToken: "aaaabbbbccccddddeeeeffff", CommandsToken: "ggggbbbbccccddddeeeeffff",
		Data: agreements.MailData{
			Kind: agreements.MailConfirmRequest, Deadline: Now,
			Agreement: &agreements.MailTerms{ID: 3, Title: "T", Version: 1, Fingerprint: agreements.Fingerprint(text), WhatWentWrong: "x", CheckIn: "every day at 19:00", CanonicalText: text},
			Recipient: agreements.MailParty{FirstName: "Alice", Address: "alice@example.test", TimeZone: "UTC", Commitments: []string{"a"}},
			Others:    []agreements.MailParty{{FirstName: "Bob", Address: "bob@example.test", TimeZone: "UTC", Commitments: []string{"b"}}},
		},
	}
}

func TestCompose_DKIM(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	c := &mailout.Composer{
		Identity:  mailout.Identity{Address: "service@example.test", Name: "inwriting", PublicURL: "https://iw.example.test"},
		Templates: set,
		DKIM:      &mailout.DKIM{Domain: "example.test", Selector: "sel", Signer: priv},
	}
	raw, err := c.Compose(outboxMail(), Now)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(domain string) ([]string, error) {
		if domain != "sel._domainkey.example.test" {
			t.Fatalf("looked up %q", domain)
		}
		return []string{"v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)}, nil
	}
	verify := func(raw []byte) error {
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookup, MaxVerifications: 5})
		if err != nil {
			return err
		}
		if len(vs) != 1 {
			t.Fatalf("%d signatures, want 1", len(vs))
		}
		return vs[0].Err
	}
	if err := verify(raw); err != nil {
		t.Fatalf("the signature does not verify: %v", err)
	}
	// It covers both List-Unsubscribe headers (RFC 8058 §4).
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	sig := head[strings.Index(head, "DKIM-Signature:"):]
	unfolded := strings.NewReplacer("\r\n ", "", "\r\n\t", "", " ", "").Replace(sig)
	for _, h := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "Reply-To", "Message-ID"} {
		if !strings.Contains(strings.ToLower(unfolded), strings.ToLower(h)+":") && !strings.Contains(strings.ToLower(unfolded), strings.ToLower(h)+";") {
			t.Fatalf("h= lacks %s: %s", h, unfolded)
		}
	}
	// A changed header breaks it.
	forged := bytes.Replace(raw, []byte("Subject: Please confirm"), []byte("Subject: Please c0nfirm"), 1)
	if err := verify(forged); err == nil {
		t.Fatal("a changed subject still verifies")
	}
}

func TestIdentity_Validate(t *testing.T) {
	for _, tt := range []struct {
		id mailout.Identity
		ok bool
	}{
		{mailout.Identity{Address: "service@example.test"}, true},
		{mailout.Identity{Address: "service@example.test", PublicURL: "https://x.test"}, true},
		{mailout.Identity{Address: "service@example.test", PublicURL: "http://x.test"}, false},
		{mailout.Identity{Address: "service+x@example.test"}, false},
		{mailout.Identity{Address: "Service <service@example.test>"}, false},
		{mailout.Identity{Address: ""}, false},
	} {
		if err := tt.id.Validate(); (err == nil) != tt.ok {
			t.Fatalf("Validate(%+v) = %v, want ok %v", tt.id, err, tt.ok)
		}
	}
	if got := (mailout.Identity{Address: "service@example.test"}).ReplyAddress("tok"); got != "service+tok@example.test" {
		t.Fatalf("ReplyAddress = %q", got)
	}
}
