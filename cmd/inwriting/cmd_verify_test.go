package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

// confirmAll confirms agreement 1's current version for every party, by
// their replies.
func (e *env) confirmAll() {
	e.t.Helper()
	db := e.openDB()
	defer db.Close()
	confirmByReply(e.t, db, 1)
}

func (e *env) exportJSON() (*agreements.Export, string) {
	e.t.Helper()
	out := e.mustRun("export", "1", "--format", "json")
	var x agreements.Export
	if err := json.Unmarshal([]byte(out), &x); err != nil {
		e.t.Fatal(err)
	}
	return &x, out
}

func TestShowExportVerify(t *testing.T) {
	e := newEnv(t)
	e.mustRun("new", "--from-file", exampleFile)

	t.Run("Show", func(t *testing.T) {
		out := e.mustRun("show", "1")
		for _, want := range []string{"Agreement 1: Evenings and phone calls", "Status:    pending", "current, not confirmed", "none yet", "created", "version_added", "verified: 2 events"} {
			if !strings.Contains(out, want) {
				t.Fatalf("show lacks %q:\n%s", want, out)
			}
		}
		if r := e.run("", "show", "2"); r.code != 1 || !strings.Contains(r.stderr, "there is no agreement 2") {
			t.Fatalf("show 2: exit %d %q", r.code, r.stderr)
		}
	})

	t.Run("VerifyUnconfirmed", func(t *testing.T) {
		x, _ := e.exportJSON()
		p := e.write("copy.txt", x.Versions[0].CanonicalText)
		r := e.run("", "verify", p)
		if r.code != 1 || !strings.Contains(r.stdout, "MATCH: agreement 1, version 1") || !strings.Contains(r.stdout, "not confirmed by: alice@example.test, bob@example.test") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	})

	e.confirmAll()

	t.Run("Export/Markdown", func(t *testing.T) {
		out := e.mustRun("export", "1")
		for _, want := range []string{"# Evenings and phone calls", "**active**", "| 1 | alice@example.test |", "## Canonical text of version 1", "```text\ninwriting agreement, format 1\n"} {
			if !strings.Contains(out, want) {
				t.Fatalf("markdown lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("Export/ICS", func(t *testing.T) {
		out := strings.ReplaceAll(e.mustRun("export", "1", "--format", "ics"), "\r\n ", "")
		for _, want := range []string{"BEGIN:VCALENDAR", "RRULE:FREQ=WEEKLY;BYDAY=SU", "DTSTART;TZID=Europe/Lisbon:20261129T190000", "DTSTART;TZID=America/Chicago:20261129T190000", "TZID:America/Chicago"} {
			if !strings.Contains(out, want) {
				t.Fatalf("ics lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("Export/JSON", func(t *testing.T) {
		x, _ := e.exportJSON()
		if x.Format != "inwriting-export" || x.Agreement.Status != agreements.StatusActive || len(x.Confirmations) != 2 || len(x.Events) != 5 {
			t.Fatalf("export = %+v", x)
		}
		if err := agreements.VerifyChain(x.Events, x.Chain.Head, x.Chain.Count); err != nil {
			t.Fatal(err)
		}
		if agreements.Fingerprint(x.Versions[0].CanonicalText) != x.Agreement.Fingerprint {
			t.Fatal("the exported text does not hash to the fingerprint")
		}
		p := filepath.Join(e.dir, "out.json")
		e.mustRun("export", "1", "--format", "json", "-o", p)
		if data, err := os.ReadFile(p); err != nil || !json.Valid(data) {
			t.Fatalf("-o file: %v", err)
		}
	})

	t.Run("Verify/ExactCopy", func(t *testing.T) {
		x, _ := e.exportJSON()
		p := e.write("copy.txt", x.Versions[0].CanonicalText)
		out := e.mustRun("verify", p)
		for _, want := range []string{"MATCH: agreement 1, version 1 (the current version)", "alice@example.test at 2026-11-27T10:00:00Z, message <confirm-1-1-Alice@example.test>, authentication dkim=pass", "Every party confirmed this version.", "Event log: verified (5 events)."} {
			if !strings.Contains(out, want) {
				t.Fatalf("verify lacks %q:\n%s", want, out)
			}
		}
		// From standard input too.
		if r := e.run(x.Versions[0].CanonicalText, "verify", "-"); r.code != 0 {
			t.Fatalf("verify -: exit %d", r.code)
		}
	})

	t.Run("Verify/OneByteChanged", func(t *testing.T) {
		x, _ := e.exportJSON()
		text := []byte(x.Versions[0].CanonicalText)
		i := strings.Index(string(text), "18:00")
		text[i+1] = '9' // 18:00 → 19:00
		p := e.write("changed.txt", string(text))
		r := e.run("", "verify", p)
		if r.code != 1 || !strings.Contains(r.stdout, "NO MATCH") || !strings.Contains(r.stderr, "matches no confirmed text") {
			t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "differs at line 15") || !strings.Contains(r.stdout, "19:00 when I will be home") {
			t.Fatalf("verify does not say where:\n%s", r.stdout)
		}
		// A missing final newline is a changed byte too.
		p = e.write("trimmed.txt", strings.TrimSuffix(x.Versions[0].CanonicalText, "\n"))
		if r := e.run("", "verify", p); r.code != 1 {
			t.Fatalf("copy without final newline: exit %d", r.code)
		}
	})

	t.Run("Verify/Export", func(t *testing.T) {
		_, raw := e.exportJSON()
		p := e.write("export.json", raw)
		out := e.mustRun("verify", p)
		if !strings.Contains(out, "It agrees with the record on this server") || !strings.Contains(out, "Every party confirmed") {
			t.Fatalf("verify export:\n%s", out)
		}
	})

	t.Run("Verify/TamperedExport", func(t *testing.T) {
		for name, tamper := range map[string]func(x *agreements.Export){
			"EventEdited":      func(x *agreements.Export) { x.Events[2].Data = json.RawMessage(`{"party":"mallory@evil.test"}`) },
			"EventRemoved":     func(x *agreements.Export) { x.Events = append(x.Events[:2], x.Events[3:]...) },
			"LastEventRemoved": func(x *agreements.Export) { x.Events = x.Events[:len(x.Events)-1] },
			"TextEdited":       func(x *agreements.Export) { x.Versions[0].CanonicalText += " " },
			// One byte of the structured terms, with the text left alone.
			"TermsEdited": func(x *agreements.Export) {
				x.Agreement.Terms.WhatWentWrong = strings.Replace(x.Agreement.Terms.WhatWentWrong, "s", "S", 1)
			},
			"StatusEdited": func(x *agreements.Export) { x.Agreement.Status = agreements.StatusEnded },
			"AuthEdited":   func(x *agreements.Export) { x.Confirmations[0].AuthResult = "dkim=pass dmarc=pass" },
			"ConfirmationAdded": func(x *agreements.Export) {
				x.Confirmations = append(x.Confirmations, x.Confirmations[0])
				x.Confirmations[2].MessageID = "<forged@x>"
			},
		} {
			t.Run(name, func(t *testing.T) {
				x, _ := e.exportJSON()
				tamper(x)
				data, _ := json.Marshal(x)
				p := e.write("tampered.json", string(data))
				r := e.run("", "verify", p)
				if r.code != 1 || strings.Contains(r.stdout, "It agrees with the record") {
					t.Fatalf("exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
				}
			})
		}
	})

	t.Run("Verify/Errors", func(t *testing.T) {
		if r := e.run("", "verify", "/nonexistent"); r.code != 1 {
			t.Fatalf("missing file: exit %d", r.code)
		}
		p := e.write("other.json", `{"format":"something-else"}`)
		if r := e.run("", "verify", p); r.code != 1 || !strings.Contains(r.stderr, "not an inwriting export") {
			t.Fatalf("other json: exit %d %q", r.code, r.stderr)
		}
		p = e.write("broken.json", `{"format":`)
		if r := e.run("", "verify", p); r.code != 1 || !strings.Contains(r.stderr, "not a JSON export") {
			t.Fatalf("broken json: exit %d %q", r.code, r.stderr)
		}
	})
}
