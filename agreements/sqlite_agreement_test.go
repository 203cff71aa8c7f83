package agreements_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

func mustCreate(tb testing.TB, db *agreements.DB) *agreements.Agreement {
	tb.Helper()
	a, err := db.CreateAgreement(context.Background(), testTerms())
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

func confirm(db *agreements.DB, a *agreements.Agreement, version int, party int64, msgID string) (*agreements.Agreement, error) {
	return db.ConfirmVersion(context.Background(), agreements.Confirmation{
		AgreementID: a.ID, Version: version, PartyID: party, MessageID: msgID, AuthResult: "dkim=pass",
	})
}

func TestDB_CreateAgreement(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		if a.ID == 0 || a.Version != 1 || a.Status != agreements.StatusPending {
			t.Fatalf("agreement = %+v, want id, version 1, pending", a)
		}
		if got, want := a.Fingerprint, agreements.Fingerprint(agreements.CanonicalText(a.ID, 1, testTerms())); got != want {
			t.Fatalf("Fingerprint = %v, want %v", got, want)
		}
		for _, p := range a.Terms.Parties {
			if p.ID == 0 {
				t.Fatalf("party %s has no ID", p.Address)
			}
		}
		if !a.CreatedAt.Equal(Now) {
			t.Fatalf("CreatedAt = %v, want %v", a.CreatedAt, Now)
		}
		got, err := db.FindAgreementByID(context.Background(), a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Terms.Parties[1].Commitments[0] != "Ask directly when worried." {
			t.Fatalf("Commitments = %q", got.Terms.Parties[1].Commitments)
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		db := MustOpenDB(t)
		for name, mutate := range map[string]func(*agreements.Terms){
			"NoTitle":         func(t *agreements.Terms) { t.Title = "  " },
			"NoWhatWentWrong": func(t *agreements.Terms) { t.WhatWentWrong = "" },
			"OneParty":        func(t *agreements.Terms) { t.Parties = t.Parties[:1] },
			"SameAddress":     func(t *agreements.Terms) { t.Parties[1].Address = "ALICE@example.test" },
			"BadAddress":      func(t *agreements.Terms) { t.Parties[1].Address = "bob at example" },
			"BadTimeZone":     func(t *agreements.Terms) { t.Parties[0].TimeZone = "Mars/Olympus" },
			"NoCommitments":   func(t *agreements.Terms) { t.Parties[1].Commitments = []string{"  "} },
			"BadSchedule":     func(t *agreements.Terms) { t.CheckIn.Hour = 24 },
		} {
			t.Run(name, func(t *testing.T) {
				terms := testTerms()
				mutate(&terms)
				if _, err := db.CreateAgreement(context.Background(), terms); !errors.Is(err, agreements.ErrInvalid) {
					t.Fatalf("CreateAgreement = %v, want ErrInvalid", err)
				}
			})
		}
		if as, err := db.FindAgreements(context.Background(), agreements.AgreementFilter{}); err != nil {
			t.Fatal(err)
		} else if len(as) != 0 {
			t.Fatalf("agreements after invalid creates = %d, want 0", len(as))
		}
	})
}

func TestDB_FindAgreements(t *testing.T) {
	db := MustOpenDB(t)
	ctx := context.Background()
	a1 := mustCreate(t, db)
	terms := testTerms()
	terms.Parties[1].Address = "carol@example.test"
	a2, err := db.CreateAgreement(ctx, terms)
	if err != nil {
		t.Fatal(err)
	}
	mustCommand(t, db, a1, "alice@example.test", agreements.CommandStop)
	for _, tt := range []struct {
		name   string
		filter agreements.AgreementFilter
		want   []int64
	}{
		{"All", agreements.AgreementFilter{}, []int64{a2.ID, a1.ID}},
		{"Status", agreements.AgreementFilter{Status: agreements.StatusEnded}, []int64{a1.ID}},
		{"AddressAnyCase", agreements.AgreementFilter{Address: "CAROL@Example.Test"}, []int64{a2.ID}},
		{"Limit", agreements.AgreementFilter{Limit: 1}, []int64{a2.ID}},
		{"None", agreements.AgreementFilter{Address: "nobody@example.test"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			as, err := db.FindAgreements(ctx, tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, a := range as {
				got = append(got, a.ID)
			}
			if len(got) != len(tt.want) || (len(got) > 0 && got[0] != tt.want[0]) {
				t.Fatalf("IDs = %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := db.FindAgreementByID(ctx, 999); !errors.Is(err, agreements.ErrNotFound) {
		t.Fatalf("FindAgreementByID(999) = %v, want ErrNotFound", err)
	}
}

func TestDB_ConfirmVersion(t *testing.T) {
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		alice, bob := a.Terms.Parties[0].ID, a.Terms.Parties[1].ID
		a, err := confirm(db, a, 1, alice, "<a1@example.test>")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != agreements.StatusPending {
			t.Fatalf("Status after one = %v, want pending", a.Status)
		}
		a, err = confirm(db, a, 1, bob, "<b1@example.test>")
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != agreements.StatusActive {
			t.Fatalf("Status after both = %v, want active", a.Status)
		}
		cs, err := db.FindConfirmations(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].PartyID != alice || cs[0].MessageID != "<a1@example.test>" || cs[0].AuthResult != "dkim=pass" || !cs[0].ConfirmedAt.Equal(Now) {
			t.Fatalf("confirmations = %+v", cs)
		}
	})

	t.Run("ErrConflict/Twice", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		if _, err := confirm(db, a, 1, a.Terms.Parties[0].ID, "<a1@x>"); err != nil {
			t.Fatal(err)
		}
		if _, err := confirm(db, a, 1, a.Terms.Parties[0].ID, "<a2@x>"); !errors.Is(err, agreements.ErrConflict) {
			t.Fatalf("second confirm = %v, want ErrConflict", err)
		}
		if cs, _ := db.FindConfirmations(ctx, a.ID); len(cs) != 1 {
			t.Fatalf("confirmations = %d, want 1", len(cs))
		}
	})

	t.Run("ErrConflict/Superseded", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		terms := a.Terms
		terms.Parties[1].Commitments = append(terms.Parties[1].Commitments, "Say so the same day.")
		a2, err := db.AmendAgreement(ctx, a.ID, terms)
		if err != nil {
			t.Fatal(err)
		}
		if a2.Version != 2 || a2.Fingerprint == a.Fingerprint {
			t.Fatalf("amended = version %d fingerprint %s", a2.Version, a2.Fingerprint)
		}
		_, err = confirm(db, a, 1, a.Terms.Parties[0].ID, "<a1@x>")
		if !errors.Is(err, agreements.ErrConflict) || !strings.Contains(err.Error(), "version 2") {
			t.Fatalf("confirm v1 = %v, want ErrConflict naming version 2", err)
		}
		if _, err := confirm(db, a, 3, a.Terms.Parties[0].ID, "<a1@x>"); !errors.Is(err, agreements.ErrNotFound) {
			t.Fatalf("confirm v3 = %v, want ErrNotFound", err)
		}
	})

	t.Run("AmendmentWaitsBesideVersionInForce", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		alice, bob := a.Terms.Parties[0].ID, a.Terms.Parties[1].ID
		if _, err := confirm(db, a, 1, alice, "<a1@x>"); err != nil {
			t.Fatal(err)
		}
		if _, err := confirm(db, a, 1, bob, "<b1@x>"); err != nil {
			t.Fatal(err)
		}
		terms := a.Terms
		terms.Title = "Evenings, calls and weekends"
		a2, err := db.AmendAgreement(ctx, a.ID, terms)
		if err != nil {
			t.Fatal(err)
		}
		if a2.Status != agreements.StatusActive || a2.Version != 1 || a2.Proposed != 2 || a2.Terms.Title != a.Terms.Title {
			t.Fatalf("after amending active: %v, version %d, proposed %d, %q; want active on version 1, version 2 waiting", a2.Status, a2.Version, a2.Proposed, a2.Terms.Title)
		}
		if _, err := confirm(db, a2, 1, alice, "<a1b@x>"); !errors.Is(err, agreements.ErrConflict) {
			t.Fatalf("confirm v1 again = %v, want ErrConflict", err)
		}
		a2, err = confirm(db, a2, 2, alice, "<a2@x>")
		if err != nil {
			t.Fatal(err)
		}
		if a2.Status != agreements.StatusActive || a2.Version != 1 || a2.Proposed != 2 {
			t.Fatalf("after one of two on v2: %v, version %d, proposed %d; want version 1 in force", a2.Status, a2.Version, a2.Proposed)
		}
		a2, err = confirm(db, a2, 2, bob, "<b2@x>")
		if err != nil {
			t.Fatal(err)
		}
		if a2.Status != agreements.StatusActive || a2.Version != 2 || a2.Proposed != 0 || a2.Terms.Title != terms.Title {
			t.Fatalf("after both on v2: %v, version %d, proposed %d, %q; want version 2 in force", a2.Status, a2.Version, a2.Proposed, a2.Terms.Title)
		}
	})

	t.Run("PendingAmendedStartsOver", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		alice := a.Terms.Parties[0].ID
		if _, err := confirm(db, a, 1, alice, "<a1@x>"); err != nil {
			t.Fatal(err)
		}
		terms := a.Terms
		terms.Title = "Evenings, calls and weekends"
		a2, err := db.AmendAgreement(ctx, a.ID, terms)
		if err != nil {
			t.Fatal(err)
		}
		if a2.Status != agreements.StatusPending || a2.Version != 2 || a2.Proposed != 0 {
			t.Fatalf("after amending pending: %v, version %d, proposed %d; want pending on version 2", a2.Status, a2.Version, a2.Proposed)
		}
		if a2, err = confirm(db, a2, 2, alice, "<a2@x>"); err != nil || a2.Status != agreements.StatusPending {
			t.Fatalf("after one of two on v2: %v, %v; want pending", a2, err)
		}
	})

	t.Run("ErrInvalid/NotAParty", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		other, err := db.CreateAgreement(ctx, testTerms())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := confirm(db, a, 1, other.Terms.Parties[0].ID, "<x@x>"); !errors.Is(err, agreements.ErrInvalid) {
			t.Fatalf("confirm by another agreement's party = %v, want ErrInvalid", err)
		}
	})

	t.Run("ErrInvalid/NoMessageID", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		if _, err := confirm(db, a, 1, a.Terms.Parties[0].ID, ""); !errors.Is(err, agreements.ErrInvalid) {
			t.Fatalf("confirm without Message-ID = %v, want ErrInvalid", err)
		}
	})

	t.Run("ErrConflict/NotPending", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		mustCommand(t, db, a, "bob@example.test", agreements.CommandStop)
		if _, err := confirm(db, a, 1, a.Terms.Parties[0].ID, "<x@x>"); !errors.Is(err, agreements.ErrConflict) {
			t.Fatalf("confirm ended = %v, want ErrConflict", err)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		db := MustOpenDB(t)
		if _, err := confirm(db, &agreements.Agreement{ID: 42}, 1, 1, "<x@x>"); !errors.Is(err, agreements.ErrNotFound) {
			t.Fatalf("confirm missing agreement = %v, want ErrNotFound", err)
		}
	})
}

func TestDB_DeclineVersion(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := mustCreate(t, db)
	bob := a.Terms.Parties[1].ID
	a, err := db.DeclineVersion(ctx, a.ID, 1, bob, "<no@x>")
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != agreements.StatusDeclined {
		t.Fatalf("Status = %v, want declined", a.Status)
	}
	if _, err := confirm(db, a, 1, a.Terms.Parties[0].ID, "<a@x>"); !errors.Is(err, agreements.ErrConflict) {
		t.Fatalf("confirm declined = %v, want ErrConflict", err)
	}
	if _, err := db.AmendAgreement(ctx, a.ID, testTerms()); !errors.Is(err, agreements.ErrConflict) {
		t.Fatalf("amend declined = %v, want ErrConflict", err)
	}
}

func TestDB_AmendAgreement(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrConflict/Ended", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		mustCommand(t, db, a, "alice@example.test", agreements.CommandStop)
		terms := a.Terms
		terms.Title = "New title"
		if _, err := db.AmendAgreement(ctx, a.ID, terms); !errors.Is(err, agreements.ErrConflict) {
			t.Fatalf("amend ended = %v, want ErrConflict", err)
		}
	})
	t.Run("ErrInvalid/Unchanged", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		if _, err := db.AmendAgreement(ctx, a.ID, a.Terms); !errors.Is(err, agreements.ErrInvalid) {
			t.Fatalf("amend unchanged = %v, want ErrInvalid", err)
		}
	})
	t.Run("ErrInvalid/OtherParties", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		terms := a.Terms
		terms.Parties[1].Address = "mallory@example.test"
		if _, err := db.AmendAgreement(ctx, a.ID, terms); !errors.Is(err, agreements.ErrInvalid) {
			t.Fatalf("amend with another party = %v, want ErrInvalid", err)
		}
	})
	t.Run("Versions", func(t *testing.T) {
		db := MustOpenDB(t)
		a := mustCreate(t, db)
		terms := a.Terms
		terms.Parties[0].TimeZone = "Europe/Paris"
		if _, err := db.AmendAgreement(ctx, a.ID, terms); err != nil {
			t.Fatal(err)
		}
		vs, err := db.FindVersions(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 2 || vs[0].Number != 1 || vs[1].Number != 2 || vs[1].Terms.Parties[0].TimeZone != "Europe/Paris" {
			t.Fatalf("versions = %+v", vs)
		}
		v, err := db.FindVersionByFingerprint(ctx, strings.ToUpper(vs[0].Fingerprint))
		if err != nil {
			t.Fatal(err)
		}
		if v.Number != 1 || v.CanonicalText != vs[0].CanonicalText {
			t.Fatalf("by fingerprint = version %d", v.Number)
		}
		if _, err := db.FindVersionByFingerprint(ctx, strings.Repeat("0", 64)); !errors.Is(err, agreements.ErrNotFound) {
			t.Fatalf("unknown fingerprint = %v, want ErrNotFound", err)
		}
	})
}

// TestDB_Transitions walks every status through every status-changing
// call: the legal moves succeed and the rest are ErrConflict.
func TestDB_Transitions(t *testing.T) {
	ctx := context.Background()
	type move func(db *agreements.DB, a *agreements.Agreement) (*agreements.Agreement, error)
	// command is a command as the operator gives it for Alice.
	command := func(c string) move {
		return func(db *agreements.DB, a *agreements.Agreement) (*agreements.Agreement, error) {
			if _, err := db.Command(ctx, a.ID, "alice@example.test", agreements.Intent{Command: c}); err != nil {
				return nil, err
			}
			return db.FindAgreementByID(ctx, a.ID)
		}
	}
	moves := map[string]move{
		"pause":  command(agreements.CommandPause),
		"resume": command(agreements.CommandResume),
		"end":    command(agreements.CommandStop),
		"propose": func(db *agreements.DB, a *agreements.Agreement) (*agreements.Agreement, error) {
			return db.ProposeAgreement(ctx, a.ID)
		},
	}
	// setup brings a new agreement to a status.
	setup := map[agreements.Status]func(db *agreements.DB) *agreements.Agreement{
		agreements.StatusDraft: func(db *agreements.DB) *agreements.Agreement {
			a, err := db.CreateDraft(ctx, testTerms())
			if err != nil {
				t.Fatal(err)
			}
			return a
		},
		agreements.StatusPending: func(db *agreements.DB) *agreements.Agreement { return mustCreate(t, db) },
		agreements.StatusActive: func(db *agreements.DB) *agreements.Agreement {
			a := mustCreate(t, db)
			for _, p := range a.Terms.Parties {
				var err error
				if a, err = confirm(db, a, 1, p.ID, "<m@x>"); err != nil {
					t.Fatal(err)
				}
			}
			return a
		},
	}
	setup[agreements.StatusPaused] = func(db *agreements.DB) *agreements.Agreement {
		return mustCommand(t, db, setup[agreements.StatusActive](db), "alice@example.test", agreements.CommandPause) // Alice's to resume
	}
	setup[agreements.StatusEnded] = func(db *agreements.DB) *agreements.Agreement {
		return mustCommand(t, db, mustCreate(t, db), "alice@example.test", agreements.CommandStop)
	}
	setup[agreements.StatusExpired] = func(db *agreements.DB) *agreements.Agreement {
		a := mustCreate(t, db)
		later := Now.Add(db.ConfirmFor)
		db.Now = func() time.Time { return later }
		if _, err := db.RunSchedule(ctx); err != nil {
			t.Fatal(err)
		}
		a, err := db.FindAgreementByID(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	setup[agreements.StatusDeclined] = func(db *agreements.DB) *agreements.Agreement {
		a := mustCreate(t, db)
		a, err := db.DeclineVersion(ctx, a.ID, 1, a.Terms.Parties[1].ID, "<n@x>")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	legal := map[agreements.Status]map[string]agreements.Status{
		agreements.StatusDraft:    {"end": agreements.StatusEnded, "propose": agreements.StatusPending},
		agreements.StatusPending:  {"end": agreements.StatusEnded},
		agreements.StatusActive:   {"pause": agreements.StatusPaused, "end": agreements.StatusEnded},
		agreements.StatusPaused:   {"resume": agreements.StatusActive, "end": agreements.StatusEnded},
		agreements.StatusEnded:    {"resume": agreements.StatusActive}, // within 7 days
		agreements.StatusExpired:  {},
		agreements.StatusDeclined: {},
	}
	for from, make := range setup {
		for name, m := range moves {
			t.Run(string(from)+"/"+name, func(t *testing.T) {
				db := MustOpenDB(t)
				a := make(db)
				if a.Status != from {
					t.Fatalf("setup Status = %v, want %v", a.Status, from)
				}
				got, err := m(db, a)
				want, ok := legal[from][name]
				switch {
				case ok && err != nil:
					t.Fatalf("%s from %s = %v, want %s", name, from, err, want)
				case ok && got.Status != want:
					t.Fatalf("Status = %v, want %v", got.Status, want)
				case !ok && !errors.Is(err, agreements.ErrConflict):
					t.Fatalf("%s from %s = %v, want ErrConflict", name, from, err)
				}
				if err := db.VerifyEvents(ctx, a.ID); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestDB_RecordComment(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := mustCreate(t, db)
	if err := db.RecordComment(ctx, a.ID, 1, a.Terms.Parties[1].ID, "I agree, except point 2", "<c@x>"); err != nil {
		t.Fatal(err)
	}
	es, err := db.FindEvents(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := es[len(es)-1]
	if last.Type != agreements.EventCommented || !strings.Contains(string(last.Data), "except point 2") {
		t.Fatalf("last event = %s %s", last.Type, last.Data)
	}
	if err := db.RecordComment(ctx, a.ID, 1, 9999, "hi", "<c2@x>"); !errors.Is(err, agreements.ErrInvalid) {
		t.Fatalf("comment by stranger = %v, want ErrInvalid", err)
	}
}
