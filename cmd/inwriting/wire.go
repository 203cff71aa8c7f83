package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/mailout"
	"github.com/inwriting/inwriting/templates"
)

// composer builds the mail composer from the configuration.
func (m *Main) composer() (*mailout.Composer, error) {
	id, err := m.Config.Identity()
	if err != nil {
		return nil, err
	}
	set, err := templates.New(m.Config.TemplatesDir)
	if err != nil {
		return nil, err
	}
	c := &mailout.Composer{Identity: id, Templates: set}
	if d := m.Config.DKIM; d.KeyFile != "" {
		pem, err := os.ReadFile(d.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("dkim key: %w", err)
		}
		key, err := gomail.PrivKeyFromPEM(pem)
		if err != nil {
			return nil, fmt.Errorf("dkim key %s: %w", d.KeyFile, err)
		}
		c.DKIM = &mailout.DKIM{Domain: d.Domain, Selector: d.Selector, Signer: key}
	}
	return c, nil
}

// sender builds the outbox sender from the configuration.
func (m *Main) sender(ctx context.Context) (*mailout.Sender, error) {
	c := m.Config.SMTP
	if c.Host == "" {
		return nil, fmt.Errorf("config: %w", ErrConfigNoSMTP)
	}
	db, err := m.openDB(ctx)
	if err != nil {
		return nil, err
	}
	comp, err := m.composer()
	if err != nil {
		return nil, err
	}
	s := mailout.NewSender(db, comp)
	s.Addr = net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	s.TLS = mailout.TLSMode(strings.ToLower(c.TLS))
	s.Username, s.Password = c.Username, c.Password
	s.MaxAge = c.RetryDuration
	s.Now = m.Now
	s.Logger = m.Logger
	db.Mailer = s
	return s, nil
}
