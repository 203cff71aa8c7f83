package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

var showCommand = &command{
	name:    "show",
	summary: "Show an agreement: its terms, versions, confirmations and event log.",
	usage:   "ID",
	nargs:   1,
	run: func(ctx context.Context, m *Main) error {
		_, r, err := m.recordArg(ctx)
		if err != nil {
			return err
		}
		writeRecord(m.Stdout, r)
		return nil
	},
}

// recordArg loads the record of the agreement whose ID is the command's
// argument.
func (m *Main) recordArg(ctx context.Context) (*agreements.DB, *agreements.Record, error) {
	id, err := parseID(m.args[0])
	if err != nil {
		return nil, nil, err
	}
	db, err := m.openDB(ctx)
	if err != nil {
		return nil, nil, err
	}
	r, err := db.FindRecord(ctx, id)
	return db, r, err
}

func writeRecord(w io.Writer, r *agreements.Record) {
	a := r.Agreement
	t := a.Terms
	fmt.Fprintf(w, "Agreement %d: %s\n", a.ID, t.Title)
	fmt.Fprintf(w, "Status:    %s\n", a.Status)
	fmt.Fprintf(w, "Version:   %d, fingerprint %s\n", a.Version, a.Fingerprint)
	if a.Proposed != 0 {
		fmt.Fprintf(w, "Waiting:   version %d, an amendment; version %d stays in force until everyone confirms it\n", a.Proposed, a.Version)
	}
	fmt.Fprintf(w, "Created:   %s\n", a.CreatedAt.Format(time.RFC3339))
	fmt.Fprintln(w)
	writeTerms(w, t)
	fmt.Fprintf(w, "\nVersions:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range r.Versions {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", v.Number, v.CreatedAt.Format(time.RFC3339), v.Fingerprint, versionState(r, v.Number))
	}
	tw.Flush()

	fmt.Fprintf(w, "\nConfirmations:\n")
	if len(r.Confirmations) == 0 {
		fmt.Fprintf(w, "  none yet\n")
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range r.Confirmations {
		fmt.Fprintf(tw, "  v%d\t%s\t%s\t%s\t%s\n", c.Version, r.PartyAddress(c.PartyID), c.ConfirmedAt.Format(time.RFC3339), c.MessageID, c.AuthResult)
	}
	tw.Flush()

	if len(r.Rounds) > 0 {
		fmt.Fprintf(w, "\nCheck-ins:\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, rd := range r.Rounds {
			for _, p := range rd.Parties {
				state := "no answer"
				if p.Answer != nil {
					state = checkinSummary(p.Answer)
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\n", rd.Occurrence, p.Party, state)
			}
		}
		tw.Flush()
	}

	fmt.Fprintf(w, "\nEvent log:\n")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, e := range r.Events {
		fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\n", e.Seq, e.At.Format(time.RFC3339), e.Type, summarize(e.Data))
	}
	tw.Flush()
	if r.ChainErr != nil {
		fmt.Fprintf(w, "  DOES NOT VERIFY: %v\n", r.ChainErr)
	} else {
		fmt.Fprintf(w, "  verified: %d events, head %s\n", r.EventCount, r.EventHead)
	}
}

// writeTerms prints terms t as "show" does, from "What went wrong" to the
// schedules.
func writeTerms(w io.Writer, t agreements.Terms) {
	fmt.Fprintf(w, "What went wrong:\n%s\n", indent(t.WhatWentWrong, "  "))
	for _, p := range t.Parties {
		unsub := ""
		if p.Unsubscribed() {
			unsub = ", unsubscribed: gets no mail until they reply \"resume\""
		}
		fmt.Fprintf(w, "\n%s (%s%s) will:\n", p.Display(), p.TimeZone, unsub)
		for i, c := range p.Commitments {
			fmt.Fprintf(w, "  %d. %s\n", i+1, indentAfterFirst(c, "     "))
		}
	}
	fmt.Fprintf(w, "\nCheck in:  %s, in each party's own time zone\n", t.CheckIn)
	if t.Reminder != nil {
		fmt.Fprintf(w, "Reminders: %s\n", t.Reminder)
	}
}

// versionState says whether version n is current and who confirmed it.
func versionState(r *agreements.Record, n int) string {
	cs := r.ConfirmationsOf(n)
	var who []string
	for _, c := range cs {
		who = append(who, r.PartyAddress(c.PartyID))
	}
	state := "replaced"
	if n == r.Agreement.Version {
		state = "current"
	}
	switch {
	case len(cs) == len(r.Agreement.Terms.Parties):
		return state + ", confirmed by all"
	case len(cs) > 0:
		return state + ", confirmed by " + strings.Join(who, ", ")
	}
	return state + ", not confirmed"
}

// summarize renders an event's data on one line: key=value, sorted.
func summarize(data json.RawMessage) string {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return string(data)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := fmt.Sprint(m[k])
		if s, ok := m[k].(string); ok {
			v = s
			if r := []rune(s); len(r) > 60 && strings.Contains(s, " ") {
				v = string(r[:57]) + "..."
			}
			v = strings.ReplaceAll(v, "\n", " ")
		}
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

func indentAfterFirst(s, prefix string) string {
	first, rest, ok := strings.Cut(s, "\n")
	if !ok {
		return s
	}
	return first + "\n" + indent(rest, prefix)
}

// checkinSummary renders an answer on one line: "1 kept, 2 partly; good
// about the other: …".
func checkinSummary(a *agreements.CheckInAnswer) string {
	var nums []int
	for n := range a.Statuses {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var parts []string
	for _, n := range nums {
		parts = append(parts, fmt.Sprintf("%d %s", n, a.Statuses[n]))
	}
	s := strings.Join(parts, ", ")
	if a.PositiveOther != "" {
		s += "; good about the other: " + a.PositiveOther
	}
	if s == "" {
		s = strings.ReplaceAll(a.Text, "\n", " ")
	}
	if r := []rune(s); len(r) > 100 {
		s = string(r[:97]) + "..."
	}
	return s
}
