package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

func writeJSON(w io.Writer, e *agreements.Export) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(e)
}

func writeMarkdown(w io.Writer, e *agreements.Export) error {
	a := e.Agreement
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(a.Title))
	fmt.Fprintf(&b, "Agreement %d, version %d, **%s**. Fingerprint `%s`.\n\n", a.ID, a.Version, a.Status, a.Fingerprint)
	fmt.Fprintf(&b, "## What went wrong\n\n%s\n\n", mdEscape(a.Terms.WhatWentWrong))
	for _, p := range a.Terms.Parties {
		fmt.Fprintf(&b, "## %s will\n\n", mdEscape(p.Display()))
		for i, c := range p.Commitments {
			fmt.Fprintf(&b, "%d. %s\n", i+1, strings.ReplaceAll(mdEscape(c), "\n", "\n   "))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Check-ins\n\n%s, in each party's own time zone", a.Terms.CheckIn)
	for _, p := range a.Terms.Parties {
		fmt.Fprintf(&b, "; %s: %s", mdEscape(p.FirstName()), p.TimeZone)
	}
	b.WriteString(".\n")
	if a.Terms.Reminder != nil {
		fmt.Fprintf(&b, "\nReminders of the terms: %s.\n", a.Terms.Reminder)
	}
	b.WriteString("\n## Versions\n\n| version | created | fingerprint |\n|---|---|---|\n")
	for _, v := range e.Versions {
		fmt.Fprintf(&b, "| %d | %s | `%s` |\n", v.Number, v.CreatedAt.Format(time.RFC3339), v.Fingerprint)
	}
	b.WriteString("\n## Confirmations\n\n")
	if len(e.Confirmations) == 0 {
		b.WriteString("None yet.\n")
	} else {
		b.WriteString("| version | party | confirmed | message | authentication |\n|---|---|---|---|---|\n")
		for _, c := range e.Confirmations {
			fmt.Fprintf(&b, "| %d | %s | %s | `%s` | %s |\n", c.Version, c.Party, c.ConfirmedAt.Format(time.RFC3339), c.MessageID, mdEscape(c.AuthResult))
		}
	}
	if len(e.Rounds) > 0 {
		b.WriteString("\n## Check-ins\n\n| day | party | answer |\n|---|---|---|\n")
		for _, rd := range e.Rounds {
			for _, p := range rd.Parties {
				state := "no answer"
				if p.Answer != nil {
					state = checkinSummary(p.Answer)
				}
				fmt.Fprintf(&b, "| %s | %s | %s |\n", rd.Occurrence, p.Party, strings.ReplaceAll(mdEscape(state), "|", "\\|"))
			}
		}
	}
	b.WriteString("\n## Event log\n\n| # | at | event | details |\n|---|---|---|---|\n")
	for _, ev := range e.Events {
		fmt.Fprintf(&b, "| %d | %s | %s | %s |\n", ev.Seq, ev.At.Format(time.RFC3339), ev.Type, strings.ReplaceAll(mdEscape(summarize(ev.Data)), "|", "\\|"))
	}
	fmt.Fprintf(&b, "\nThe log is a hash chain of %d events ending in `%s`; the JSON export carries it whole.\n", e.Chain.Count, e.Chain.Head)
	for _, v := range e.Versions {
		fmt.Fprintf(&b, "\n## Canonical text of version %d\n\n```text\n%s```\n", v.Number, v.CanonicalText)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdEscape keeps text from being read as Markdown markup.
func mdEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "#", `\#`, "<", "&lt;", ">", "&gt;", "[", `\[`, "]", `\]`).Replace(s)
}
