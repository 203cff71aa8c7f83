package main_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	e := newEnv(t)
	t.Run("Message", func(t *testing.T) {
		out := e.mustRun("read-reply", "testdata/reply-agree.eml")
		for _, want := range []string{"Intent:    agree", "Sender:    human", "Text:\n  I agree.\n\n  Thanks,\n  Alice", "Elided:    "} {
			if !strings.Contains(out, want) {
				t.Fatalf("read-reply lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("JSON", func(t *testing.T) {
		out := e.mustRun("read-reply", "--json", "testdata/reply-agree.eml")
		var r struct {
			Text, Elided string
			Intent       struct{ Kind string }
			Auto         struct{ Kind string }
			CheckIn      *struct{} `json:"checkin"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatal(err)
		}
		if r.Text != "I agree.\n\nThanks,\nAlice" || r.Intent.Kind != "agree" || r.Auto.Kind != "human" || !strings.Contains(r.Elided, "wrote:") {
			t.Fatalf("json = %s", out)
		}
	})
	t.Run("TextCheckIn", func(t *testing.T) {
		r := e.run("1 kept, 2 missed\n", "read-reply", "--text", "--json", "--expect", "checkin", "--commitment", "a", "--commitment", "b", "-")
		if r.code != 0 || !strings.Contains(r.stdout, `"1": "kept"`) || !strings.Contains(r.stdout, `"2": "missed"`) {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})
	t.Run("HTML", func(t *testing.T) {
		r := e.run("<p>Je suis d'accord</p><blockquote>old</blockquote>", "read-reply", "--html", "-")
		if r.code != 0 || !strings.Contains(r.stdout, "Intent:    agree") {
			t.Fatalf("exit %d\n%s", r.code, r.stdout)
		}
	})
	t.Run("TooLarge", func(t *testing.T) {
		e.vars["INWRITING_MAX_MESSAGE_BYTES"] = "2048"
		defer delete(e.vars, "INWRITING_MAX_MESSAGE_BYTES")
		big := "Subject: x\r\n\r\n" + strings.Repeat("x", 4000)
		r := e.run(big, "read-reply", "-")
		if r.code != 1 || !strings.Contains(r.stderr, "larger than the service accepts") {
			t.Fatalf("exit %d %q", r.code, r.stderr)
		}
	})
	t.Run("Usage", func(t *testing.T) {
		for _, args := range [][]string{{"read-reply"}, {"read-reply", "--text", "--html", "x"}, {"read-reply", "--expect", "maybe", "x"}} {
			if r := e.run("", args...); r.code != 2 {
				t.Fatalf("%v: exit %d", args, r.code)
			}
		}
		if r := e.run("", "read-reply", "/nonexistent.eml"); r.code != 1 {
			t.Fatalf("missing file: exit %d", r.code)
		}
	})
}
