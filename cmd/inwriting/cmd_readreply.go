package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

type readReplyOptions struct {
	text, html, json bool
	expect           string
	commitments      stringList
	others           stringList
	sent             string
	pending          bool
	roundOpen        bool
	timeZone         string
}

var readReplyCommand = &command{
	name:    "read-reply",
	summary: "Show what the service reads from a reply: its text, intent, check-in answers, auto-reply verdict.",
	usage:   "FILE",
	nargs:   1,
	help: `
FILE is a whole message (an .eml file), or - for standard input. With
--text it is a bare plain-text body, with --html a bare HTML body.

It reads the reply exactly as serve does once it knows which mail the
reply answers; the flags give that context: what the mail asked for
(--expect), the writer's commitments and the other person's name, the
mail sent (--sent, a whole .eml as the outbox keeps it: its quote is then
found and cut), whether a version waits for confirmation (--pending) and
whether a check-in round waits for the writer (--round-open).

  inwriting read-reply reply.eml
  inwriting read-reply --expect checkin --commitment "Call when late" --commitment "Tell Bob" --other Bob reply.eml
  inwriting read-reply --expect other --round-open --commitment "Call when late" reply.eml
  inwriting read-reply --sent checkin.eml --expect checkin reply.eml
  inwriting read-reply --text --json body.txt

The exit code is 1 when the message cannot be read (too large, an unknown
character set, no text).`,
	flags: func(fs *flag.FlagSet, m *Main) {
		o := &m.readReplyOpts
		fs.BoolVar(&o.text, "text", false, "FILE is a bare plain-text body, not a whole message")
		fs.BoolVar(&o.html, "html", false, "FILE is a bare HTML body, not a whole message")
		fs.BoolVar(&o.json, "json", false, "print one JSON object (text, elided, intent, checkin, auto, …)")
		fs.StringVar(&o.expect, "expect", "confirm", "what the mail answered asked for: `confirm`, checkin or other")
		fs.Var(&o.commitments, "commitment", "a commitment of the replying party, in order, for reading check-ins (repeat)")
		fs.Var(&o.others, "other", "the other person's first name, for reading kind words about them (repeat)")
		fs.StringVar(&o.sent, "sent", "", "the mail answered, as sent (a whole message): its quote is found and cut")
		fs.BoolVar(&o.pending, "pending", true, "a version waits for the writer's confirmation (with --expect confirm)")
		fs.BoolVar(&o.roundOpen, "round-open", false, "a check-in round waits for the writer's answer")
		fs.StringVar(&o.timeZone, "time-zone", "UTC", "the writer's time zone, for dates such as \"pause until 10 December\"")
	},
	run: runReadReply,
}

// readReplyResult is what read-reply prints.
type readReplyResult struct {
	From      string              `json:"from,omitempty"`
	Subject   string              `json:"subject,omitempty"`
	MessageID string              `json:"message_id,omitempty"`
	FromHTML  bool                `json:"from_html"`
	Matched   bool                `json:"matched_sent"`
	Text      string              `json:"text"`
	Elided    string              `json:"elided"`
	Intent    jsonIntent          `json:"intent"`
	CheckIn   *jsonCheckIn        `json:"checkin"`
	Auto      jsonAuto            `json:"auto"`
	Error     string              `json:"error,omitempty"`
	Attached  []mailin.Attachment `json:"attachments,omitempty"`
}

type jsonIntent struct {
	Kind    agreements.IntentKind `json:"kind"`
	Unsure  bool                  `json:"unsure"`
	Command string                `json:"command,omitempty"`
	Until   string                `json:"until,omitempty"`
	Fix     string                `json:"fix,omitempty"`
}

type jsonCheckIn struct {
	Statuses      map[string]string `json:"statuses"`
	PositiveOther string            `json:"positive_other"`
	PositiveSelf  string            `json:"positive_self"`
	WentWrong     string            `json:"went_wrong"`
}

type jsonAuto struct {
	Kind              string                   `json:"kind"` // "human" for a person
	Reason            string                   `json:"reason,omitempty"`
	Failed            []mailin.FailedRecipient `json:"failed,omitempty"`
	OriginalMessageID string                   `json:"original_message_id,omitempty"`
}

func runReadReply(ctx context.Context, m *Main) error {
	o := m.readReplyOpts
	if o.text && o.html {
		return usagef("read-reply: give --text or --html, not both")
	}
	rc := agreements.ReplyContext{Commitments: o.commitments, Others: o.others, RoundOpen: o.roundOpen, Now: m.Now()}
	switch o.expect {
	case "confirm":
		rc.Purpose, rc.Pending = agreements.PurposeConfirm, o.pending
	case "checkin":
		rc.Purpose, rc.RoundOpen = agreements.PurposeCheckIn, true
	case "other":
		rc.Purpose = agreements.PurposeCommands
	default:
		return usagef("read-reply: --expect must be confirm, checkin or other, not %q", o.expect)
	}
	loc, err := time.LoadLocation(o.timeZone)
	if err != nil {
		return usagef("read-reply: --time-zone: %v", err)
	}
	rc.Location = loc
	if o.sent != "" {
		if rc.Sent, err = os.ReadFile(o.sent); err != nil {
			return fmt.Errorf("read-reply: %w", err)
		}
	}
	path := m.args[0]
	var raw []byte
	if path == "-" {
		raw, err = io.ReadAll(io.LimitReader(m.Stdin, m.Config.MaxMessageBytes+1))
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return fmt.Errorf("read-reply: %w", err)
	}

	var res readReplyResult
	var reply agreements.ReplyMessage
	var readErr error
	switch {
	case o.text:
		reply.Body = string(raw)
	case o.html:
		reply.Body = mailin.HTMLToText(string(raw))
		res.FromHTML = true
	default:
		msg, err := mailin.ParseMessage(raw, mailin.ParseOptions{MaxSize: m.Config.MaxMessageBytes})
		readErr = err
		reply = agreements.ReplyMessage{Subject: msg.Subject, Body: msg.Body}
		res.FromHTML = msg.FromHTML
		res.Subject, res.MessageID, res.Attached = msg.Subject, msg.MessageID, msg.Attachments
		if msg.From != nil {
			res.From = msg.From.String()
		}
		res.Auto = jsonAuto{Kind: string(msg.Auto.Kind), Reason: msg.Auto.Reason, Failed: msg.Auto.Failed, OriginalMessageID: msg.Auto.OriginalMessageID}
	}
	if res.Auto.Kind == "" {
		res.Auto.Kind = "human"
	}
	r := mailin.Reader{}.ReadReply(reply, rc)
	res.Text, res.Elided, res.Matched = r.Text, r.Elided, r.Matched
	res.Intent = jsonIntent{Kind: r.Intent.Kind, Unsure: r.Intent.Unsure, Command: r.Intent.Command, Fix: r.Intent.Fix}
	if !r.Intent.Until.IsZero() {
		res.Intent.Until = r.Intent.Until.Format("2006-01-02")
	}
	if a := r.CheckIn; a != nil {
		c := &jsonCheckIn{Statuses: map[string]string{}, PositiveOther: a.PositiveOther, PositiveSelf: a.PositiveSelf, WentWrong: a.WentWrong}
		for n, st := range a.Statuses {
			c.Statuses[fmt.Sprint(n)] = st
		}
		res.CheckIn = c
	}
	if readErr != nil {
		res.Error = readErr.Error()
	}

	if o.json {
		enc := json.NewEncoder(m.Stdout)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(res); err != nil {
			return err
		}
	} else {
		printReadReply(m.Stdout, &res)
	}
	if readErr != nil && !errors.Is(readErr, mailin.ErrMalformed) {
		return fmt.Errorf("read-reply: %w", readErr)
	}
	return nil
}

func printReadReply(w io.Writer, r *readReplyResult) {
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-10s %s\n", k+":", v)
		}
	}
	field("From", r.From)
	field("Subject", r.Subject)
	field("Message-ID", r.MessageID)
	auto := r.Auto.Kind
	if r.Auto.Reason != "" {
		auto += " (" + r.Auto.Reason + ")"
	}
	field("Sender", auto)
	for _, f := range r.Auto.Failed {
		field("Bounced", fmt.Sprintf("%s: %s %s %s", f.Address, f.Action, f.Status, f.Diagnostic))
	}
	field("Original", r.Auto.OriginalMessageID)
	for _, a := range r.Attached {
		field("Attached", fmt.Sprintf("%s (%s, %d bytes)", a.Name, a.ContentType, a.Size))
	}
	if r.FromHTML {
		field("Body", "read from the HTML part")
	}
	if r.Matched {
		field("Quote", "the mail answered was found in the reply and cut")
	}
	intent := string(r.Intent.Kind)
	switch {
	case r.Intent.Unsure:
		intent += " (unsure: the service would ask)"
	case r.Intent.Command != "":
		intent += " " + r.Intent.Command
		if r.Intent.Until != "" {
			intent += " until " + r.Intent.Until
		}
		if r.Intent.Fix != "" {
			intent += ": " + r.Intent.Fix
		}
	}
	field("Intent", intent)
	if c := r.CheckIn; c != nil {
		var nums []string
		for n := range c.Statuses {
			nums = append(nums, n)
		}
		sort.Strings(nums)
		var parts []string
		for _, n := range nums {
			parts = append(parts, n+" "+string(c.Statuses[n]))
		}
		field("Statuses", strings.Join(parts, ", "))
		field("Good/them", c.PositiveOther)
		field("Good/self", c.PositiveSelf)
		field("Wrong", c.WentWrong)
	}
	field("Error", r.Error)
	fmt.Fprintf(w, "Elided:    %d bytes, %d lines\n", len(r.Elided), countLines(r.Elided))
	fmt.Fprintf(w, "Text:\n%s\n", indent(r.Text, "  "))
}

func countLines(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "\n") + 1
}
