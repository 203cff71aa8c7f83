package agreements_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// amendCase is an agreement both parties confirmed by reply, on a clock
// the test moves.
type amendCase struct {
	*inboundCase
	now time.Time
}

func newAmendCase(t *testing.T) *amendCase {
	t.Helper()
	c := &amendCase{inboundCase: newInboundCase(t), now: Now}
	c.db.Now = func() time.Time { return c.now }
	for i, who := range []string{"alice@example.test", "bob@example.test"} {
		if out := c.record(t, c.reply(who, c.tokenOf(t, i, agreements.MailConfirmRequest), "I agree")); out.Outcome != "confirmed" {
			t.Fatalf("%s confirms: %+v", who, out)
		}
	}
	if c.status(t) != agreements.StatusActive {
		t.Fatal("not active after both confirmed")
	}
	return c
}

// agreement returns the agreement as it stands.
func (c *amendCase) agreement(t *testing.T) *agreements.Agreement {
	t.Helper()
	a, err := c.db.FindAgreementByID(context.Background(), c.a.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// since returns the mails queued after the outbox row after, by kind and
// recipient.
func (c *amendCase) since(t *testing.T, after int64) []*agreements.OutboxMail {
	t.Helper()
	var ms []*agreements.OutboxMail
	for _, m := range outbox(t, c.db, agreements.OutboxFilter{}) {
		if m.ID > after {
			ms = append(ms, m)
		}
	}
	return ms
}

// amend has Bob propose new commitments of his own by reply, with a
// closing, and checks that version 2 waits while version 1 stays in force.
func (c *amendCase) amend(t *testing.T) {
	t.Helper()
	text := "amend:\nI will:\n1. Ask directly when worried.\n2. Say so the same day when upset.\n\nThanks,\nBob\n\nOn Fri, 27 Nov 2026 at 10:00, inwriting <service@example.test> wrote:\n> Your agreement is confirmed"
	if out := c.record(t, c.reply("bob@example.test", c.tokenOf(t, 1, agreements.MailConfirmed), text)); out.Outcome != "amended" {
		t.Fatalf("amend by reply: %+v", out)
	}
	a := c.agreement(t)
	if a.Status != agreements.StatusActive || a.Version != 1 || a.Proposed != 2 {
		t.Fatalf("after the amendment: %s, version %d, proposed %d; want active on version 1, version 2 waiting", a.Status, a.Version, a.Proposed)
	}
}

// TestAmend_ByReply: "amend:" from either party makes a new version with
// the parts given; both are asked to confirm it with what changed, the
// version in force stays so (its check-ins go on) until both have, and
// then the new one is in force.
func TestAmend_ByReply(t *testing.T) {
	ctx := context.Background()
	c := newAmendCase(t)
	before := lastOutboxID(t, c.db)
	c.amend(t)

	vs, err := c.db.FindVersions(ctx, c.a.ID)
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions: %d, %v", len(vs), err)
	}
	v2 := vs[1].Terms
	if got := v2.Parties[1].Commitments; !slices.Equal(got, []string{"Ask directly when worried.", "Say so the same day when upset."}) {
		t.Errorf("Bob's commitments in version 2 = %q", got)
	}
	if !slices.Equal(v2.Parties[0].Commitments, c.a.Terms.Parties[0].Commitments) || v2.Title != c.a.Terms.Title || v2.CheckIn.String() != c.a.Terms.CheckIn.String() {
		t.Errorf("version 2 changed what the amendment did not give: %+v", v2)
	}
	asked := map[string]bool{}
	for _, m := range c.since(t, before) {
		if m.Kind != agreements.MailConfirmRequest {
			t.Errorf("the amendment queued a %s to %s", m.Kind, m.To)
			continue
		}
		d := m.Data
		asked[m.To] = true
		if d.Agreement.Version != 2 || d.InForce != 1 || d.Amends != 1 || m.Data.Deadline.IsZero() {
			t.Errorf("confirm-request to %s: version %d, in force %d, amends %d", m.To, d.Agreement.Version, d.InForce, d.Amends)
		}
		if want := []string{"  Bob Example <bob@example.test> will:", "+ 2. Say so the same day when upset."}; !slices.Equal(d.Changes, want) {
			t.Errorf("changes shown to %s = %q, want %q", m.To, d.Changes, want)
		}
	}
	if !asked["alice@example.test"] || !asked["bob@example.test"] {
		t.Fatalf("asked to confirm version 2: %v; want both, the writer too", asked)
	}

	// Sunday's check-in asks about the commitments in force: version 1.
	c.now = time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC) // Sunday 21:00 in Chicago
	before = lastOutboxID(t, c.db)
	if _, err := c.db.RunSchedule(ctx); err != nil {
		t.Fatal(err)
	}
	checkIns := 0
	for _, m := range c.since(t, before) {
		if m.Kind == agreements.MailCheckIn && m.To == "bob@example.test" {
			checkIns++
			if got := m.Data.Recipient.Commitments; !slices.Equal(got, c.a.Terms.Parties[1].Commitments) {
				t.Errorf("check-in while version 2 waits asks about %q, want version 1's", got)
			}
		}
	}
	if checkIns != 1 {
		t.Fatalf("%d check-ins to Bob while the amendment waits, want 1", checkIns)
	}

	// Alice's confirmation is recorded; Bob's puts version 2 in force.
	if out := c.record(t, c.reply("alice@example.test", c.tokenOf(t, 0, agreements.MailConfirmRequest), "I agree")); out.Outcome != "confirmed" {
		t.Fatalf("Alice confirms version 2: %+v", out)
	}
	if a := c.agreement(t); a.Version != 1 || a.Proposed != 2 {
		t.Fatalf("after one of two: version %d, proposed %d", a.Version, a.Proposed)
	}
	before = lastOutboxID(t, c.db)
	if out := c.record(t, c.reply("bob@example.test", c.tokenOf(t, 1, agreements.MailConfirmRequest), "I agree")); out.Outcome != "confirmed" {
		t.Fatalf("Bob confirms version 2: %+v", out)
	}
	a := c.agreement(t)
	if a.Status != agreements.StatusActive || a.Version != 2 || a.Proposed != 0 || len(a.Terms.Parties[1].Commitments) != 2 {
		t.Fatalf("after both: %s, version %d, proposed %d, %q; want version 2 in force", a.Status, a.Version, a.Proposed, a.Terms.Parties[1].Commitments)
	}
	if got := kinds(c.since(t, before)); got[agreements.MailConfirmed] != 2 || len(got) != 1 {
		t.Fatalf("after the last confirmation: %v, want the confirmed copy to each", got)
	}
	if err := c.db.VerifyEvents(ctx, c.a.ID); err != nil {
		t.Fatal(err)
	}
}

// TestAmend_Declined: a declined amendment is dropped; the version in
// force stays, and both are told so.
func TestAmend_Declined(t *testing.T) {
	c := newAmendCase(t)
	c.amend(t)
	before := lastOutboxID(t, c.db)
	if out := c.record(t, c.reply("alice@example.test", c.tokenOf(t, 0, agreements.MailConfirmRequest), "I decline")); out.Outcome != "declined" {
		t.Fatalf("Alice declines version 2: %+v", out)
	}
	a := c.agreement(t)
	if a.Status != agreements.StatusActive || a.Version != 1 || a.Proposed != 0 {
		t.Fatalf("after the decline: %s, version %d, proposed %d; want version 1 still in force", a.Status, a.Version, a.Proposed)
	}
	ms := c.since(t, before)
	if got := kinds(ms); got[agreements.MailDeclined] != 2 || len(got) != 1 {
		t.Fatalf("after the decline: %v, want a declined mail to each", got)
	}
	for _, m := range ms {
		if m.Data.InForce != 1 || m.Data.Agreement.Version != 2 {
			t.Errorf("declined to %s: in force %d, version %d; want version 2 declined, 1 in force", m.To, m.Data.InForce, m.Data.Agreement.Version)
		}
	}
	// A late "I agree" to the dropped version confirms nothing.
	if out := c.record(t, c.reply("bob@example.test", c.tokenOf(t, 1, agreements.MailConfirmRequest), "I agree")); out.Outcome != "refused" {
		t.Fatalf("confirming the declined amendment: %+v, want refused", out)
	}
	if a := c.agreement(t); a.Version != 1 || a.Proposed != 0 {
		t.Fatalf("after a late confirmation: version %d, proposed %d", a.Version, a.Proposed)
	}
}

// TestAmend_Expires: an amendment not confirmed in time gets its one
// reminder, with what it changes, and is then dropped, the version in
// force staying; a pause meanwhile does not stop its timer.
func TestAmend_Expires(t *testing.T) {
	ctx := context.Background()
	c := newAmendCase(t)
	c.amend(t)
	mustCommand(t, c.db, c.a, "alice@example.test", agreements.CommandPause)
	mustCommand(t, c.db, c.a, "alice@example.test", agreements.CommandResume)

	c.now = Now.Add(49 * time.Hour)
	before := lastOutboxID(t, c.db)
	if st, err := c.db.RunSchedule(ctx); err != nil || st.ConfirmReminders != 2 {
		t.Fatalf("at 49h: %+v, %v; want 2 reminders", st, err)
	}
	for _, m := range c.since(t, before) {
		if m.Kind == agreements.MailConfirmReminder && (m.Data.InForce != 1 || len(m.Data.Changes) == 0 || m.Data.Agreement.Version != 2) {
			t.Errorf("reminder to %s: %+v", m.To, m.Data)
		}
	}
	c.now = Now.Add(7*24*time.Hour + time.Minute)
	before = lastOutboxID(t, c.db)
	if st, err := c.db.RunSchedule(ctx); err != nil || st.Expired != 1 {
		t.Fatalf("at 7 days: %+v, %v; want the amendment expired", st, err)
	}
	a := c.agreement(t)
	if a.Status != agreements.StatusActive || a.Version != 1 || a.Proposed != 0 {
		t.Fatalf("after expiry: %s, version %d, proposed %d; want version 1 still in force", a.Status, a.Version, a.Proposed)
	}
	expired := 0
	for _, m := range c.since(t, before) {
		if m.Kind == agreements.MailExpired {
			expired++
			if m.Data.InForce != 1 {
				t.Errorf("expired to %s says version %d stays", m.To, m.Data.InForce)
			}
		}
	}
	if expired != 2 {
		t.Fatalf("%d expired mails, want 2", expired)
	}
}

// TestAmend_Unclear: an "amend:" that cannot be read, or cannot be made,
// is answered to its writer alone, and changes nothing.
func TestAmend_Unclear(t *testing.T) {
	for _, tt := range []struct {
		name, text, problem string
	}{
		{"NoParts", "amend:", "gives no part to change"},
		{"UnknownPerson", "amend:\nCarol will:\n1. Bake", `"Carol" is not one of the parties`},
		{"Parties", "amend:\nTo: Carol <carol@example.test>\nI will:\n- x", "keeps the same two people"},
		{"Nothing", "amend:\nI will:\n1. Ask directly when worried.", "changes nothing"},
		{"BadSchedule", "amend:\nCheck in: whenever", "Line 1: \"whenever\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newAmendCase(t)
			before := lastOutboxID(t, c.db)
			if out := c.record(t, c.reply("bob@example.test", c.tokenOf(t, 1, agreements.MailConfirmed), tt.text)); out.Outcome != "refused" {
				t.Fatalf("outcome %+v, want refused", out)
			}
			ms := c.since(t, before)
			if len(ms) != 1 || ms[0].To != "bob@example.test" || ms[0].Data.Notice != agreements.NoticeAmendUnclear {
				t.Fatalf("queued %d mails (%v); want one amend-unclear notice to Bob alone", len(ms), kinds(ms))
			}
			if !strings.Contains(ms[0].Data.Problem, tt.problem) {
				t.Errorf("the notice says %q, want it to name %q", ms[0].Data.Problem, tt.problem)
			}
			if a := c.agreement(t); a.Version != 1 || a.Proposed != 0 {
				t.Fatalf("version %d, proposed %d after an unclear amendment", a.Version, a.Proposed)
			}
		})
	}
}

// TestAmend_CommentOnAmendment: words about an amendment that waits are
// passed on as a comment that answers it, and its writer's reply
// "I agree" to that comment confirms the amendment.
func TestAmend_CommentOnAmendment(t *testing.T) {
	c := newAmendCase(t)
	c.amend(t)
	before := lastOutboxID(t, c.db)
	if out := c.record(t, c.reply("alice@example.test", c.tokenOf(t, 0, agreements.MailConfirmRequest), "Can we keep the first point as it was, and talk on Sunday?")); out.Outcome != "comment" {
		t.Fatalf("comment: %+v", out)
	}
	ms := c.since(t, before)
	if len(ms) != 1 || ms[0].To != "bob@example.test" || ms[0].Kind != agreements.MailComment || ms[0].Data.Agreement.Version != 2 {
		t.Fatalf("comment queued %v; want one comment on version 2 to Bob", kinds(ms))
	}
	if out := c.record(t, c.reply("bob@example.test", ms[0].ReplyToken, "I agree")); out.Outcome != "confirmed" {
		t.Fatalf("Bob's I agree to the comment: %+v, want it to confirm version 2", out)
	}
}

// TestAmend_UnsureAboutAmendment: "yes?" to an amendment's request is
// asked about, and the question shows the amendment, not the version in
// force.
func TestAmend_UnsureAboutAmendment(t *testing.T) {
	c := newAmendCase(t)
	c.amend(t)
	before := lastOutboxID(t, c.db)
	if out := c.record(t, c.reply("alice@example.test", c.tokenOf(t, 0, agreements.MailConfirmRequest), "yes?")); out.Outcome != "unsure" {
		t.Fatalf("yes?: %+v", out)
	}
	ms := c.since(t, before)
	if len(ms) != 1 || ms[0].Kind != agreements.MailUnsure || ms[0].Data.Agreement.Version != 2 {
		t.Fatalf("queued %v; want one unsure about version 2", kinds(ms))
	}
	if got := ms[0].Data.Others[0].Commitments; len(got) != 2 {
		t.Fatalf("the question shows Bob's commitments %q, not version 2's", got)
	}
}
