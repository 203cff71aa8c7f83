package mailin_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

// BenchmarkDeliver measures reading and recording one reply (parse, trim,
// intent, match, store: a comment forwarded to the other party) without
// IMAP.
func BenchmarkDeliver(b *testing.B) {
	ctx := context.Background()
	db := agreements.NewDB(filepath.Join(b.TempDir(), "db"))
	db.Reader = mailin.Reader{}
	db.Logger = quietLogger()
	if err := db.Open(ctx); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	a, err := db.CreateAgreement(ctx, agreements.Terms{
		Title: "Calls", WhatWentWrong: "I did not call.",
		Parties: []agreements.Party{
			{Name: "Alice", Address: "alice@example.test", TimeZone: "UTC", Commitments: []string{"Call."}},
			{Name: "Bob", Address: "bob@example.test", TimeZone: "UTC", Commitments: []string{"Ask."}},
		},
		CheckIn: agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 19},
	})
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := db.IssueToken(ctx, a.Terms.Parties[0].ID, agreements.PurposeConfirm, 1)
	recv := &mailin.Receiver{Store: db, Address: "service@example.test"}
	raws := make([][]byte, b.N)
	for i := range raws {
		raws[i] = []byte(fmt.Sprintf("From: alice@example.test\r\nTo: service+%s@example.test\r\nSubject: Re: x\r\nMessage-ID: <b%d@example.test>\r\n\r\nCan we talk about point 2 first?\r\n\r\nOn Fri, Nov 27, 2026 at 9:00 AM inwriting <service@example.test> wrote:\r\n> Please confirm\r\n", tok.Value, i))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := recv.Deliver(ctx, mailin.Delivery{Mailbox: "X", UIDValidity: 1, UID: uint32(i + 1), Raw: raws[i]}); err != nil {
			b.Fatal(err)
		}
	}
}
