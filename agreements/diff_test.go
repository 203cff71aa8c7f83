package agreements_test

import (
	"slices"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

// TestChangedLines: what a change removes comes before what it adds; a
// change under a heading comes after the heading, as context; the
// version line and what did not change are left out.
func TestChangedLines(t *testing.T) {
	old := agreements.CanonicalText(1, 1, testTerms())
	terms := testTerms()
	terms.Parties[1].Commitments = []string{"Ask directly when worried.", "Say so the same day."}
	terms.Parties[0].Commitments[0] = "Call before 17:00 when late."
	terms.Title = "Evenings"
	got := agreements.ChangedLines(old, agreements.CanonicalText(1, 2, terms))
	want := []string{
		"- Title: Evenings and phone calls",
		"+ Title: Evenings",
		"  Alice Example <alice@example.test> will:",
		"- 1. Call before 18:00 when late.",
		"+ 1. Call before 17:00 when late.",
		"  Bob Example <bob@example.test> will:",
		"+ 2. Say so the same day.",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("ChangedLines =\n%q\nwant\n%q", got, want)
	}
	if got := agreements.ChangedLines(old, agreements.CanonicalText(1, 2, testTerms())); len(got) != 0 {
		t.Fatalf("a new version number alone: %q, want no change", got)
	}
}
