package agreements

import (
	"regexp"
	"strings"
)

// The reply address and the subject tag are how a reply names its token;
// this file is their one home. The service's mailbox service@example.org
// gets replies at service+TOKEN@example.org (plus-addressing, RFC 5233
// subaddresses), and every subject carries "[ref TOKEN]" for the servers
// and clients that drop the +TOKEN.

// ReplyAddress returns the address of service that carries token:
// local+token@domain; service itself for no token.
func ReplyAddress(service, token string) string {
	local, domain, ok := strings.Cut(service, "@")
	if token == "" || !ok {
		return service
	}
	return local + "+" + token + "@" + domain
}

// SubjectTag returns the tag that carries token in a subject.
func SubjectTag(token string) string { return "[ref " + token + "]" }

// WithoutTags returns subject without its subject tags.
func WithoutTags(subject string) string {
	return strings.TrimSpace(refTagRE.ReplaceAllString(subject, ""))
}

// refTagRE finds a subject tag; a token is base32 of TokenBytes bytes.
var refTagRE = regexp.MustCompile(`(?i)\[ref\s+([a-z2-7]{` + itoa(tokenEncoding.EncodedLen(TokenBytes)) + `})\]`)

// FindTokens returns the candidate reply tokens of a message to service,
// most trusted first, without repeats: the subaddresses of service among
// addrs (To, Cc, Delivered-To), then the subject tags in texts (the
// subject, the body), all lowercase.
func FindTokens(service string, addrs []string, texts ...string) []string {
	local, domain, _ := strings.Cut(strings.ToLower(service), "@")
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		t = strings.ToLower(t)
		if t != "" && !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, addr := range addrs {
		l, d, ok := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
		if !ok || d != domain {
			continue
		}
		if base, tok, ok := strings.Cut(l, "+"); ok && base == local {
			add(tok)
		}
	}
	for _, s := range texts {
		for _, m := range refTagRE.FindAllStringSubmatch(s, -1) {
			add(m[1])
		}
	}
	return out
}

// IsServiceAddress reports whether addr is service or one of its reply
// addresses: mail from it is our own.
func IsServiceAddress(addr, service string) bool {
	addr, service = strings.ToLower(strings.TrimSpace(addr)), strings.ToLower(strings.TrimSpace(service))
	if service == "" || addr == "" {
		return false
	}
	if addr == service {
		return true
	}
	local, domain, ok := strings.Cut(service, "@")
	return ok && strings.HasPrefix(addr, local+"+") && strings.HasSuffix(addr, "@"+domain)
}
