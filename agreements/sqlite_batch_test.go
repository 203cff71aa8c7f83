package agreements_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// TestRunSchedule_Batch: one pass opens the rounds of many agreements at
// once (more than one insert statement's worth, and not a multiple of it):
// every check-in and nudge is queued once, with the round's own reply
// token (the nudge reuses the check-in's), the party's existing commands
// token and thread, and the canonical text, which the outbox does not copy.
func TestRunSchedule_Batch(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	const n = 37
	for range n {
		mustActivate(t, db, mustCreate(t, db))
	}
	// What activation left for each party: the confirmed copy, and the
	// first mail, which their thread hangs from.
	confirmed := map[int64]*agreements.OutboxMail{}
	first := map[int64]string{}
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailConfirmed {
			confirmed[m.PartyID] = m
		}
		if first[m.PartyID] == "" {
			first[m.PartyID] = m.MessageID
		}
	}
	if len(confirmed) != 2*n {
		t.Fatalf("%d confirmed copies, want %d", len(confirmed), 2*n)
	}

	// Sunday 28 February: 19:00 in Lisbon is 19:00 UTC; in Chicago, 01:00
	// UTC on Monday. Each has 24 hours from their own check-in, and a
	// nudge halfway: Alice's at 07:00 UTC on Monday, Bob's at 13:00.
	steps := []struct {
		at   time.Time
		want agreements.ScheduleStats
	}{
		{time.Date(2027, 2, 28, 18, 59, 0, 0, time.UTC), agreements.ScheduleStats{}},
		{time.Date(2027, 2, 28, 19, 0, 0, 0, time.UTC), agreements.ScheduleStats{Opened: n, CheckIns: n}},
		{time.Date(2027, 3, 1, 1, 0, 0, 0, time.UTC), agreements.ScheduleStats{CheckIns: n}},
		{time.Date(2027, 3, 1, 7, 0, 0, 0, time.UTC), agreements.ScheduleStats{Nudges: n}},
		{time.Date(2027, 3, 1, 12, 59, 0, 0, time.UTC), agreements.ScheduleStats{}},
		{time.Date(2027, 3, 1, 13, 0, 0, 0, time.UTC), agreements.ScheduleStats{Nudges: n}},
	}
	for _, s := range steps {
		now = s.at
		for i, want := range []agreements.ScheduleStats{s.want, {}} { // the second pass finds nothing
			got, err := db.RunSchedule(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("%v, pass %d: %+v, want %+v", now, i+1, got, want)
			}
		}
	}

	reply := map[int64]string{} // the check-in's reply token, by party
	tokens := map[string]bool{}
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.Kind != agreements.MailCheckIn && m.Kind != agreements.MailNudge {
			continue
		}
		c := confirmed[m.PartyID]
		if m.CommandsToken != c.CommandsToken || m.ThreadID != first[m.PartyID] {
			t.Fatalf("%s %d: commands token %q thread %q; want the party's %q and %q", m.Kind, m.ID, m.CommandsToken, m.ThreadID, c.CommandsToken, first[m.PartyID])
		}
		if m.Data.Agreement == nil || !strings.Contains(m.Data.Agreement.CanonicalText, "Evenings and phone calls") {
			t.Fatalf("%s %d: no canonical text read back", m.Kind, m.ID)
		}
		switch m.Kind {
		case agreements.MailCheckIn:
			if tokens[m.ReplyToken] || m.ReplyToken == "" {
				t.Fatalf("check-in %d: reply token %q is empty or shared", m.ID, m.ReplyToken)
			}
			tokens[m.ReplyToken] = true
			reply[m.PartyID] = m.ReplyToken
			tok, err := db.FindToken(ctx, m.ReplyToken)
			if err != nil || tok.Purpose != agreements.PurposeCheckIn || tok.PartyID != m.PartyID || tok.AgreementID != m.AgreementID {
				t.Fatalf("check-in %d: token %+v, %v", m.ID, tok, err)
			}
		case agreements.MailNudge:
			if m.ReplyToken != reply[m.PartyID] {
				t.Fatalf("nudge %d: reply token %q, want the check-in's %q", m.ID, m.ReplyToken, reply[m.PartyID])
			}
		}
	}
	if len(tokens) != 2*n {
		t.Fatalf("%d check-ins, want %d", len(tokens), 2*n)
	}
	// The outbox row itself refers to the version; it holds no copy of
	// what the version says.
	var copies int
	if err := db.SQL().QueryRow(`SELECT COUNT(*) FROM outbox WHERE kind IN ('checkin', 'nudge') AND (data LIKE '%canonical_text%' OR data LIKE '%Evenings%' OR data LIKE '%commitments%')`).Scan(&copies); err != nil {
		t.Fatal(err)
	}
	if copies != 0 {
		t.Fatalf("%d outbox rows hold a copy of the version's terms", copies)
	}
}
