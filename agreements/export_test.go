package agreements_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// exportedRecord returns a store with an agreement that has a bit of
// everything an export carries: two versions, confirmations of both, a
// round each party answered, and a digest; and its export.
func exportedRecord(t *testing.T) (*agreements.DB, *agreements.Export) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2027, 2, 24, 12, 0, 0, 0, time.UTC) // a Wednesday
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a := mustActivate(t, db, mustCreate(t, db))
	terms := a.Terms
	terms.WhatWentWrong = "I missed the school play and did not call."
	now = now.Add(time.Hour)
	a, err := db.AmendAgreement(ctx, a.ID, terms)
	if err != nil {
		t.Fatal(err)
	}
	a = mustActivate(t, db, a)
	n := 0
	seen := map[int64]bool{}
	for end := now.Add(5 * 24 * time.Hour); now.Before(end); now = now.Add(30 * time.Minute) {
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
		ms, err := db.FindOutbox(ctx, agreements.OutboxFilter{Status: agreements.MailPending})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Kind != agreements.MailCheckIn || seen[m.ID] {
				continue
			}
			seen[m.ID] = true
			n++
			in := agreements.Inbound{Key: fmt.Sprintf("<c%d@x>", n), MessageID: fmt.Sprintf("<c%d@x>", n), Mailbox: "INBOX", UIDValidity: 1, UID: uint32(n),
				From: m.To, Tokens: []string{m.ReplyToken}, Body: "1 kept, 2 partly\nSomething good about you: you listened", AuthResult: "none"}
			if _, err := db.RecordInbound(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	r, err := db.FindRecord(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Rounds) != 1 || r.Rounds[0].DigestSentAt == "" || len(r.Versions) != 2 || len(r.Confirmations) != 4 {
		t.Fatalf("the record lacks something to export: %d rounds, %d versions, %d confirmations", len(r.Rounds), len(r.Versions), len(r.Confirmations))
	}
	return db, r.Export(now)
}

// TestExport_EveryFieldChecked changes each value of an export, one at a
// time, and asks that the change be caught: by the export's own checks
// where they can see it, and always against the record.
func TestExport_EveryFieldChecked(t *testing.T) {
	db, e := exportedRecord(t)
	r, err := db.FindRecord(context.Background(), e.Agreement.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c := e.Check(); c.ChainErr != nil || len(c.Problems) > 0 || len(c.Confirmations) != 2 {
		t.Fatalf("the export as made: %v %q, %d confirmations", c.ChainErr, c.Problems, len(c.Confirmations))
	}
	if d := r.Compare(e); len(d) > 0 {
		t.Fatalf("the export as made differs from the record: %q", d)
	}
	raw, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var tree any
	if err := json.Unmarshal(raw, &tree); err != nil {
		t.Fatal(err)
	}
	// Each event's data stays as logged, byte for byte (its hash is of
	// those bytes), and is changed as a whole.
	for i, ev := range tree.(map[string]any)["events"].([]any) {
		ev.(map[string]any)["data"] = json.RawMessage(e.Events[i].Data)
	}
	n := 0
	for path, changed := range mutations(tree) {
		if path == "exported_at" { // the export's own time: nothing to check it by
			continue
		}
		n++
		data, err := json.Marshal(changed)
		if err != nil {
			t.Fatal(err)
		}
		x, err := agreements.ParseExport(data)
		if err != nil {
			continue // caught as it is read
		}
		c := x.Check()
		if c.ChainErr != nil && !strings.HasPrefix(path, "events") && !strings.HasPrefix(path, "chain") && path != "agreement.id" {
			t.Fatalf("%s changed: the chain no longer verifies (%v): the test broke the log", path, c.ChainErr)
		}
		if diffs := r.Compare(x); c.ChainErr == nil && len(c.Problems) == 0 && len(diffs) == 0 {
			t.Errorf("%s changed: not caught", path)
		}
	}
	if n < 100 {
		t.Fatalf("%d values changed; the export should hold more", n)
	}

	// The bug this was written for: one byte of the structured terms.
	x := *e
	x.Agreement.Terms.WhatWentWrong = strings.Replace(x.Agreement.Terms.WhatWentWrong, "school", "School", 1)
	if c := x.Check(); len(c.Problems) != 1 || !strings.Contains(c.Problems[0], "terms are not the text of version 2") {
		t.Fatalf("School for school: %q", c.Problems)
	}
}

// mutations yields, for each leaf value of a JSON tree, its path and a
// copy of the tree with that one value changed.
func mutations(tree any) func(yield func(string, any) bool) {
	return func(yield func(string, any) bool) {
		var walk func(v any, path string, set func(any) any) bool
		walk = func(v any, path string, set func(any) any) bool {
			switch v := v.(type) {
			case json.RawMessage:
				return yield(path, set(changeLeaf(v)))
			case map[string]any:
				for k, c := range v {
					if !walk(c, strings.TrimPrefix(path+"."+k, "."), func(nv any) any {
						m := clone(v)
						m[k] = nv
						return set(m)
					}) {
						return false
					}
				}
				return true
			case []any:
				for i, c := range v {
					if !walk(c, path+"["+strconv.Itoa(i)+"]", func(nv any) any {
						s := append([]any(nil), v...)
						s[i] = nv
						return set(s)
					}) {
						return false
					}
				}
				return true
			}
			return yield(path, set(changeLeaf(v)))
		}
		walk(tree, "", func(v any) any { return v })
	}
}

func clone(m map[string]any) map[string]any {
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// changeLeaf returns a different value of the same kind: a time a second
// later, a hash with one digit changed, a word with its first letter's
// case flipped, a number plus one, the other bool.
func changeLeaf(v any) any {
	switch v := v.(type) {
	case json.RawMessage: // an event's data: its first value changed
		b := []byte(string(v))
		i := strings.Index(string(b), `":`) + 2
		for i < len(b) && (b[i] == ' ' || b[i] == '"' || b[i] == '[' || b[i] == '{') {
			i++
		}
		switch c := b[i]; {
		case c >= '0' && c <= '8':
			b[i]++
		case c == '9':
			b[i] = '0'
		case c >= 'a' && c <= 'z':
			b[i] -= 'a' - 'A'
		default:
			b[i] = 'x'
		}
		return json.RawMessage(b)
	case string:
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			return t.Add(time.Second).Format(time.RFC3339)
		}
		if v == "" {
			return "x"
		}
		r := []rune(v)
		switch {
		case strings.ToUpper(string(r[0])) != string(r[0]):
			r[0] = []rune(strings.ToUpper(string(r[0])))[0]
		case strings.ToLower(string(r[0])) != string(r[0]):
			r[0] = []rune(strings.ToLower(string(r[0])))[0]
		case r[0] == '0':
			r[0] = '1'
		default:
			r[0] = '0'
		}
		return string(r)
	case float64:
		return v + 1
	case bool:
		return !v
	case nil:
		return "x"
	}
	panic(fmt.Sprintf("unexpected %T", v))
}
