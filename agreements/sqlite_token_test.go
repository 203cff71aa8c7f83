package agreements_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// TestDB_IssueToken_SortsByHour: a token's first four characters are the
// hour it was issued, so tokens sort by time; the rest is random.
func TestDB_IssueToken_SortsByHour(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2027, 3, 7, 19, 0, 0, 0, time.UTC)
	db := MustOpenDB(t)
	db.Now = func() time.Time { return now }
	a := mustCreate(t, db)
	var got []string
	for i := range 6 {
		now = now.Add(time.Duration(i%2) * 90 * time.Minute) // two tokens an hour
		tok, err := db.IssueToken(ctx, a.Terms.Parties[0].ID, agreements.PurposeCheckIn, int64(i))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tok.Value)
	}
	for i := 1; i < len(got); i++ {
		same := got[i][:4] == got[i-1][:4]
		if same != (i%2 == 0) || got[i][:4] < got[i-1][:4] {
			t.Fatalf("tokens %q: each pair should share an hour, later hours sort after", got)
		}
		if got[i][4:] == got[i-1][4:] {
			t.Fatalf("tokens %q repeat their random part", got)
		}
	}
	// 2026-01-01 00:00 UTC is hour 0, "aaaa"; 7 March 2027 19:00 is hour 10,339.
	if want := "akdd"; got[0][:4] != want {
		t.Fatalf("token %q issued at hour 10339 starts %q, want %q", got[0], got[0][:4], want)
	}
}

func TestDB_IssueToken(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := mustCreate(t, db)
	alice, bob := a.Terms.Parties[0].ID, a.Terms.Parties[1].ID

	t.Run("Unique", func(t *testing.T) {
		form := regexp.MustCompile(`^[a-z2-7]{24}$`)
		seen := map[string]bool{}
		for _, party := range []int64{alice, bob} {
			for _, p := range []agreements.Purpose{agreements.PurposeConfirm, agreements.PurposeCheckIn, agreements.PurposeCommands} {
				for ref := range int64(20) {
					tok, err := db.IssueToken(ctx, party, p, ref)
					if err != nil {
						t.Fatal(err)
					}
					if !form.MatchString(tok.Value) {
						t.Fatalf("token %q is not 24 lowercase base32 characters (120 bits)", tok.Value)
					}
					if seen[tok.Value] {
						t.Fatalf("token %q issued twice", tok.Value)
					}
					seen[tok.Value] = true
				}
			}
		}
	})

	t.Run("OnePerPartyAndPurpose", func(t *testing.T) {
		t1, err := db.IssueToken(ctx, alice, agreements.PurposeConfirm, 1)
		if err != nil {
			t.Fatal(err)
		}
		t2, err := db.IssueToken(ctx, alice, agreements.PurposeConfirm, 1)
		if err != nil {
			t.Fatal(err)
		}
		if t1.Value != t2.Value {
			t.Fatalf("second issue = %v, want %v", t2.Value, t1.Value)
		}
		t3, err := db.IssueToken(ctx, bob, agreements.PurposeConfirm, 1)
		if err != nil {
			t.Fatal(err)
		}
		if t3.Value == t1.Value {
			t.Fatal("two parties share a token")
		}
	})

	t.Run("FindAnyCase", func(t *testing.T) {
		tok, err := db.IssueToken(ctx, bob, agreements.PurposeCheckIn, 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{tok.Value, strings.ToUpper(tok.Value), " " + tok.Value + " "} {
			got, err := db.FindToken(ctx, s)
			if err != nil {
				t.Fatalf("FindToken(%q) = %v", s, err)
			}
			if got.PartyID != bob || got.AgreementID != a.ID || got.Purpose != agreements.PurposeCheckIn || got.Ref != 7 {
				t.Fatalf("FindToken = %+v", got)
			}
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, s := range []string{"", "abc", strings.Repeat("a", 24), strings.Repeat("1", 24), "../../etc/passwd"} {
			if _, err := db.FindToken(ctx, s); !errors.Is(err, agreements.ErrNotFound) {
				t.Fatalf("FindToken(%q) = %v, want ErrNotFound", s, err)
			}
		}
		if _, err := db.IssueToken(ctx, 9999, agreements.PurposeConfirm, 1); !errors.Is(err, agreements.ErrNotFound) {
			t.Fatalf("IssueToken for no party = %v, want ErrNotFound", err)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		if _, err := db.IssueToken(ctx, alice, "other", 1); !errors.Is(err, agreements.ErrInvalid) {
			t.Fatalf("IssueToken(other) = %v, want ErrInvalid", err)
		}
	})
}
