package mailin_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

// BenchmarkDeliver measures reading and recording one reply (parse,
// token, trim, intent, match, store: a comment forwarded to the other
// party) without IMAP: Generic as a client that sends no In-Reply-To, so
// the generic trimmer reads it; AgainstSent as one that does, so the reply
// is trimmed against the mail it answers, read back from the outbox.
func BenchmarkDeliver(b *testing.B) {
	ctx := context.Background()
	db := agreements.NewDB(filepath.Join(b.TempDir(), "db"))
	db.Reader = mailin.Reader{}
	db.Logger = quietLogger()
	db.AnswersPerDay = 0 // every reply is answered: the work measured
	if err := db.Open(ctx); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	_, err := db.CreateAgreement(ctx, agreements.Terms{
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
	// The mail Alice answers, as sent: the golden "please confirm".
	sent := goldenRaw(b, "confirm-request")
	ms, err := db.ClaimMail(ctx, "bench", 10, time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	var asked *agreements.OutboxMail
	for _, m := range ms {
		if err := db.RecordOutcomes(ctx, "bench", []agreements.MailOutcome{{ID: m.ID, Status: agreements.MailSent, Raw: sent}}); err != nil {
			b.Fatal(err)
		}
		if m.To == "alice@example.test" {
			asked = m
		}
	}
	sentText := loadSentRaw(b, sent)
	recv := &mailin.Receiver{Store: db, Address: "service@example.test"}
	uid := uint32(0)
	for _, bm := range []struct {
		name, headers, quote string
	}{
		{"Generic", "", "On Fri, Nov 27, 2026 at 9:00 AM inwriting <service@example.test> wrote:\r\n> Please confirm\r\n"},
		{"AgainstSent", "In-Reply-To: <" + asked.MessageID + ">\r\n", "On Fri, Nov 27, 2026 at 9:00 AM inwriting <service@example.test> wrote:\r\n" + strings.ReplaceAll(quoteGT(sentText), "\n", "\r\n")},
	} {
		b.Run(bm.name, func(b *testing.B) {
			raws := make([][]byte, b.N)
			for i := range raws {
				// Each text is new: the same words again would be a repeat.
				raws[i] = []byte(fmt.Sprintf("From: alice@example.test\r\nTo: service+%s@example.test\r\nSubject: Re: x\r\nMessage-ID: <%s%d@example.test>\r\n%s\r\nCan we talk about point %s first?\r\n\r\n%s",
					asked.ReplyToken, bm.name, i, bm.headers, letters(i), bm.quote))
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				uid++
				out, err := recv.Deliver(ctx, mailin.Delivery{Mailbox: "X", UIDValidity: 1, UID: uid, Raw: raws[i]})
				if err != nil {
					b.Fatal(err)
				}
				if out != agreements.FolderProcessed {
					b.Fatalf("folder %s", out)
				}
			}
		})
	}
}

// letters spells i in letters: a text that differs by more than digits.
func letters(i int) string {
	s := ""
	for {
		s += string(rune('a' + i%26))
		if i /= 26; i == 0 {
			return s
		}
	}
}

// loadSentRaw returns the text of a composed mail, as a client shows it.
func loadSentRaw(b *testing.B, raw []byte) string {
	m, err := mailin.ParseMessage(raw, mailin.ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return m.Body
}
