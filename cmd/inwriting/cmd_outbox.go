package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

type outboxOptions struct {
	failed bool
}

var outboxCommand = &command{
	name:    "outbox",
	summary: "Show mail waiting to be sent, failed, or sent in the last day; retry or show one.",
	usage:   "[retry ID | show ID]",
	nargs:   -1,
	help: `
  inwriting outbox             pending and failed mail, and mail sent in the last day
  inwriting outbox --failed    failed mail only
  inwriting outbox retry ID    send failed mail ID again (after fixing the cause)
  inwriting outbox show ID     the whole message as sent (or as it will be sent)

A temporary failure (4xx, network) is retried with growing delays for
smtp.retry_for (default 72h); a permanent one (5xx) fails at once and keeps
the server's reply. Mail cancelled because its recipient unsubscribed is not
listed; "outbox show ID" still shows it.`,
	flags: func(fs *flag.FlagSet, m *Main) {
		fs.BoolVar(&m.outboxOpts.failed, "failed", false, "list failed mail only")
	},
	run: runOutbox,
}

func runOutbox(ctx context.Context, m *Main) error {
	switch {
	case len(m.args) == 0:
		return m.listOutbox(ctx)
	case len(m.args) == 2 && (m.args[0] == "retry" || m.args[0] == "show"):
		id, err := parseID(m.args[1])
		if err != nil {
			return err
		}
		if m.args[0] == "retry" {
			return m.retryOutbox(ctx, id)
		}
		return m.showOutbox(ctx, id)
	}
	return usagef("outbox takes no arguments, or retry ID, or show ID")
}

func (m *Main) listOutbox(ctx context.Context) error {
	db, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	var ms []*agreements.OutboxMail
	statuses := []agreements.MailStatus{agreements.MailPending, agreements.MailFailed, agreements.MailSent}
	if m.outboxOpts.failed {
		statuses = statuses[1:2]
	}
	for _, st := range statuses {
		f := agreements.OutboxFilter{Status: st}
		if st == agreements.MailSent {
			f.SentSince = m.Now().Add(-24 * time.Hour)
		}
		got, err := db.FindOutbox(ctx, f)
		if err != nil {
			return err
		}
		ms = append(ms, got...)
	}
	if len(ms) == 0 {
		fmt.Fprintln(m.Stdout, "The outbox is empty.")
		return nil
	}
	w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tSTATUS\tKIND\tAGREEMENT\tTO\tATTEMPTS\tWHEN\tLAST ERROR")
	for _, o := range ms {
		when := "next " + o.NextAttemptAt.Format("2006-01-02 15:04")
		if o.Status == agreements.MailSent {
			when = "sent " + o.SentAt.Format("2006-01-02 15:04")
		} else if o.Status == agreements.MailFailed {
			when = "-"
		}
		agreement := "-"
		if o.AgreementID != 0 {
			agreement = fmt.Sprint(o.AgreementID)
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", o.ID, o.Status, o.Kind, agreement, o.To, o.Attempts, when, oneLineErr(o.LastError))
	}
	return w.Flush()
}

func oneLineErr(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 70 {
		return string(r[:67]) + "..."
	}
	return s
}

func (m *Main) retryOutbox(ctx context.Context, id int64) error {
	db, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	o, err := db.RetryMail(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Outbox mail %d (%s to %s) will be sent again by the running service.\n", o.ID, o.Kind, o.To)
	return nil
}

func (m *Main) showOutbox(ctx context.Context, id int64) error {
	db, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	o, err := db.FindOutboxByID(ctx, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stderr, "Outbox mail %d: %s to %s, %s, %d attempts", o.ID, o.Kind, o.To, o.Status, o.Attempts)
	if o.LastError != "" {
		fmt.Fprintf(m.Stderr, ", last error: %s", o.LastError)
	}
	fmt.Fprintln(m.Stderr)
	raw := o.Raw
	if raw == nil {
		c, err := m.composer()
		if err != nil {
			return fmt.Errorf("mail %d has not been rendered yet, and cannot be now: %w", id, err)
		}
		if raw, err = c.Compose(o, m.Now()); err != nil {
			return err
		}
		fmt.Fprintln(m.Stderr, "Not sent yet: this is how it would look now (the Date is set when it is first sent).")
	}
	_, err = m.Stdout.Write(raw)
	return err
}
