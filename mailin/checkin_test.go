package mailin_test

import (
	"maps"
	"testing"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

var commitments = []string{
	"Call or text before 18:00 when I will be home after 19:00.",
	"Tell Bob myself when plans change.",
	"Put the phone away at dinner.",
}

func TestParseCheckIn(t *testing.T) {
	K, P, M := agreements.CheckInKept, agreements.CheckInPartly, agreements.CheckInMissed
	for _, tt := range []struct {
		name      string
		text      string
		statuses  map[int]string
		other     string
		self      string
		wentWrong string
	}{
		{"Short", "1 kept, 2 partly", map[int]string{1: K, 2: P}, "", "", ""},
		{"Colons", "1: yes\n2: no\n3: partly", map[int]string{1: K, 2: M, 3: P}, "", "", ""},
		{"Hash", "#1 done #2 missed #3 ~", map[int]string{1: K, 2: M, 3: P}, "", "", ""},
		{"Parens", "1) kept\n2) kept\n3) missed", map[int]string{1: K, 2: K, 3: M}, "", "", ""},
		{"All", "all kept", map[int]string{1: K, 2: K, 3: K}, "", "", ""},
		{"AllMissed", "All missed this week.", map[int]string{1: M, 2: M, 3: M}, "", "", ""},
		{"Ordinal", "Kept the first one but missed the second one", map[int]string{1: K, 2: M}, "", "", ""},
		{"OrdinalAfter", "second one: partly", map[int]string{2: P}, "", "", ""},
		{"Quoting", "Call or text before 18:00: kept\nPut the phone away: missed", map[int]string{1: K, 3: M}, "", "", ""},
		{"OutOfRange", "7 kept", map[int]string{}, "", "", ""},
		{"Headed", "1 kept, 2 kept, 3 partly\n\nSomething good about Bob: he cooked on Tuesday.\nSomething good about myself: I called twice.\nWent wrong: we argued about the car.",
			map[int]string{1: K, 2: K, 3: P}, "he cooked on Tuesday.", "I called twice.", "we argued about the car."},
		{"HeadingsOnOwnLines", "Positive about them:\nBob listened.\nIt helped.\n\nPositive about me:\nI was patient.\n\nTo talk about:\nThe weekend plans.",
			map[int]string{}, "Bob listened.\nIt helped.", "I was patient.", "The weekend plans."},
		{"FreeText", "It was a good week, we talked a lot.", map[int]string{}, "", "", ""},
		{"NothingInvented", "I think things are better.", map[int]string{}, "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := mailin.ParseCheckIn(tt.text, mailin.CheckInContext{Commitments: commitments, Others: []string{"Bob"}})
			if !maps.Equal(a.Statuses, tt.statuses) {
				t.Fatalf("Statuses = %v, want %v", a.Statuses, tt.statuses)
			}
			if a.PositiveOther != tt.other || a.PositiveSelf != tt.self || a.WentWrong != tt.wentWrong {
				t.Fatalf("other %q self %q wrong %q, want %q %q %q", a.PositiveOther, a.PositiveSelf, a.WentWrong, tt.other, tt.self, tt.wentWrong)
			}
			if a.Text != tt.text {
				t.Fatalf("Text = %q, want the whole reply", a.Text)
			}
		})
	}
}
