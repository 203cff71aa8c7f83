package agreements_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// goldenTerms exercises every part of the format: multi-line texts, blank
// lines inside, three parties, a reminder schedule, non-ASCII names.
func goldenTerms() agreements.Terms {
	t := testTerms()
	t.WhatWentWrong = "I said I would call when late,\nand twice I did not.\n\nBob heard it from a friend."
	t.Parties[0].Commitments = []string{"Call before 18:00 when late.", "Tell Bob when plans change,\nbefore anyone else does."}
	t.Parties = append(t.Parties, agreements.Party{Name: "Zoë Ångström", Address: "zoe@example.test", TimeZone: "Asia/Kolkata", Commitments: []string{"Keep the calendar up to date."}})
	t.Reminder = &agreements.Schedule{Unit: agreements.Week, Every: 2, Weekdays: []time.Weekday{time.Monday}, Hour: 8}
	return t
}

func TestCanonicalText(t *testing.T) {
	t.Run("Golden", func(t *testing.T) {
		got := agreements.CanonicalText(12, 3, goldenTerms())
		path := filepath.Join("testdata", "canonical-v1.golden")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Fatalf("CanonicalText =\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("FingerprintStable", func(t *testing.T) {
		// Pinned forever: a confirmed fingerprint must never change. If this
		// fails, the format changed; make a new format number instead.
		const want = "4cf9f671282b48f2cd2d4d51f486198f531f30dc386a145b6ebae23d5fe25624"
		got := agreements.Fingerprint(agreements.CanonicalText(12, 3, goldenTerms()))
		if got != want {
			t.Fatalf("Fingerprint = %v, want %v", got, want)
		}
	})

	t.Run("Normalized", func(t *testing.T) {
		want := agreements.CanonicalText(12, 3, goldenTerms())
		variant := goldenTerms()
		variant.WhatWentWrong = "\r\n  \r\nI said I would call when late,  \r\nand twice I did not.\r\n\r\nBob heard it from a friend.\t\r\n\r\n"
		variant.Parties[2].Name = "Zoe\u0308 A\u030angstro\u0308m" // decomposed (NFD)
		variant.Title = "  Evenings   and\nphone calls "
		if got := agreements.CanonicalText(12, 3, variant); got != want {
			t.Fatalf("CanonicalText of CRLF/NFD/space variant =\n%s\nwant\n%s", got, want)
		}
	})

	t.Run("Distinct", func(t *testing.T) {
		base := agreements.CanonicalText(12, 3, goldenTerms())
		for name, other := range map[string]string{
			"Agreement": agreements.CanonicalText(13, 3, goldenTerms()),
			"Version":   agreements.CanonicalText(12, 4, goldenTerms()),
		} {
			if other == base {
				t.Fatalf("%s change gives the same text", name)
			}
		}
		moved := goldenTerms()
		// Moving a commitment from one party to another changes the text.
		moved.Parties[0].Commitments = moved.Parties[0].Commitments[:1]
		moved.Parties[1].Commitments = append(moved.Parties[1].Commitments, goldenTerms().Parties[0].Commitments[1])
		if agreements.CanonicalText(12, 3, moved) == base {
			t.Fatal("moving a commitment gives the same text")
		}
	})
}
