package main_test

import (
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	t.Run("FromFile", func(t *testing.T) {
		e := newEnv(t)
		// With no way to send mail, new does not promise confirmations.
		out := e.mustRun("new", "--from-file", exampleFile)
		if !strings.Contains(out, "Created agreement 1") || !strings.Contains(out, "wait in the outbox") || strings.Contains(out, "Waiting for confirmation") {
			t.Fatalf("new without a way to send = %q", out)
		}
		e.vars["INWRITING_SERVICE_ADDRESS"], e.vars["INWRITING_SMTP_HOST"] = "service@example.test", "smtp.example.test"
		out = e.mustRun("new", "--from-file", exampleFile)
		if !strings.Contains(out, "Created agreement 2") || !strings.Contains(out, "Waiting for confirmation by alice@example.test and bob@example.test") {
			t.Fatalf("new = %q", out)
		}
		list := e.mustRun("list")
		if !strings.Contains(list, "Evenings and phone calls") || !strings.Contains(list, "pending") {
			t.Fatalf("list = %q", list)
		}
	})

	t.Run("FromStdin", func(t *testing.T) {
		e := newEnv(t)
		text := "Title: Chores\nFrom: Ann <ann@example.test>\nTo: Ben <ben@example.test>\nTime zone: Europe/Paris\nWhat went wrong: dishes\nI will: cook\nYou will: wash\nCheck in: daily at 20:00\n"
		if r := e.run(text, "new", "--from-file", "-"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if show := e.mustRun("show", "1"); !strings.Contains(show, "every day at 20:00") || !strings.Contains(show, "Ben <ben@example.test> (Europe/Paris) will:\n  1. wash") {
			t.Fatalf("show = %s", show)
		}
	})

	t.Run("FromFlags", func(t *testing.T) {
		e := newEnv(t)
		e.mustRun("new", "--title", "Calls", "--party", "Alice Example <alice@example.test>", "--party", "Bob <bob@example.test>",
			"--tz", "Europe/Lisbon", "--tz", "America/Chicago", "--what-went-wrong", "I did not call.",
			"--will", "I: Call when late.", "--will", "bob: Ask when worried.", "--check-in", "every Sunday at 7pm",
			"--reminder", "every month on the 1st at 09:00")
		show := e.mustRun("show", "1")
		for _, want := range []string{"Alice Example <alice@example.test> (Europe/Lisbon) will:\n  1. Call when late.", "Bob <bob@example.test> (America/Chicago) will:\n  1. Ask when worried.", "every Sunday at 19:00", "Reminders: every month on day 1 at 09:00"} {
			if !strings.Contains(show, want) {
				t.Fatalf("show lacks %q:\n%s", want, show)
			}
		}
	})

	t.Run("FromFlags/ErrInvalid", func(t *testing.T) {
		e := newEnv(t)
		r := e.run("", "new", "--title", "Calls", "--party", "Alice <alice@example.test>", "--party", "Bob <bob@example.test>",
			"--tz", "Europe/Lisbon", "--what-went-wrong", "x", "--will", "I: a", "--will", "Carol: b", "--check-in", "every Sunday at 19:00")
		if r.code != 2 || !strings.Contains(r.stderr, `"Carol" is not one of the parties`) {
			t.Fatalf("exit %d stderr %q", r.code, r.stderr)
		}
		r = e.run("", "new", "--title", "Calls", "--party", "Alice <alice@example.test>", "--party", "Bob <bob@example.test>",
			"--tz", "Europe/Lisbon", "--what-went-wrong", "x", "--will", "I: a", "--check-in", "every Sunday at 19:00")
		if r.code != 1 || !strings.Contains(r.stderr, "bob@example.test has no commitments") {
			t.Fatalf("exit %d stderr %q", r.code, r.stderr)
		}
		for _, tt := range []struct {
			parties []string
			want    string
		}{
			{[]string{"Alice <alice@example.test>", "Bob <ALICE@example.test>"}, "Alice and Bob have the same address, alice@example.test"},
			{[]string{"Alice <alice@example.test>", "Bob <bob@example.test>", "Cy <cy@example.test>"}, "between two people, not 3"},
		} {
			args := []string{"new", "--title", "Calls", "--what-went-wrong", "x", "--will", "I: a", "--check-in", "every Sunday at 19:00"}
			for _, p := range tt.parties {
				args = append(args, "--party", p)
			}
			if r := e.run("", args...); r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("%q: exit %d stderr %q, want 2 and %q", tt.parties, r.code, r.stderr, tt.want)
			}
		}
	})

	t.Run("Prompts", func(t *testing.T) {
		e := newEnv(t)
		answers := strings.Join([]string{
			"Evenings",
			"alice at home", // not an address: asked again
			"Alice <alice@example.test>",
			"Mars/Base", // not a zone: asked again
			"Europe/Lisbon",
			"Bob <bob@example.test>",
			"America/Chicago",
			"I did not call.", "",
			"Call when late.", "Text when leaving.", "",
			"Ask when worried.", "",
			"every Funday", // not a schedule: asked again
			"every Sunday at 19:00",
			"maybe", // not yes or no: asked again
			"yes",
		}, "\n") + "\n"
		r := e.runTerminal(answers, "new")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		for _, want := range []string{"please try again", "What will Bob do?", "This is what will be sent", "Bob <bob@example.test> (America/Chicago) will:\n  1. Ask when worried.", "Send it to alice@example.test and bob@example.test to confirm?"} {
			if !strings.Contains(r.stderr, want) {
				t.Fatalf("prompts lack %q:\n%s", want, r.stderr)
			}
		}
		show := e.mustRun("show", "1")
		if !strings.Contains(show, "  2. Text when leaving.") || !strings.Contains(show, "America/Chicago") {
			t.Fatalf("show = %s", show)
		}
	})

	t.Run("Prompts/No", func(t *testing.T) {
		e := newEnv(t)
		answers := "Evenings\nAlice <alice@example.test>\nUTC\nBob <bob@example.test>\nUTC\nI did not call.\n\nCall.\n\nAsk.\n\nevery Sunday at 19:00\nno\n"
		if r := e.runTerminal(answers, "new"); r.code != 1 || !strings.Contains(r.stderr, "nothing was saved") {
			t.Fatalf("exit %d stderr %q", r.code, r.stderr)
		}
		if out := e.mustRun("list"); !strings.Contains(out, "No agreements.") {
			t.Fatalf("list = %q", out)
		}
	})

	t.Run("Prompts/EOF", func(t *testing.T) {
		e := newEnv(t)
		r := e.runTerminal("Evenings\n", "new")
		if r.code != 1 || !strings.Contains(r.stderr, "nothing was saved") {
			t.Fatalf("exit %d stderr %q", r.code, r.stderr)
		}
		if out := e.mustRun("list"); !strings.Contains(out, "No agreements.") {
			t.Fatalf("list = %q", out)
		}
	})

	t.Run("MalformedFile", func(t *testing.T) {
		e := newEnv(t)
		for _, tt := range []struct{ text, want string }{
			{"Hello Bob,\nI think we should talk.\n", `line 1: "Hello Bob,": expected a heading`},
			{"Title: T\nFrom: Alice <alice@example.test>\nTo: Bob <bob@example.test>\nTime zone: UTC\nWhat went wrong: x\nI will: a\nBob will: b\nCheck in: every Sunday\n", "line 8:"},
			{"Title: T\n", "end of text: the agreement is missing"},
		} {
			p := e.write("bad.txt", tt.text)
			r := e.run("", "new", "--from-file", p)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, "bad.txt") {
				t.Fatalf("exit %d stderr %q, want 1 and %q", r.code, r.stderr, tt.want)
			}
		}
		if r := e.run("", "new", "--from-file", "/nonexistent/file.txt"); r.code != 1 || !strings.Contains(r.stderr, "no such file") {
			t.Fatalf("missing file: exit %d stderr %q", r.code, r.stderr)
		}
	})
}
