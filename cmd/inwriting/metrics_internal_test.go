package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
	"github.com/inwriting/inwriting/mailout"
)

// TestMetrics: what serve does shows on /metrics under Prometheus names,
// with bounded labels and no address in them.
func TestMetrics(t *testing.T) {
	ctx := context.Background()
	db := agreements.NewDB(filepath.Join(t.TempDir(), "inwriting.db"))
	db.Reader = mailin.Reader{}
	db.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err := db.CreateAgreement(ctx, agreements.Terms{
		Title: "Calls", WhatWentWrong: "I did not call.", CheckIn: agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 19},
		Parties: []agreements.Party{
			{Name: "Alice", Address: "alice@example.test", TimeZone: "UTC", Commitments: []string{"Call."}},
			{Name: "Bob", Address: "bob@example.test", TimeZone: "UTC", Commitments: []string{"Ask."}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := db.FindOutbox(ctx, agreements.OutboxFilter{})
	m := &Main{Logger: db.Logger}
	m.metrics = newMetrics(db)
	store := meteredInbound{InboundStore: db, m: m.metrics}
	for _, in := range []agreements.Inbound{
		{Key: "<m1@x>", From: "alice@example.test", Tokens: []string{ms[0].ReplyToken}, Body: "I agree"},
		{Key: "<m1@x>", From: "alice@example.test", Tokens: []string{ms[0].ReplyToken}, Body: "I agree"}, // the same message again
		{Key: "<m2@x>", From: "mailer-daemon@example.test", Auto: "auto-reply", AutoReason: "Auto-Submitted: auto-replied"},
	} {
		in.MessageID = in.Key
		if _, err := store.RecordInbound(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	m.metrics.sent(ms[1], mailout.SendSent, 20*time.Millisecond, ms[1].NextAttemptAt.Add(time.Second))
	m.metrics.sent(ms[1], mailout.SendTemporary, time.Second, time.Now())
	m.metrics.sent(ms[1], mailout.SendUnreachable, 0, time.Now())
	m.metrics.imapChanged(nil)
	m.metrics.imapChanged(fmt.Errorf("create folder Processed: %w", errors.New("NO permission denied")))
	m.metrics.imapChanged(fmt.Errorf("log in to imap.example.test:993 as service: NO bad password"))
	m.metrics.schedulePass(agreements.ScheduleStats{Opened: 2, CheckIns: 4}, 3*time.Millisecond)

	srv := httptest.NewServer(m.handler(db))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	got := string(body)
	for _, want := range []string{
		`inwriting_inbound_messages_total{kind="person",outcome="confirmed"} 1`,
		`inwriting_inbound_messages_total{kind="person",outcome="duplicate"} 1`,
		`inwriting_inbound_messages_total{kind="auto-reply",outcome="auto-reply"} 1`,
		`inwriting_confirmations_total 1`,
		`inwriting_inbound_record_duration_seconds_count 3`,
		`inwriting_outbox_mails{kind="confirm-request",status="pending"} 2`,
		`inwriting_outbox_mails{kind="receipt",status="pending"} 1`,
		`inwriting_smtp_attempts_total{kind="confirm-request",result="sent"} 1`,
		`inwriting_smtp_attempts_total{kind="confirm-request",result="temporary"} 1`,
		`inwriting_smtp_attempts_total{kind="confirm-request",result="unreachable"} 1`,
		`inwriting_smtp_send_duration_seconds_count 2`,
		`inwriting_send_delay_seconds_sum 1`,
		`inwriting_imap_connects_total 1`,
		`inwriting_imap_errors_total{class="folders"} 1`,
		`inwriting_imap_errors_total{class="login"} 1`,
		`inwriting_rounds_opened_total 2`,
		`inwriting_scheduled_mails_total{what="checkin"} 4`,
		`inwriting_schedule_pass_duration_seconds_count 1`,
		`go_goroutines`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, l := range strings.Split(got, "\n") {
		if strings.HasPrefix(l, "inwriting_") && (strings.Contains(l, "@") || strings.Contains(l, ms[0].ReplyToken)) {
			t.Errorf("a label holds an address or a token: %s", l)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}
