package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Resolver looks up TXT records: net.DefaultResolver, or a fake in tests.
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// checkDNS reports the domain's SPF and DMARC records and, when this
// service signs, its DKIM key's record, where DNS answers. A missing
// SPF or DMARC record is a note (mail still goes, to the spam folder more
// often); a DKIM record that does not hold the key this service signs
// with is a failure (every signature would fail).
func (m *Main) checkDNS(ctx context.Context, report func(string, error, string), note func(string, string)) {
	_, domain, ok := strings.Cut(m.Config.Service.Address, "@")
	if !ok {
		return
	}
	r := m.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lookup := func(name, prefix string) (string, error) {
		txts, err := r.LookupTXT(ctx, name)
		for _, t := range txts {
			if strings.HasPrefix(strings.ToLower(strings.TrimSpace(t)), prefix) {
				return t, nil
			}
		}
		var de *net.DNSError
		if err != nil && !(errors.As(err, &de) && de.IsNotFound) {
			return "", err
		}
		return "", nil
	}
	spf, err := lookup(domain, "v=spf1")
	if err != nil {
		note("dns", fmt.Sprintf("DNS does not answer for %s (%v): SPF, DKIM and DMARC not checked", domain, err))
		return
	}
	if spf == "" {
		note("spf", fmt.Sprintf("%s has no SPF record: receivers cannot tell which servers send for it (docs/providers.md)", domain))
	} else {
		report("spf", nil, spf)
	}
	if dmarc, err := lookup("_dmarc."+domain, "v=dmarc1"); err != nil || dmarc == "" {
		note("dmarc", fmt.Sprintf("_dmarc.%s has no DMARC record (docs/providers.md)", domain))
	} else {
		report("dmarc", nil, dmarc)
	}
	d := m.Config.DKIM
	if d.KeyFile == "" {
		return
	}
	name := d.Selector + "._domainkey." + d.Domain
	rec, err := lookup(name, "v=dkim1")
	if err == nil && rec == "" {
		err = fmt.Errorf("%s has no DKIM record: publish the public key there, or every signature fails", name)
	}
	if err == nil {
		err = m.dkimMatches(rec)
	}
	report("dkim dns", err, fmt.Sprintf("%s holds the key this service signs with", name))
}

// dkimMatches checks that DKIM record rec ("v=DKIM1; k=rsa; p=…") holds
// the public half of the configured key.
func (m *Main) dkimMatches(rec string) error {
	c, err := m.composer()
	if err != nil || c.DKIM == nil {
		return err
	}
	var p string
	for _, tag := range strings.Split(rec, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(tag), "=")
		if strings.TrimSpace(k) == "p" {
			p = strings.Join(strings.Fields(v), "")
		}
	}
	if p == "" {
		return errors.New("the DKIM record has no key (p=): it was revoked")
	}
	var want []byte
	switch pub := c.DKIM.Signer.Public().(type) {
	case ed25519.PublicKey:
		want = pub
	default:
		if want, err = x509.MarshalPKIXPublicKey(pub); err != nil {
			return err
		}
	}
	if p != base64.StdEncoding.EncodeToString(want) {
		return errors.New("the DKIM record holds another key than dkim.key_file's: every signature would fail")
	}
	return nil
}

// checkHTTP reports serve's web listener: when serve runs, what its
// /readyz says; else that the address can be listened on.
func (m *Main) checkHTTP(ctx context.Context, report func(string, error, string), note func(string, string)) {
	addr := m.Config.Service.Listen
	if addr == "" {
		note("http", "service.listen is not set: no /readyz, /metrics or one-click unsubscribe")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		res.Body.Close()
		lines := strings.Join(strings.Fields(strings.ReplaceAll(string(body), "\n", "; ")), " ")
		if res.StatusCode != http.StatusOK {
			report("http", fmt.Errorf("serve answers at %s but is not ready: %s", addr, lines), "")
			return
		}
		report("http", nil, fmt.Sprintf("serve answers at %s and is ready: %s", addr, lines))
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		report("http", fmt.Errorf("serve could not listen on %s: %w", addr, err), "")
		return
	}
	ln.Close()
	report("http", nil, fmt.Sprintf("%s is free for serve's listener", addr))
}
