package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
	"github.com/inwriting/inwriting/mailout"
)

var doctorCommand = &command{
	name:    "doctor",
	summary: "Check the configuration: the database, IMAP (login, IDLE, MOVE, folders), SMTP (TLS, AUTH, MAIL FROM, RCPT TO, plus-addressing), DKIM, SPF and DMARC in DNS, serve's web listener.",
	nargs:   0,
	run:     runDoctor,
}

func runDoctor(ctx context.Context, m *Main) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	failed := 0
	report := func(what string, err error, ok string) {
		if err != nil {
			failed++
			fmt.Fprintf(m.Stdout, "FAIL  %-10s %v\n", what, err)
			return
		}
		fmt.Fprintf(m.Stdout, "ok    %-10s %s\n", what, ok)
	}
	file := m.configPath
	if file == "" {
		file = DefaultConfigFile + " if present, else defaults"
	}
	report("config", nil, file)

	db, err := m.openDB(ctx)
	if err == nil {
		var n int
		as, ferr := db.FindAgreements(ctx, agreements.AgreementFilter{})
		n, err = len(as), ferr
		report("database", err, fmt.Sprintf("%s, %d agreements", m.Config.Database, n))
	} else {
		report("database", err, "")
	}

	_, err = m.Config.Identity()
	report("service", err, fmt.Sprintf("%s (replies to %s)", m.Config.Service.Address, plusExample(m.Config.Service.Address)))

	// IMAP
	if db != nil {
		p, err := m.poller(db)
		if err != nil {
			report("imap", err, "")
		} else {
			report("imap", m.checkIMAP(ctx, p), fmt.Sprintf("%s (%s) as %s", p.Addr, p.TLS, p.Username))
		}
	}

	// SMTP: the connection, then MAIL FROM and RCPT TO as a mail would.
	if db != nil {
		s, err := m.sender(ctx)
		var pr mailout.Probe
		if err == nil {
			pr, err = s.Check(ctx)
		}
		report("smtp", err, fmt.Sprintf("%s:%d (%s), AUTH as %q; MAIL FROM and RCPT TO %s accepted", m.Config.SMTP.Host, m.Config.SMTP.Port, m.Config.SMTP.TLS, m.Config.SMTP.Username, m.Config.Service.Address))
		switch {
		case err != nil:
		case pr.Plus != nil && m.Config.Service.PlusAddressing:
			failed++
			fmt.Fprintf(m.Stdout, "FAIL  %-10s the server refuses plus-addresses (%v): replies to %s would bounce; set service.plus_addressing = false (replies then come to %s, matched by the subject tag)\n",
				"plus", pr.Plus, plusExample(m.Config.Service.Address), m.Config.Service.Address)
		case pr.Plus != nil:
			report("plus", nil, fmt.Sprintf("the server refuses plus-addresses; replies come to %s, matched by the subject tag and thread headers", m.Config.Service.Address))
		case !m.Config.Service.PlusAddressing:
			fmt.Fprintf(m.Stdout, "note  %-10s the server takes plus-addresses; service.plus_addressing = true would make every reply carry its token in the address\n", "plus")
		default:
			report("plus", nil, fmt.Sprintf("the server takes %s", plusExample(m.Config.Service.Address)))
		}
	}

	if m.Config.DKIM.KeyFile != "" {
		_, err := m.composer()
		report("dkim", err, fmt.Sprintf("signing as %s._domainkey.%s", m.Config.DKIM.Selector, m.Config.DKIM.Domain))
	} else {
		report("dkim", nil, "not configured: mail is not signed here (your provider may sign it)")
	}
	note := func(what, text string) { fmt.Fprintf(m.Stdout, "note  %-10s %s\n", what, text) }
	m.checkDNS(ctx, report, note)
	m.checkHTTP(ctx, report, note)
	switch {
	case m.Config.Auth.AuthServID == "" && m.Config.Auth.Require:
		failed++
		fmt.Fprintf(m.Stdout, "FAIL  %-10s auth.require is on but no auth.authserv_id is set: no Authentication-Results are trusted, so every confirmation would be refused\n", "auth")
	case m.Config.Auth.AuthServID == "":
		report("auth", nil, "no authserv_id: Authentication-Results are not read; confirmations record \"none\"")
	default:
		report("auth", nil, fmt.Sprintf("trusting Authentication-Results from %s; required: %v", m.Config.Auth.AuthServID, m.Config.Auth.Require))
		if m.Config.Auth.Require {
			fmt.Fprintf(m.Stdout, "note  %-10s auth.require refuses a confirmation whose mail carries no passing DKIM or DMARC from %s; some servers add none to mail their own users submit (maddy), or name their host (mox): send yourself a reply and check it with read-reply\n", "auth", m.Config.Auth.AuthServID)
		}
	}
	if failed > 0 {
		return fmt.Errorf("doctor: %d check(s) failed", failed)
	}
	fmt.Fprintln(m.Stdout, "All checks passed.")
	return nil
}

func (m *Main) checkIMAP(ctx context.Context, p *mailin.Poller) error {
	c, err := p.Dial(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	caps := c.Caps()
	if _, err := c.Select(p.Mailbox, &imap.SelectOptions{ReadOnly: true}).Wait(); err != nil {
		return fmt.Errorf("select %s: %w", p.Mailbox, err)
	}
	for _, f := range mailin.Folders {
		if _, err := c.Status(string(f), &imap.StatusOptions{NumMessages: true}).Wait(); err != nil {
			if err := c.Create(string(f), nil).Wait(); err != nil {
				return fmt.Errorf("folder %s does not exist and cannot be created: %w", f, err)
			}
			fmt.Fprintf(m.Stdout, "      created the folder %s\n", f)
		}
	}
	c.Logout().Wait()
	fmt.Fprintf(m.Stdout, "      %s\n", imapUse(caps, p.PollInterval))
	return nil
}

// imapUse says what the poller will do with a server of capabilities
// caps: the same choices it makes (mailin/poller.go).
func imapUse(caps imap.CapSet, poll time.Duration) string {
	var parts []string
	if caps.Has(imap.CapIdle) {
		parts = append(parts, "IDLE: new mail is read as it arrives")
	} else {
		parts = append(parts, fmt.Sprintf("no IDLE: the mailbox is read every %s", poll))
	}
	switch {
	case caps.Has(imap.CapMove):
		parts = append(parts, "MOVE: handled mail is moved to its folder")
	case caps.Has(imap.CapUIDPlus):
		parts = append(parts, "no MOVE: handled mail is copied to its folder, then expunged by UID (UIDPLUS)")
	default:
		parts = append(parts, "no MOVE or UIDPLUS: handled mail is copied to its folder and flagged \\Deleted, never expunged")
	}
	return strings.Join(parts, "; ")
}

func plusExample(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return "?"
	}
	return local + "+TOKEN@" + domain
}
