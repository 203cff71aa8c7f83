package agreements_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// TestRoutine lives through twelve weeks of a weekly Sunday 19:00 check-in
// between Alice in Lisbon and Bob in Chicago, across both daylight-saving
// changes of spring 2027 (Chicago 14 March, Lisbon 28 March), on the
// injected clock: both answer through the store's inbound path, Bob misses
// a round, Alice fixes an answer, Alice pauses for two weeks and resumes.
func TestRoutine(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a := mustActivate(t, db, mustCreate(t, db))
	alice, bob := a.Terms.Parties[0], a.Terms.Parties[1]
	lisbon, chicago := mustLoc(t, "Europe/Lisbon"), mustLoc(t, "America/Chicago")

	seen := map[int64]bool{} // outbox mails handled
	n := 0
	reply := func(p agreements.Party, token, text string) {
		n++
		in := agreements.Inbound{Key: fmt.Sprintf("<sim%d@x>", n), MessageID: fmt.Sprintf("<sim%d@x>", n), Mailbox: "INBOX", UIDValidity: 1, UID: uint32(n),
			From: p.Address, Tokens: []string{token}, Body: text, AuthResult: "none"}
		if _, err := db.RecordInbound(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	week := func() int { return int(now.Sub(time.Date(2027, 2, 28, 0, 0, 0, 0, time.UTC)).Hours()/24/7) + 1 }
	checkinTimes := map[string][]time.Time{}
	for end := now.Add(12 * 7 * 24 * time.Hour); now.Before(end); now = now.Add(15 * time.Minute) {
		for range 2 { // twice per tick: a second pass must change nothing
			if _, err := db.RunSchedule(ctx); err != nil {
				t.Fatal(err)
			}
		}
		ms, err := db.FindOutbox(ctx, agreements.OutboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			p := alice
			if m.To == bob.Address {
				p = bob
			}
			if m.Kind != agreements.MailCheckIn {
				continue
			}
			checkinTimes[p.Address] = append(checkinTimes[p.Address], m.CreatedAt)
			w := week()
			switch {
			case p.Address == bob.Address && w == 3:
				// Bob misses this round.
			case p.Address == alice.Address && w == 5:
				reply(p, m.ReplyToken, "1 missed, 2 kept")
				reply(p, m.ReplyToken, "fix: 1 partly")
			default:
				reply(p, m.ReplyToken, "1 kept\nSomething good about you: listened")
			}
			if p.Address == alice.Address && w == 7 {
				reply(p, m.ReplyToken, "pause")
			}
		}
		if week() == 9 && now.Weekday() == time.Wednesday && now.Hour() == 12 && now.Minute() == 0 {
			// Bob would like to start again; the break is Alice's, so she
			// is asked, and does.
			tok, _ := db.IssueToken(ctx, bob.ID, agreements.PurposeCommands, 0)
			reply(bob, tok.Value, "resume")
			tok, _ = db.IssueToken(ctx, alice.ID, agreements.PurposeCommands, 0)
			reply(alice, tok.Value, "resume")
		}
	}

	// Each party's check-ins came at 19:00 on Sundays, their own time.
	for addr, loc := range map[string]*time.Location{alice.Address: lisbon, bob.Address: chicago} {
		for _, at := range checkinTimes[addr] {
			l := at.In(loc)
			if l.Weekday() != time.Sunday || l.Hour() != 19 || l.Minute() >= 15 {
				t.Fatalf("%s's check-in came at %s local time", addr, l.Format(time.RFC1123))
			}
		}
	}
	// 12 Sundays: weeks 8 and 9 paused (Alice paused after week 7's
	// round; Bob asked to start again in week 9, after its Sunday, and
	// Alice resumed).
	var rounds int
	db.SQL().QueryRow(`SELECT COUNT(*) FROM rounds`).Scan(&rounds)
	k := kinds(outbox(t, db, agreements.OutboxFilter{}))
	if rounds != 10 || k[agreements.MailCheckIn] != 20 || k[agreements.MailDigest] != 20 {
		t.Fatalf("%d rounds, %d check-ins, %d digests; want 10, 20, 20 (%v)", rounds, k[agreements.MailCheckIn], k[agreements.MailDigest], k)
	}
	if k[agreements.MailNudge] != 1 {
		t.Fatalf("%d nudges, want 1 (Bob, week 3)", k[agreements.MailNudge])
	}
	if k[agreements.MailNotice] != 6 { // paused and resumed, to both; Bob's wish, to each
		t.Fatalf("%d notices, want 6", k[agreements.MailNotice])
	}
	// Alice's fix replaced her week-5 answer.
	var answers int
	db.SQL().QueryRow(`SELECT COUNT(*) FROM round_parties WHERE answered_at != ''`).Scan(&answers)
	if answers != 19 {
		t.Fatalf("%d answers recorded, want 19 (20 less Bob's missed one; the fix replaced, not added)", answers)
	}
	var fixed string
	db.SQL().QueryRow(`SELECT rp.answer FROM round_parties rp JOIN rounds r ON r.id = rp.round_id WHERE rp.party_id = ? ORDER BY r.occurrence LIMIT 1 OFFSET 4`, alice.ID).Scan(&fixed)
	if fixed == "" || !containsAll(fixed, `"1":"partly"`) {
		t.Fatalf("Alice's week-5 answer = %s, want the fix", fixed)
	}
	if r, err := db.FindRecord(ctx, a.ID); err != nil || r.ChainErr != nil {
		t.Fatalf("the event log: %v %v", err, r.ChainErr)
	}
	rs, err := db.FindRounds(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 10 || len(rs[0].Parties) != 2 || rs[2].Parties[1].Answer != nil || rs[0].Parties[0].Answer.PositiveOther != "listened" {
		t.Fatalf("FindRounds = %d rounds; round 3 = %+v", len(rs), rs[2])
	}
	// No digest went out before both answered or the deadline.
	ms := outbox(t, db, agreements.OutboxFilter{})
	for _, m := range ms {
		if m.Kind == agreements.MailDigest && len(m.Data.Answers) != 1 {
			t.Fatalf("a digest with %d answers", len(m.Data.Answers))
		}
	}
	// "history" shows every round with a few of each one's words.
	tok, _ := db.IssueToken(ctx, alice.ID, agreements.PurposeCommands, 0)
	reply(alice, tok.Value, "history")
	ms = outbox(t, db, agreements.OutboxFilter{})
	h := ms[len(ms)-1].Data
	if h.Notice != agreements.NoticeHistory || len(h.History) != 20 {
		t.Fatalf("history: %q with %d lines, want 20 (10 rounds, 2 parties)", h.Notice, len(h.History))
	}
	if first := h.History[0]; first.Words != "listened" || first.Marks == "" {
		t.Fatalf("history's first line = %+v, want the marks and the kind words", first)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !contains(s, sub) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// TestRoutine_Downtime: after a long downtime only the latest missed round
// opens.
func TestRoutine_Downtime(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	mustActivate(t, db, mustCreate(t, db))
	now = now.Add(30 * 24 * time.Hour) // four Sundays pass while the service is down
	for range 3 {
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var rounds int
	var occurrence string
	db.SQL().QueryRow(`SELECT COUNT(*), MAX(occurrence) FROM rounds`).Scan(&rounds, &occurrence)
	if rounds != 1 || occurrence != "2027-03-21" {
		t.Fatalf("%d rounds, latest %s; want 1, 2027-03-21", rounds, occurrence)
	}
}

// TestRemindTerms: a reminder of the terms every other Monday at 08:00,
// each party at their own local time, once each.
func TestRemindTerms(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 1, 6, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	terms := testTerms()
	terms.Reminder = &agreements.Schedule{Unit: agreements.Week, Every: 2, Weekdays: []time.Weekday{time.Monday}, Hour: 8}
	a, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		t.Fatal(err)
	}
	mustActivate(t, db, a)
	zones := map[string]*time.Location{"alice@example.test": mustLoc(t, "Europe/Lisbon"), "bob@example.test": mustLoc(t, "America/Chicago")}
	for end := now.Add(5 * 7 * 24 * time.Hour); now.Before(end); now = now.Add(15 * time.Minute) {
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var got []*agreements.OutboxMail
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailTermsReminder {
			got = append(got, m)
			l := m.CreatedAt.In(zones[m.To])
			if l.Weekday() != time.Monday || l.Hour() != 8 || l.Minute() >= 15 {
				t.Fatalf("a reminder to %s at %s local time", m.To, l)
			}
		}
	}
	// Mondays 18 Jan, 1 Feb (the week of 11 Jan is the anchor's week + 1).
	if len(got) != 4 {
		t.Fatalf("%d reminders, want 4 (two Mondays, two parties)", len(got))
	}
}

// TestStopAndResume: "stop" asks once and ends the agreement when said
// again; a break or an end belongs to whoever asked for it: the other's
// "resume" is answered kindly and passed to the owner, who alone takes it
// back (an end, within 7 days).
func TestStopAndResume(t *testing.T) {
	ctx := context.Background()
	now := Now
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a := mustActivate(t, db, mustCreate(t, db))
	alice, bob := a.Terms.Parties[0], a.Terms.Parties[1]
	n := 0
	cmd := func(p agreements.Party, c string) string {
		t.Helper()
		tok, _ := db.IssueToken(ctx, p.ID, agreements.PurposeCommands, 0)
		n++
		out, err := db.RecordInbound(ctx, agreements.Inbound{Key: fmt.Sprintf("<cmd%d@x>", n), Mailbox: "INBOX", UIDValidity: 1, UID: uint32(n),
			From: p.Address, Tokens: []string{tok.Value}, Body: c})
		if err != nil {
			t.Fatal(err)
		}
		return out.Outcome
	}
	status := func() agreements.Status {
		got, _ := db.FindAgreementByID(ctx, a.ID)
		return got.Status
	}
	// notices returns the notices queued since the last call, as
	// "to:notice".
	seen := map[int64]bool{}
	notices := func() []string {
		var out []string
		for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
			if !seen[m.ID] && m.Kind == agreements.MailNotice {
				out = append(out, strings.Split(m.To, "@")[0]+":"+string(m.Data.Notice))
			}
			seen[m.ID] = true
		}
		slices.Sort(out)
		return out
	}
	step := func(p agreements.Party, c, outcome string, st agreements.Status, mails ...string) {
		t.Helper()
		if got := cmd(p, c); got != outcome || status() != st {
			t.Fatalf("%s's %q: %s, status %s; want %s, %s", p.FirstName(), c, got, status(), outcome, st)
		}
		if got := notices(); !slices.Equal(got, mails) {
			t.Fatalf("%s's %q mailed %q, want %q", p.FirstName(), c, got, mails)
		}
	}
	notices()

	// Stop asks once; the other person is not told until it happens.
	step(alice, "stop", "asked", agreements.StatusActive, "alice:stop-again")
	step(alice, "stop", "ended", agreements.StatusEnded, "alice:ended", "bob:ended")
	// Bob cannot take back Alice's end; Alice is told he would like to go on.
	step(bob, "resume", "asked-owner", agreements.StatusEnded, "alice:resume-wished", "bob:not-yours")
	now = now.Add(6 * 24 * time.Hour)
	step(alice, "resume", "resumed", agreements.StatusActive, "alice:resumed", "bob:resumed")

	// A stop asked more than a week ago asks again.
	step(bob, "stop", "asked", agreements.StatusActive, "bob:stop-again")
	now = now.Add(8 * 24 * time.Hour)
	step(bob, "stop", "asked", agreements.StatusActive, "bob:stop-again")

	// Bob's break is Bob's.
	step(bob, "pause", "paused", agreements.StatusPaused, "alice:paused", "bob:paused")
	step(alice, "resume", "asked-owner", agreements.StatusPaused, "alice:not-yours", "bob:resume-wished")
	step(bob, "resume", "resumed", agreements.StatusActive, "alice:resumed", "bob:resumed")

	// An end is taken back within 7 days, not after.
	now = now.Add(24 * time.Hour)                                         // three answers a day to a party (the loop breaker)
	step(bob, "stop", "asked", agreements.StatusActive, "bob:stop-again") // the resume since ends the asking
	step(bob, "stop", "ended", agreements.StatusEnded, "alice:ended", "bob:ended")
	now = now.Add(8 * 24 * time.Hour)
	step(bob, "resume", "refused", agreements.StatusEnded, "bob:too-late-to-resume")
	step(alice, "help", "help", agreements.StatusEnded, "alice:help")
	step(alice, "history", "history", agreements.StatusEnded, "alice:history")
	if r, err := db.FindRecord(ctx, a.ID); err != nil || r.ChainErr != nil {
		t.Fatalf("the event log: %v %v", err, r.ChainErr)
	}

	// The operator acts for a party under the same rules.
	b := mustActivate(t, db, mustCreate(t, db))
	mustCommand(t, db, b, "bob@example.test", agreements.CommandPause)
	if _, err := db.Command(ctx, b.ID, "alice@example.test", agreements.Intent{Command: agreements.CommandResume}); !errors.Is(err, agreements.ErrConflict) || !strings.Contains(err.Error(), "bob@example.test paused it") {
		t.Fatalf("the operator resumed Bob's pause for Alice: %v", err)
	}
}

// mustActivate confirms a's version for every party, which makes it
// active.
// mustActivate has every party confirm the version of a that waits (an
// amendment, or its current version) and returns a as it then stands.
func mustActivate(t *testing.T, db *agreements.DB, a *agreements.Agreement) *agreements.Agreement {
	t.Helper()
	v := max(a.Version, a.Proposed)
	for _, p := range a.Terms.Parties {
		if _, err := confirm(db, a, v, p.ID, fmt.Sprintf("<c%s%d@x>", p.FirstName(), v)); err != nil {
			t.Fatal(err)
		}
	}
	a, err := db.FindAgreementByID(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestMissedRule: "after 2 missed rounds, tell both of us", once.
func TestMissedRule(t *testing.T) {
	ctx := context.Background()
	text := "Title: T\nFrom: Alice <alice@example.test>\nTo: Bob <bob@example.test>\nTime zone: UTC\nWhat went wrong: x\nI will: a\nBob will: b\nCheck in: every Sunday at 19:00\nMissed check-ins: after 2 missed rounds, tell both of us\n"
	terms, err := agreements.ParseProposal(agreements.ProposalInput{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	if terms.MissedAfter != 2 {
		t.Fatalf("MissedAfter = %d", terms.MissedAfter)
	}
	if !strings.Contains(agreements.CanonicalText(1, 1, terms), "Missed check-ins: after 2 missed in a row") {
		t.Fatal("the rule is not in the canonical text")
	}
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		t.Fatal(err)
	}
	mustActivate(t, db, a)
	for end := now.Add(5 * 7 * 24 * time.Hour); now.Before(end); now = now.Add(time.Hour) {
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var missed int
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailNotice && m.Data.Notice == agreements.NoticeMissed {
			missed++
		}
	}
	// Both miss every round: each is named once, to both: 4 notices.
	if missed != 4 {
		t.Fatalf("%d missed-check-in notices, want 4", missed)
	}
	if _, err := agreements.ParseProposal(agreements.ProposalInput{Text: strings.Replace(text, "after 2 missed rounds", "sometimes", 1)}); err == nil {
		t.Fatal("a rule without a number parsed")
	}
}

// TestUnsubscribe: unsubscribing stops mail to that party only, cancels
// what waits for them, pauses the check-ins and tells the other party just
// that; the other party cannot bring the check-ins back, and only the
// party who left can, by replying "resume".
func TestUnsubscribe(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a := mustActivate(t, db, mustCreate(t, db))
	alice, bob := a.Terms.Parties[0], a.Terms.Parties[1]
	aliceTok, _ := db.IssueToken(ctx, alice.ID, agreements.PurposeCommands, 0)
	bobTok, _ := db.IssueToken(ctx, bob.ID, agreements.PurposeCommands, 0)
	n := 0
	cmd := func(p agreements.Party, tok, c string) string {
		t.Helper()
		n++
		out, err := db.RecordInbound(ctx, agreements.Inbound{Key: fmt.Sprintf("<u%d@x>", n), Mailbox: "INBOX", UIDValidity: 1, UID: uint32(n),
			From: p.Address, Tokens: []string{tok}, Body: c})
		if err != nil {
			t.Fatal(err)
		}
		return out.Outcome
	}
	status := func() agreements.Status {
		got, _ := db.FindAgreementByID(ctx, a.ID)
		return got.Status
	}
	// mail returns the mail queued since the last call, by recipient.
	last := int64(0)
	mail := func() map[string][]*agreements.OutboxMail {
		got := map[string][]*agreements.OutboxMail{}
		for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
			if m.ID > last {
				got[m.To] = append(got[m.To], m)
				last = m.ID
			}
		}
		return got
	}
	pendingToBob := 0
	for _, m := range mail()[bob.Address] {
		if m.Status == agreements.MailPending {
			pendingToBob++
		}
	}
	if pendingToBob == 0 {
		t.Fatal("no mail waiting for Bob before he unsubscribes: the test proves nothing")
	}

	for range 2 { // the second is a no-op
		if err := db.Unsubscribe(ctx, bobTok.Value); err != nil {
			t.Fatal(err)
		}
	}
	if status() != agreements.StatusPaused {
		t.Fatalf("status %s after unsubscribe, want paused", status())
	}
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.To == bob.Address && m.Status != agreements.MailCancelled {
			t.Fatalf("mail %d (%s) to Bob is %s after he unsubscribed, want cancelled", m.ID, m.Kind, m.Status)
		}
		if m.To == alice.Address && m.Status == agreements.MailCancelled {
			t.Fatalf("mail %d (%s) to Alice was cancelled", m.ID, m.Kind)
		}
	}
	got := mail()
	if len(got[bob.Address]) != 0 || len(got[alice.Address]) != 1 {
		t.Fatalf("after unsubscribe: %d mails to Bob, %d to Alice; want 0 and 1", len(got[bob.Address]), len(got[alice.Address]))
	}
	if m := got[alice.Address][0]; m.Kind != agreements.MailNotice || m.Data.Notice != agreements.NoticePausedForNow || m.Data.Author != nil {
		t.Fatalf("Alice was told %s %q (by %v); want only that check-ins are paused", m.Kind, m.Data.Notice, m.Data.Author)
	}

	// Three weeks pass: no round opens, nothing goes to Bob.
	for end := now.Add(21 * 24 * time.Hour); now.Before(end); now = now.Add(time.Hour) {
		st, err := db.RunSchedule(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Opened+st.CheckIns+st.Reminders+st.Resumed != 0 {
			t.Fatalf("%v: the schedule ran while Bob is unsubscribed: %+v", now, st)
		}
	}
	// Alice cannot resume for him, and her own commands are answered.
	if out := cmd(alice, aliceTok.Value, "resume"); out != "refused" || status() != agreements.StatusPaused {
		t.Fatalf("Alice's resume: %s, status %s", out, status())
	}
	if out := cmd(alice, aliceTok.Value, "history"); out != "history" {
		t.Fatalf("Alice's history: %s", out)
	}
	got = mail()
	if len(got[bob.Address]) != 0 || len(got[alice.Address]) != 2 {
		t.Fatalf("after Alice's commands: %d mails to Bob, %d to Alice; want 0 and 2", len(got[bob.Address]), len(got[alice.Address]))
	}
	if d := got[alice.Address][0].Data; d.Notice != agreements.NoticeStillPaused || d.Author != nil {
		t.Fatalf("the refusal says more than that check-ins are paused: %q by %v", d.Notice, d.Author)
	}
	// Alice ends the agreement (a stop asks once): she is told, Bob is not.
	now = now.Add(24 * time.Hour) // three answers a day to a party (the loop breaker)
	if out := cmd(alice, aliceTok.Value, "stop"); out != "asked" || status() != agreements.StatusPaused {
		t.Fatalf("Alice's first stop: %s, status %s", out, status())
	}
	if out := cmd(alice, aliceTok.Value, "stop"); out != "ended" || status() != agreements.StatusEnded {
		t.Fatalf("Alice's stop: %s, status %s", out, status())
	}
	if got := mail(); len(got[bob.Address]) != 0 || len(got[alice.Address]) != 2 {
		t.Fatalf("the end was told to %d of Bob's and %d of Alice's, want 0 and 2", len(got[bob.Address]), len(got[alice.Address]))
	}
	// Bob writes to us: he is answered, still unsubscribed.
	if out := cmd(bob, bobTok.Value, "help"); out != "help" {
		t.Fatalf("Bob's help: %s", out)
	}
	if got := mail(); len(got[bob.Address]) != 1 || len(got[alice.Address]) != 0 {
		t.Fatalf("Bob's help went to %d of his and %d of Alice's", len(got[bob.Address]), len(got[alice.Address]))
	}
	// Bob's "resume" brings him back, but the end is Alice's to take
	// back: she is told he would like to go on, and does, within 7 days.
	if out := cmd(bob, bobTok.Value, "resume"); out != "asked-owner" || status() != agreements.StatusEnded {
		t.Fatalf("Bob's resume: %s, status %s", out, status())
	}
	if got := mail(); len(got[bob.Address]) != 1 || len(got[alice.Address]) != 1 || got[alice.Address][0].Data.Notice != agreements.NoticeResumeWished {
		t.Fatalf("Bob's resume told %d of Bob's and %d of Alice's, want one each, Alice's that he would like to go on", len(got[bob.Address]), len(got[alice.Address]))
	}
	if out := cmd(alice, aliceTok.Value, "resume"); out != "resumed" || status() != agreements.StatusActive {
		t.Fatalf("Alice's resume: %s, status %s", out, status())
	}
	got = mail()
	if len(got[bob.Address]) != 1 || len(got[alice.Address]) != 1 {
		t.Fatalf("resume told %d of Bob's and %d of Alice's, want one each", len(got[bob.Address]), len(got[alice.Address]))
	}
	for end := now.Add(8 * 24 * time.Hour); now.Before(end); now = now.Add(time.Hour) {
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got = mail()
	if k := kinds(got[bob.Address]); k[agreements.MailCheckIn] != 1 {
		t.Fatalf("Bob got %v in the week after resuming, want one check-in", k)
	}
	if k := kinds(got[alice.Address]); k[agreements.MailCheckIn] != 1 {
		t.Fatalf("Alice got %v in the week after resuming, want one check-in", k)
	}
	if r, err := db.FindRecord(ctx, a.ID); err != nil || r.ChainErr != nil {
		t.Fatalf("the event log: %v %v", err, r.ChainErr)
	}
}

// TestUnsubscribe_Confirming: a party who unsubscribed before confirming
// gets nothing more, and the other party is not told (there are no
// check-ins to pause); confirming by reply is asking for the copy, and
// brings them back.
func TestUnsubscribe_Confirming(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := mustCreate(t, db)
	alice, bob := a.Terms.Parties[0], a.Terms.Parties[1]
	cmdTok, _ := db.IssueToken(ctx, bob.ID, agreements.PurposeCommands, 0)
	confirmTok, _ := db.IssueToken(ctx, bob.ID, agreements.PurposeConfirm, 1)
	if err := db.Unsubscribe(ctx, cmdTok.Value); err != nil {
		t.Fatal(err)
	}
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.To == bob.Address && m.Status != agreements.MailCancelled {
			t.Fatalf("%s to Bob is %s, want cancelled", m.Kind, m.Status)
		}
		if m.To == alice.Address && m.Kind == agreements.MailNotice {
			t.Fatalf("Alice was told %q about a pending agreement", m.Data.Notice)
		}
	}
	if _, err := confirm(db, a, 1, alice.ID, "<ca@x>"); err != nil {
		t.Fatal(err)
	}
	out, err := db.RecordInbound(ctx, agreements.Inbound{Key: "<cb@x>", MessageID: "<cb@x>", Mailbox: "INBOX", UIDValidity: 1, UID: 1,
		From: bob.Address, Tokens: []string{confirmTok.Value}, Body: "I agree"})
	if err != nil || out.Outcome != "confirmed" {
		t.Fatalf("Bob's agree: %+v %v", out, err)
	}
	got, _ := db.FindAgreementByID(ctx, a.ID)
	if got.Status != agreements.StatusActive || got.Terms.Parties[1].Unsubscribed() {
		t.Fatalf("status %s, Bob unsubscribed %v; want active and subscribed", got.Status, got.Terms.Parties[1].Unsubscribed())
	}
	copies := 0
	for _, m := range outbox(t, db, agreements.OutboxFilter{Status: agreements.MailPending}) {
		if m.To == bob.Address && m.Kind == agreements.MailConfirmed {
			copies++
		}
	}
	if copies != 1 {
		t.Fatalf("Bob has %d confirmed copies waiting, want 1", copies)
	}
}

// TestPause_NoRoundsInside: the rounds that fall in a pause never open,
// neither when a "pause until" ends by itself nor when the operator
// resumes; the next round is the first after the pause.
func TestPause_NoRoundsInside(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a := mustActivate(t, db, mustCreate(t, db))
	alice := a.Terms.Parties[0]
	tok, _ := db.IssueToken(ctx, alice.ID, agreements.PurposeCommands, 0)
	until := time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC) // the Wednesday after two Sundays
	if out, err := db.RecordInbound(ctx, agreements.Inbound{Key: "<p@x>", Mailbox: "INBOX", UIDValidity: 1, UID: 1, From: alice.Address, Tokens: []string{tok.Value},
		Body: "pause until " + until.Format("2006-01-02")}); err != nil || out.Outcome != "paused" {
		t.Fatalf("pause until: %+v %v", out, err)
	}
	run := func(d time.Duration) {
		t.Helper()
		for end := now.Add(d); now.Before(end); now = now.Add(time.Hour) {
			if _, err := db.RunSchedule(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	occurrences := func() []string {
		rs, err := db.FindRounds(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.Occurrence)
		}
		return out
	}
	run(21 * 24 * time.Hour) // to Wednesday 17 March
	if got := fmt.Sprint(occurrences()); got != "[2027-03-14]" {
		t.Fatalf("rounds %s; want only 14 March, after the pause until 10 March", got)
	}

	// The operator's pause holds until the operator's resume.
	mustCommand(t, db, a, "alice@example.test", agreements.CommandPause)
	run(14 * 24 * time.Hour) // past Sundays 21 and 28 March
	if got, _ := db.FindAgreementByID(ctx, a.ID); got.Status != agreements.StatusPaused {
		t.Fatalf("status %s two weeks into the operator's pause", got.Status)
	}
	mustCommand(t, db, a, "alice@example.test", agreements.CommandResume)
	run(7 * 24 * time.Hour) // to Wednesday 7 April
	if got := fmt.Sprint(occurrences()); got != "[2027-03-14 2027-04-04]" {
		t.Fatalf("rounds %s; want 14 March and 4 April", got)
	}

	// Nor does the operator bring back a party who unsubscribed.
	bobTok, _ := db.IssueToken(ctx, a.Terms.Parties[1].ID, agreements.PurposeCommands, 0)
	if err := db.Unsubscribe(ctx, bobTok.Value); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Command(ctx, a.ID, "alice@example.test", agreements.Intent{Command: agreements.CommandResume}); !errors.Is(err, agreements.ErrConflict) {
		t.Fatalf("the operator resumed over an unsubscribe: %v", err)
	}
}

// TestRoutine_EqualWindows lives five weeks of rounds between two parties
// far apart, with the night on and Bob answering only every other week:
// Auckland and Honolulu, 23 hours apart, and Lisbon and Chicago across
// the spring and the autumn changes of both their clocks. Each party has
// the same 24 hours from their own check-in; nudges and digests come in
// their reader's daylight; the digests come after the last window closes,
// or once both have answered.
func TestRoutine_EqualWindows(t *testing.T) {
	for _, tt := range []struct {
		name       string
		alice, bob string
		start      time.Time
	}{
		{"AucklandHonolulu", "Pacific/Auckland", "Pacific/Honolulu", time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC)},
		{"LisbonChicagoSpring", "Europe/Lisbon", "America/Chicago", time.Date(2027, 3, 3, 12, 0, 0, 0, time.UTC)},
		{"LisbonChicagoAutumn", "Europe/Lisbon", "America/Chicago", time.Date(2027, 10, 20, 12, 0, 0, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			now := tt.start
			db := MustOpenDB(t)
			db.Now = func() time.Time { return now }
			db.Night, _ = agreements.ParseNight("21:00-08:00")
			terms := testTerms()
			terms.Parties[0].TimeZone, terms.Parties[1].TimeZone = tt.alice, tt.bob
			a, err := db.CreateAgreement(ctx, terms)
			if err != nil {
				t.Fatal(err)
			}
			mustActivate(t, db, a)
			zone := map[string]*time.Location{"alice@example.test": mustLoc(t, tt.alice), "bob@example.test": mustLoc(t, tt.bob)}
			seen := map[int64]bool{}
			week := 0
			n := 0
			for end := now.Add(5 * 7 * 24 * time.Hour); now.Before(end); now = now.Add(15 * time.Minute) {
				if _, err := db.RunSchedule(ctx); err != nil {
					t.Fatal(err)
				}
				for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
					if seen[m.ID] || m.Kind != agreements.MailCheckIn {
						continue
					}
					seen[m.ID] = true
					if m.To == "alice@example.test" {
						week++
					}
					if m.To == "bob@example.test" && week%2 == 0 { // Bob answers every other week, at once
						n++
						if _, err := db.RecordInbound(ctx, agreements.Inbound{Key: fmt.Sprintf("<b%d@x>", n), MessageID: fmt.Sprintf("<b%d@x>", n), Mailbox: "INBOX",
							UIDValidity: 1, UID: uint32(n), From: m.To, Tokens: []string{m.ReplyToken}, Body: "1 kept", AuthResult: "none"}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			// By round: each party's check-in, nudge and digest.
			type got struct{ checkIn, nudge, digest *agreements.OutboxMail }
			rounds := map[string]map[string]*got{}
			for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
				local := m.NextAttemptAt.In(zone[m.To])
				if m.Kind != agreements.MailCheckIn && m.Kind != agreements.MailReceipt && !(m.Kind == agreements.MailConfirmed && m.To == "bob@example.test") &&
					(local.Hour() >= 21 || local.Hour() < 8) {
					t.Errorf("%s to %s goes at %s, in the reader's night", m.Kind, m.To, local.Format("Mon 2 Jan 15:04 MST"))
				}
				if m.Data.Round == "" {
					continue
				}
				if rounds[m.Data.Round] == nil {
					rounds[m.Data.Round] = map[string]*got{"alice@example.test": {}, "bob@example.test": {}}
				}
				g := rounds[m.Data.Round][m.To]
				switch m.Kind {
				case agreements.MailCheckIn:
					g.checkIn = m
				case agreements.MailNudge:
					g.nudge = m
				case agreements.MailDigest:
					g.digest = m
				}
			}
			digests := 0
			for day, parties := range rounds {
				var lastEnd time.Time
				for to, g := range parties {
					if g.checkIn == nil {
						t.Fatalf("%s: no check-in to %s", day, to)
					}
					if got := g.checkIn.Data.Deadline.Sub(g.checkIn.CreatedAt); got != 24*time.Hour {
						t.Errorf("%s: %s has %v to answer from their check-in, want 24h", day, to, got)
					}
					if local := g.checkIn.CreatedAt.In(zone[to]); local.Hour() != 19 || local.Minute() != 0 {
						t.Errorf("%s: %s's check-in came at %s, not the 19:00 chosen", day, to, local.Format("15:04 MST"))
					}
					if g.nudge != nil && g.nudge.NextAttemptAt.Sub(g.checkIn.CreatedAt) < 8*time.Hour {
						t.Errorf("%s: %s's nudge goes %v after their check-in: less than a third of their time", day, to, g.nudge.NextAttemptAt.Sub(g.checkIn.CreatedAt))
					}
					lastEnd = maxTime(lastEnd, g.checkIn.Data.Deadline)
				}
				// Alice never answers: every round waits for its last window.
				for to, g := range parties {
					if g.digest == nil {
						continue
					}
					digests++
					if g.digest.CreatedAt.Before(lastEnd) {
						t.Errorf("%s: %s's digest came at %v, before the last window closed at %v", day, to, g.digest.CreatedAt, lastEnd)
					}
				}
			}
			if digests < 2*4 {
				t.Errorf("%d digests in five weeks, want at least 8", digests)
			}
		})
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestNight: mail a party did not ask for waits for the end of their
// night, in their own zone; their check-in comes at the time they chose,
// and an answer to their own message at once. A nudge that waits is not
// sent once they have answered.
func TestNight(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	var err error
	if db.Night, err = agreements.ParseNight("21:00-08:00"); err != nil {
		t.Fatal(err)
	}
	db.RoundFor = 8 * time.Hour // the nudges come at 02:00, each in their own zone
	terms := testTerms()
	terms.CheckIn.Hour = 22 // chosen: 22:00 in Lisbon, and in Chicago
	a, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		t.Fatal(err)
	}
	mustActivate(t, db, a)
	chicago, lisbon := mustLoc(t, "America/Chicago"), mustLoc(t, "Europe/Lisbon")
	// Alice answers once her nudge waits for the morning; Bob never does.
	var checkInToken string
	answered := false
	for end := now.Add(5 * 24 * time.Hour); now.Before(end); now = now.Add(15 * time.Minute) {
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
		for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
			if m.Kind == agreements.MailCheckIn && m.To == "alice@example.test" {
				checkInToken = m.ReplyToken
			}
			if m.Kind == agreements.MailNudge && m.To == "alice@example.test" && !answered {
				if !m.NextAttemptAt.After(now) {
					t.Fatalf("Alice's nudge, queued at %v, does not wait for the morning", now.In(lisbon))
				}
				if _, err := db.RecordInbound(ctx, agreements.Inbound{Key: "<a@x>", MessageID: "<a@x>", Mailbox: "INBOX", UIDValidity: 1, UID: 1,
					From: "alice@example.test", Tokens: []string{checkInToken}, Body: "1 kept, 2 kept", AuthResult: "none"}); err != nil {
					t.Fatal(err)
				}
				answered = true
			}
		}
	}
	if !answered {
		t.Fatal("Alice had no nudge to answer: the test proves nothing")
	}
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		loc := lisbon
		if m.To == "bob@example.test" {
			loc = chicago
		}
		goes := m.NextAttemptAt.In(loc)
		switch {
		case m.Kind == agreements.MailCheckIn:
			if goes.Hour() != 22 {
				t.Errorf("%s's check-in goes at %v, want the 22:00 chosen", m.To, goes)
			}
		case m.Kind == agreements.MailReceipt, m.Kind == agreements.MailConfirmed && m.To == "bob@example.test": // answers: Bob confirmed last
			if !m.NextAttemptAt.Equal(m.CreatedAt) {
				t.Errorf("%s's receipt waits until %v: an answer goes at once", m.To, goes)
			}
		case m.Kind == agreements.MailNudge && m.To == "alice@example.test":
			if m.Status != agreements.MailCancelled {
				t.Errorf("Alice's nudge is %s, though she answered before it went", m.Status)
			}
		case goes.Hour() >= 21 || goes.Hour() < 8:
			t.Errorf("%s %s goes at %v, in the reader's night", m.Kind, m.To, goes)
		}
	}
}

func TestParseNight(t *testing.T) {
	for in, want := range map[string]string{"21:00-08:00": "21:00-08:00", " 22:30 - 06:15 ": "22:30-06:15", "": "off", "off": "off", "13:00-14:00": "13:00-14:00"} {
		n, err := agreements.ParseNight(in)
		if err != nil || n.String() != want {
			t.Errorf("ParseNight(%q) = %v, %v; want %s", in, n, err, want)
		}
	}
	for _, in := range []string{"21-8", "night", "25:00-08:00", "21:00"} {
		if _, err := agreements.ParseNight(in); !errors.Is(err, agreements.ErrInvalid) {
			t.Errorf("ParseNight(%q) = %v, want ErrInvalid", in, err)
		}
	}
}

// TestFixAfterDigest: a fix before the digest replaces the answer
// quietly; after the digest, the other person gets a short correction,
// and the receipt says so.
func TestFixAfterDigest(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	mustActivate(t, db, mustCreate(t, db))
	for end := time.Date(2027, 3, 1, 2, 0, 0, 0, time.UTC); now.Before(end); now = now.Add(15 * time.Minute) { // both Sunday's check-ins
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tokens := map[string]string{}
	for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
		if m.Kind == agreements.MailCheckIn {
			tokens[m.To] = m.ReplyToken
		}
	}
	n := 0
	reply := func(from, text string) {
		t.Helper()
		n++
		if out, err := db.RecordInbound(ctx, agreements.Inbound{Key: fmt.Sprintf("<f%d@x>", n), MessageID: fmt.Sprintf("<f%d@x>", n), Mailbox: "INBOX", UIDValidity: 1, UID: uint32(n),
			From: from, Tokens: []string{tokens[from]}, Body: text, AuthResult: "none"}); err != nil {
			t.Fatal(err)
		} else if out.Outcome != "checkin" {
			t.Fatalf("%s %q: %+v", from, text, out)
		}
	}
	corrections := func() (n int, last *agreements.OutboxMail) {
		for _, m := range outbox(t, db, agreements.OutboxFilter{}) {
			if m.Kind == agreements.MailNotice && m.Data.Notice == agreements.NoticeCorrected {
				n++
				last = m
			}
		}
		return n, last
	}
	reply("alice@example.test", "1 kept, 2 kept")
	reply("alice@example.test", "fix: 1 partly") // before the digest: quietly
	if c, _ := corrections(); c != 0 {
		t.Fatalf("%d corrections before the digest, want none", c)
	}
	reply("bob@example.test", "1 kept") // both answered: the digests go
	reply("alice@example.test", "fix: 1 missed")
	c, m := corrections()
	if c != 1 || m.To != "bob@example.test" || m.Data.Author == nil || m.Data.Author.Address != "alice@example.test" || m.Data.Answer.Statuses[1] != "missed" {
		t.Fatalf("%d corrections, the last %+v; want one to Bob with Alice's 1 missed", c, m)
	}
	ms := outbox(t, db, agreements.OutboxFilter{})
	receipt := ms[len(ms)-1]
	for _, m := range ms {
		if m.Kind == agreements.MailReceipt && m.To == "alice@example.test" {
			receipt = m
		}
	}
	if !receipt.Data.Corrected {
		t.Fatalf("Alice's last receipt does not say Bob was sent the correction: %+v", receipt.Data)
	}
}
