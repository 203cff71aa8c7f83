package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
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
	if s.TLSConfig, err = tlsConfig(c.Host, c.CAFile); err != nil {
		return nil, err
	}
	s.TLS = mailout.TLSMode(strings.ToLower(c.TLS))
	s.Username, s.Password = c.Username, c.Password
	s.MaxAge = c.RetryDuration
	s.Now = m.Now
	s.Logger = m.Logger
	db.Mailer = s
	return s, nil
}

// tlsConfig verifies host with the system's roots and, when caFile is set,
// the certificates in it too.
func tlsConfig(host, caFile string) (*tls.Config, error) {
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return tc, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s has no PEM certificate", caFile)
	}
	tc.RootCAs = pool
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		// A loopback test server's certificate names localhost.
		tc.ServerName = "localhost"
	}
	return tc, nil
}

// poller builds the IMAP poller from the configuration.
func (m *Main) poller(db *agreements.DB) (*mailin.Poller, error) {
	c := m.Config.IMAP
	if c.Host == "" {
		return nil, fmt.Errorf("config: %w", ErrConfigNoIMAP)
	}
	r := &mailin.Receiver{Store: db, Address: m.Config.Service.Address, AuthServID: m.Config.Auth.AuthServID, MaxSize: m.Config.MaxMessageBytes}
	p := mailin.NewPoller(net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), r)
	p.TLS = mailin.TLSMode(c.TLS)
	var err error
	if p.TLSConfig, err = tlsConfig(c.Host, c.CAFile); err != nil {
		return nil, err
	}
	p.Username, p.Password = c.Username, c.Password
	p.Mailbox = c.Mailbox
	p.PollInterval = c.PollDuration
	p.MaxSize = m.Config.MaxMessageBytes
	p.Logger = m.Logger
	return p, nil
}
