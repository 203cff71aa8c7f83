package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

var doctorCommand = &command{
	name:    "doctor",
	summary: "Check the configuration: the database, IMAP (login, IDLE, MOVE, folders), SMTP (TLS, AUTH), DKIM.",
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

	// SMTP
	if db != nil {
		s, err := m.sender(ctx)
		if err == nil {
			err = s.Check(ctx)
		}
		report("smtp", err, fmt.Sprintf("%s:%d (%s), AUTH as %q", m.Config.SMTP.Host, m.Config.SMTP.Port, m.Config.SMTP.TLS, m.Config.SMTP.Username))
	}

	if m.Config.DKIM.KeyFile != "" {
		_, err := m.composer()
		report("dkim", err, fmt.Sprintf("signing as %s._domainkey.%s", m.Config.DKIM.Selector, m.Config.DKIM.Domain))
	} else {
		report("dkim", nil, "not configured: mail is not signed here (your provider may sign it)")
	}
	if m.Config.Auth.AuthServID == "" {
		report("auth", nil, "no authserv_id: Authentication-Results are not read; confirmations record \"none\"")
	} else {
		report("auth", nil, fmt.Sprintf("trusting Authentication-Results from %s; required: %v", m.Config.Auth.AuthServID, m.Config.Auth.Require))
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
	var missing []string
	for _, cp := range []imap.Cap{imap.CapIdle, imap.CapMove, imap.CapUIDPlus} {
		if !caps.Has(cp) {
			missing = append(missing, string(cp))
		}
	}
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
	if len(missing) > 0 {
		fmt.Fprintf(m.Stdout, "note  imap       the server lacks %s: the service polls every %s and copies instead of moving\n", strings.Join(missing, ", "), p.PollInterval)
	}
	return nil
}

func plusExample(addr string) string {
	local, domain, ok := strings.Cut(addr, "@")
	if !ok {
		return "?"
	}
	return local + "+TOKEN@" + domain
}
