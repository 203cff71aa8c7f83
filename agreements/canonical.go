package agreements

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// CanonicalFormat is the version of the canonical text's format. A change to
// CanonicalText that changes a single byte of its output needs a new format
// number, and the old format must stay renderable: confirmed fingerprints are
// forever.
const CanonicalFormat = 1

// CanonicalText renders terms, normalized, as the plain text that the
// parties confirm and whose SHA-256 is the version's fingerprint. The text is
// UTF-8 in NFC with LF line endings and a final LF, and its fields come in a
// fixed order:
//
//	inwriting agreement, format 1
//	Agreement: 12
//	Version: 1
//	Title: Evenings and phone calls
//
//	What went wrong:
//	  each line of the text, indented by two spaces
//
//	Parties:
//	1. Alice Example <alice@example.test>, time zone Europe/Lisbon
//	2. Bob Example <bob@example.test>, time zone America/Chicago
//
//	Alice Example <alice@example.test> will:
//	1. the first commitment
//	   a second line of it, indented by three spaces
//
//	Bob Example <bob@example.test> will:
//	1. …
//
//	Check in: every Sunday at 19:00, in each party's own time zone
//	Reminders: none
//
// Blank lines inside a text are kept as empty lines (no indent). The party
// headings carry the address, so two parties with one name stay apart.
// docs/canonical-text.md describes the same format for people who verify a
// copy by hand.
func CanonicalText(agreementID int64, version int, t Terms) string {
	t.Normalize()
	var b strings.Builder
	line := func(parts ...string) {
		for _, p := range parts {
			b.WriteString(p)
		}
		b.WriteByte('\n')
	}
	line("inwriting agreement, format ", strconv.Itoa(CanonicalFormat))
	line("Agreement: ", strconv.FormatInt(agreementID, 10))
	line("Version: ", strconv.Itoa(version))
	line("Title: ", t.Title)
	line()
	line("What went wrong:")
	writeIndented(&b, t.WhatWentWrong, "  ", "  ")
	line()
	line("Parties:")
	for i, p := range t.Parties {
		line(strconv.Itoa(i+1), ". ", p.Display(), ", time zone ", p.TimeZone)
	}
	for _, p := range t.Parties {
		line()
		line(p.Display(), " will:")
		for i, c := range p.Commitments {
			n := strconv.Itoa(i+1) + ". "
			writeIndented(&b, c, n, strings.Repeat(" ", len(n)))
		}
	}
	line()
	line("Check in: ", t.CheckIn.String(), ", in each party's own time zone")
	if t.Reminder != nil {
		line("Reminders: ", t.Reminder.String(), ", in each party's own time zone")
	} else {
		line("Reminders: none")
	}
	// Added to format 1 as an optional last line: texts without the rule
	// are unchanged.
	if t.MissedAfter > 0 {
		line("Missed check-ins: after ", strconv.Itoa(t.MissedAfter), " missed in a row, everyone is told")
	}
	return b.String()
}

// writeIndented writes text with first before its first line and indent
// before each later non-empty line.
func writeIndented(b *strings.Builder, text, first, indent string) {
	for i, l := range strings.Split(text, "\n") {
		switch {
		case i == 0:
			b.WriteString(first)
		case l != "":
			b.WriteString(indent)
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
}

// Fingerprint returns the lowercase hex SHA-256 of a canonical text.
func Fingerprint(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:])
}

// ShortFingerprint returns the first 16 hex digits of a fingerprint, grouped
// in fours for reading aloud: "3f2a 91c0 7d4e 0b18".
func ShortFingerprint(fp string) string {
	if len(fp) < 16 {
		return fp
	}
	return fp[0:4] + " " + fp[4:8] + " " + fp[8:12] + " " + fp[12:16]
}
