package agreements_test

import (
	"errors"
	"fmt"
	"net/mail"
	"os"
	"strings"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

func TestParseProposal(t *testing.T) {
	t.Run("Example", func(t *testing.T) {
		text, err := os.ReadFile("../deploy/example-agreement.txt")
		if err != nil {
			t.Fatal(err)
		}
		terms, err := agreements.ParseProposal(agreements.ProposalInput{Text: string(text)})
		if err != nil {
			t.Fatal(err)
		}
		if terms.Title != "Evenings and phone calls" {
			t.Fatalf("Title = %q", terms.Title)
		}
		if len(terms.Parties) != 2 {
			t.Fatalf("parties = %d, want 2", len(terms.Parties))
		}
		alice, bob := terms.Parties[0], terms.Parties[1]
		if alice.Address != "alice@example.test" || alice.Name != "Alice Example" || alice.TimeZone != "Europe/Lisbon" {
			t.Fatalf("alice = %+v", alice)
		}
		if bob.Address != "bob@example.test" || bob.TimeZone != "America/Chicago" {
			t.Fatalf("bob = %+v", bob)
		}
		if len(alice.Commitments) != 2 || !strings.HasPrefix(alice.Commitments[0], "Call or text before 18:00") {
			t.Fatalf("alice commitments = %q", alice.Commitments)
		}
		if len(bob.Commitments) != 2 || !strings.HasPrefix(bob.Commitments[1], "Say so the same day") {
			t.Fatalf("bob commitments = %q", bob.Commitments)
		}
		if !strings.Contains(terms.WhatWentWrong, "felt lied to.") || strings.HasSuffix(terms.WhatWentWrong, "\n") {
			t.Fatalf("WhatWentWrong = %q", terms.WhatWentWrong)
		}
		if got := terms.CheckIn.String(); got != "every Sunday at 19:00" {
			t.Fatalf("CheckIn = %q", got)
		}
		if terms.Reminder != nil {
			t.Fatalf("Reminder = %v, want none", terms.Reminder)
		}
	})

	t.Run("Email", func(t *testing.T) {
		// By email the headers give the title and parties; "You will:"
		// is the other party.
		body := "what went wrong: I forgot the school run.\n\nI will:\n- Set an alarm\n  on both phones.\n- Text when I leave.\n\nYou will:\n* Remind me on Sunday evening.\n\ncheck-in: daily at 8pm\nReminders: every month on the 1st at 09:00\n"
		terms, err := agreements.ParseProposal(agreements.ProposalInput{
			Text:            body,
			Title:           "School runs",
			From:            &mail.Address{Name: "Sam", Address: "sam@example.test"},
			Others:          []*mail.Address{{Address: "kim@example.test"}},
			DefaultTimeZone: "Europe/Berlin",
		})
		if err != nil {
			t.Fatal(err)
		}
		if terms.Title != "School runs" || terms.WhatWentWrong != "I forgot the school run." {
			t.Fatalf("terms = %+v", terms)
		}
		if got := terms.Parties[0].Commitments; len(got) != 2 || got[0] != "Set an alarm\non both phones." {
			t.Fatalf("sam commitments = %q", got)
		}
		if got := terms.Parties[1].Commitments; len(got) != 1 || got[0] != "Remind me on Sunday evening." {
			t.Fatalf("kim commitments = %q", got)
		}
		if terms.Parties[1].TimeZone != "Europe/Berlin" {
			t.Fatalf("default time zone = %q", terms.Parties[1].TimeZone)
		}
		if terms.Reminder == nil || terms.Reminder.DayOfMonth != 1 || terms.CheckIn.Hour != 20 || terms.CheckIn.Weekdays != nil {
			t.Fatalf("schedules = %v / %v", terms.CheckIn, terms.Reminder)
		}
	})

}

func TestParseProposal_ErrInvalid(t *testing.T) {
	const good = "Title: T\nFrom: Alice <alice@example.test>\nTo: Bob <bob@example.test>\nTime zone: Europe/Lisbon\nWhat went wrong:\nIt went wrong.\nI will:\n1. a\nBob will:\n1. b\nCheck in: every Sunday at 19:00\n"
	for _, tt := range []struct {
		name string
		text string
		want string // a part of the message
	}{
		{"Stray", "Hello Bob,\n" + good, `line 1: "Hello Bob,": expected a heading`},
		{"UnknownHeading", "Colour: blue\n" + good, "line 1"},
		{"BadFrom", strings.Replace(good, "Alice <alice@example.test>", "Alice at home", 1), "line 2: \"Alice at home\" is not an address"},
		{"BadSchedule", strings.Replace(good, "every Sunday at 19:00", "every Funday at 19:00", 1), "line 11:"},
		{"BadZone", strings.Replace(good, "Europe/Lisbon", "Lisbon", 1), "line 4:"},
		{"UnknownParty", strings.Replace(good, "Bob will:", "Carol will:", 1), `line 9: "Carol" is not one of the parties (Alice, Bob)`},
		{"EmptyList", strings.Replace(good, "Bob will:\n1. b\n", "Bob will:\n", 1), `line 9`},
		{"NoCommitmentsForBob", strings.Replace(good, "Bob will:\n1. b\n", "", 1), `"Bob will:"`},
		{"Missing", "Title: T\n", "end of text: the agreement is missing who proposes it"},
		{"MissingSchedule", strings.Replace(good, "Check in: every Sunday at 19:00\n", "", 1), "how often to check in"},
		{"NoTimeZone", strings.Replace(good, "Time zone: Europe/Lisbon\n", "", 1), "time zone of Alice is missing"},
		{"SameAddress", strings.Replace(good, "bob@example.test", "ALICE@example.test", 1), "Alice and Bob have the same address, alice@example.test"},
		{"ThreeParties", strings.Replace(good, "To: Bob <bob@example.test>", "To: Bob <bob@example.test>, Cy <cy@example.test>", 1), "between two people, not 3"},
		{"TwoCheckIns", good + "Check in: every Monday at 08:00\n", `line 12: a second "Check in:" line (the first is line 11)`},
		{"TwoReminders", good + "Reminders: every 2 weeks on Monday at 08:00\nReminders: none\n", `line 13: a second "Reminders:" line`},
		{"TwoTitles", "Title: A\n" + good, "line 2: a second title"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := agreements.ParseProposal(agreements.ProposalInput{Text: tt.text})
			if !errors.Is(err, agreements.ErrInvalid) {
				t.Fatalf("ParseProposal = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := agreements.ParseProposal(agreements.ProposalInput{Text: good}); err != nil {
		t.Fatalf("the good text fails: %v", err)
	}
}

// TestParseAmendment: the parts given replace those parts; "I" is the
// writer and "you" the other; the rest stays.
func TestParseAmendment(t *testing.T) {
	current := testTerms()
	for _, tt := range []struct {
		name   string
		writer int
		text   string
		check  func(agreements.Terms) string
	}{
		{"BobsOwn", 1, "I will:\n- Ask directly.\n- Say so the same day.", func(got agreements.Terms) string {
			if len(got.Parties[1].Commitments) != 2 || got.Parties[0].Commitments[0] != current.Parties[0].Commitments[0] {
				return "Bob's list was not replaced, or Alice's changed"
			}
			return ""
		}},
		{"YouFromBob", 1, "You will:\n1. Call before 17:00.", func(got agreements.Terms) string {
			if len(got.Parties[0].Commitments) != 1 || got.Parties[0].Commitments[0] != "Call before 17:00." {
				return "\"You will\" from Bob is not Alice's list"
			}
			return ""
		}},
		{"ByName", 0, "bob will:\n1. Listen first.", func(got agreements.Terms) string {
			if got.Parties[1].Commitments[0] != "Listen first." {
				return "the list under Bob's name is not his"
			}
			return ""
		}},
		{"ScheduleAndTitle", 0, "Check-ins: every Saturday at 10:00\nTitle: Weekends too\nReminders: none", func(got agreements.Terms) string {
			if got.CheckIn.String() != "every Saturday at 10:00" || got.Title != "Weekends too" || got.Reminder != nil {
				return "schedule or title not replaced: " + got.CheckIn.String() + ", " + got.Title
			}
			return ""
		}},
		{"WhatWentWrong", 0, "What happened:\nI forgot the school play.\n\nAnd I did not call.", func(got agreements.Terms) string {
			if got.WhatWentWrong != "I forgot the school play.\n\nAnd I did not call." {
				return "what went wrong = " + got.WhatWentWrong
			}
			return ""
		}},
		{"TimeZone", 1, "Time zones: Bob Europe/Berlin", func(got agreements.Terms) string {
			if got.Parties[1].TimeZone != "Europe/Berlin" || got.Parties[0].TimeZone != "Europe/Lisbon" {
				return "time zones: " + got.Parties[0].TimeZone + ", " + got.Parties[1].TimeZone
			}
			return ""
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := agreements.ParseAmendment(current, tt.writer, tt.text)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tt.check(got); msg != "" {
				t.Error(msg)
			}
			if current.Parties[1].Commitments[0] != "Ask directly when worried." {
				t.Fatal("ParseAmendment changed the current terms")
			}
		})
	}
	for _, tt := range []struct{ name, text, want string }{
		{"Empty", "", "gives no part"},
		{"OnlyWords", "Let us talk about it on Sunday.", "line 1"},
		{"NewParty", "From: Carol <carol@example.test>\nI will:\n- x", "same two people"},
		{"EmptyList", "Bob will:\n", "has no list"},
		{"Stranger", "Carol will:\n- x", "not one of the parties"},
	} {
		t.Run("Error/"+tt.name, func(t *testing.T) {
			_, err := agreements.ParseAmendment(current, 0, tt.text)
			if !errors.Is(err, agreements.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want EINVALID naming %q", err, tt.want)
			}
		})
	}
}

// TestParseProposal_Forms: the headings people write, in any order, read
// as the same agreement; what is missing is named.
func TestParseProposal_Forms(t *testing.T) {
	in := func(text string) agreements.ProposalInput {
		return agreements.ProposalInput{Text: text, Title: "Evenings", DefaultTimeZone: "Europe/Lisbon",
			From: &mail.Address{Name: "Alice Example", Address: "alice@example.test"}, Others: []*mail.Address{{Name: "Bob Example", Address: "bob@example.test"}}}
	}
	want := "wrong=We argued.|alice=Call before 18:00.;Text when late.|bob=Ask first.|check=every Sunday at 19:00"
	for _, tt := range []struct{ name, text string }{
		{"Plain", "What went wrong:\nWe argued.\n\nI will:\n1. Call before 18:00.\n2. Text when late.\n\nBob will:\n1. Ask first.\n\nCheck in: every Sunday at 19:00"},
		{"AnyOrder", "Check-ins: every Sunday at 19:00\nBob will:\n- Ask first.\nWhat happened: We argued.\nI will:\n- Call before 18:00.\n- Text when late."},
		{"Contractions", "The problem:\nWe argued.\nI'll:\n* Call before 18:00.\n* Text when late.\nYou'll:\n* Ask first.\ncheck in: every sunday at 19:00"},
		{"Promises", "What went wrong: We argued.\nI promise to:\n(1) Call before 18:00.\n(2) Text when late.\nbob@example.test commits to:\n• Ask first.\nCheckin: every Sunday at 7pm"},
		{"ByFullNameAndLocalPart", "WHAT WENT WRONG:\nWe argued.\nAlice Example will: Call before 18:00.\nalice will:\n- Text when late.\nbob will:\n- Ask first.\nCheck In: every Sunday at 19:00"},
		{"CRLFAndBOM", "\uFEFFWhat went wrong:\r\nWe argued.\r\nI will:\r\n1) Call before 18:00.\r\n2) Text when late.\r\nYou will:\r\n1) Ask first.\r\nCheck in: every Sunday at 19:00\r\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			terms, err := agreements.ParseProposal(in(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("wrong=%s|alice=%s|bob=%s|check=%s", terms.WhatWentWrong, strings.Join(terms.Parties[0].Commitments, ";"),
				strings.Join(terms.Parties[1].Commitments, ";"), terms.CheckIn)
			if got != want {
				t.Fatalf("read as\n%s\nwant\n%s", got, want)
			}
		})
	}
	for _, tt := range []struct{ name, text, want string }{
		{"NoWrong", "I will:\n- a\nBob will:\n- b\nCheck in: every Sunday at 19:00", "what went wrong"},
		{"NoLists", "What went wrong: x\nCheck in: every Sunday at 19:00", "what each person will do"},
		{"NoBobList", "What went wrong: x\nI will:\n- a\nCheck in: every Sunday at 19:00", `expected "Bob will:"`},
		{"NoSchedule", "What went wrong: x\nI will:\n- a\nBob will:\n- b", "how often to check in"},
		{"Everything", "", "what went wrong"},
	} {
		t.Run("Missing/"+tt.name, func(t *testing.T) {
			if _, err := agreements.ParseProposal(in(tt.text)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to name %q", err, tt.want)
			}
		})
	}
}
