package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gomsgmail "github.com/emersion/go-message/mail"
	gomail "github.com/wneessen/go-mail"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/sandbox"
	"github.com/inwriting/inwriting/mailin"
)

type devOptions struct {
	imapAddr, smtpAddr string
	dir                string
	speed              float64
	noDemo             bool
}

var devCommand = &command{
	name:     "dev",
	summary:  "Try the whole service on this machine: a sandbox mail server, the service, and two demo parties.",
	usage:    "[new FILE | inbox USER | read USER N | reply USER N TEXT]",
	nargs:    -1,
	noConfig: true,
	help: `
  inwriting dev                      start the sandbox, the service and a demo agreement
  inwriting dev new FILE             start your own agreement in the running sandbox
  inwriting dev inbox alice          alice's mail, one line each
  inwriting dev read alice 1         mail 1 of alice's, as text
  inwriting dev reply alice 1 "I agree"
                                     reply as alice, the way a mail client would

The sandbox's IMAP and SMTP servers listen on 127.0.0.1 only, with mailboxes
service@, alice@ and bob@example.test (passwords printed at start), so a
real mail client can connect too. The new, inbox, read and reply commands
talk to a running sandbox over IMAP and SMTP, like any client: "new" mails
FILE (written as for "inwriting new"; deploy/example-agreement.txt is one)
to the service from its From: party, with the other in Cc, which is how
anyone starts an agreement by mail; the parties are alice@ and
bob@example.test. --speed 1000 runs
the sandbox's clock 1000 times faster, to see a week of the routine in
minutes. Ctrl-C stops everything.`,
	flags: func(fs *flag.FlagSet, m *Main) {
		o := &m.devOpts
		fs.StringVar(&o.imapAddr, "imap", "127.0.0.1:2143", "the sandbox's IMAP `address`")
		fs.StringVar(&o.smtpAddr, "smtp", "127.0.0.1:2525", "the sandbox's SMTP `address`")
		fs.StringVar(&o.dir, "dir", "", "keep the sandbox's database and mail in this `folder` (default: in memory, gone at exit)")
		fs.Float64Var(&o.speed, "speed", 1, "run the sandbox's clock this many `times` faster")
		fs.BoolVar(&o.noDemo, "no-demo", false, "start without the demo agreement between alice and bob")
	},
	run: runDev,
}

func runDev(ctx context.Context, m *Main) error {
	switch {
	case len(m.args) == 0:
		return m.devSandbox(ctx)
	case m.args[0] == "new" && len(m.args) == 2:
		return m.devNew(ctx, m.args[1])
	case m.args[0] == "inbox" && len(m.args) == 2:
		return m.devInbox(ctx, m.args[1])
	case m.args[0] == "read" && len(m.args) == 3:
		n, err := strconv.Atoi(m.args[2])
		if err != nil || n < 1 {
			return usagef("dev read: %q is not a mail number (see dev inbox)", m.args[2])
		}
		return m.devRead(ctx, m.args[1], n)
	case m.args[0] == "reply" && len(m.args) == 4:
		n, err := strconv.Atoi(m.args[2])
		if err != nil || n < 1 {
			return usagef("dev reply: %q is not a mail number (see dev inbox)", m.args[2])
		}
		return m.devReply(ctx, m.args[1], n, m.args[3])
	}
	return usagef("dev takes no arguments, or new FILE, inbox USER, read USER N, or reply USER N TEXT")
}

// devSandbox runs the sandbox mail server and the service wired to it.
func (m *Main) devSandbox(ctx context.Context) error {
	o := m.devOpts
	if o.speed <= 0 {
		return usagef("dev: --speed must be more than 0")
	}
	srv := sandbox.New()
	srv.IMAPAddr, srv.SMTPAddr = o.imapAddr, o.smtpAddr
	dataDir := o.dir
	if dataDir == "" {
		tmp, err := os.MkdirTemp("", "inwriting-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dataDir = tmp
	} else {
		srv.Dir = filepath.Join(dataDir, "mail")
	}
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Close()

	c, err := sandboxConfig(m.Getenv, srv, dataDir)
	if err != nil {
		return err
	}
	m.Config = c
	// One line for each mail in and out, at the sandbox's clock.
	m.Logger = slog.New(newFlowHandler(newLogger(m.Stderr, c.Log).Handler(), m.Stdout, func() time.Time { return m.Now() }))
	if o.speed != 1 {
		start, realStart := m.Now(), time.Now()
		m.Now = func() time.Time { return start.Add(time.Duration(float64(time.Since(realStart)) * o.speed)) }
		m.tick = max(time.Duration(float64(time.Minute)/o.speed), 100*time.Millisecond)
	}

	db, err := m.openDB(ctx)
	if err != nil {
		return err
	}
	as, err := db.FindAgreements(ctx, agreements.AgreementFilter{})
	if err != nil {
		return err
	}
	demo := false
	if !o.noDemo && len(as) == 0 {
		if _, err := db.CreateAgreement(ctx, demoTerms()); err != nil {
			return err
		}
		demo = true
	}
	return m.serve(ctx, func() { m.printSandbox(srv, o, demo, len(as)) })
}

// sandboxConfig is the service's configuration on sandbox srv: its
// service mailbox, in plain text on loopback, with data in dataDir.
func sandboxConfig(getenv func(string) string, srv *sandbox.Server, dataDir string) (Config, error) {
	c := DefaultConfig(getenv)
	c.DataDir = dataDir
	c.Log.Level = "warn"
	c.Service.Address = "service@" + sandbox.Domain
	ih, ip, _ := net.SplitHostPort(srv.IMAPAddr)
	sh, sp, _ := net.SplitHostPort(srv.SMTPAddr)
	c.IMAP.Host, c.IMAP.TLS, c.IMAP.Username, c.IMAP.Password = ih, "none", "service", sandbox.Password("service")
	c.IMAP.Port, _ = strconv.Atoi(ip)
	c.SMTP.Host, c.SMTP.TLS, c.SMTP.Username, c.SMTP.Password = sh, "none", "service", sandbox.Password("service")
	c.SMTP.Port, _ = strconv.Atoi(sp)
	c.IMAP.PollInterval = "5s"
	c.Start.Allow = "@" + sandbox.Domain // anyone in the sandbox may start one by mail
	if getenv(EnvPrefix+"NIGHT") == "" {
		c.Night = "off" // the sandbox sends at any hour, unless told otherwise
	}
	return c, c.Validate()
}

func demoTerms() agreements.Terms {
	return agreements.Terms{
		Title:         "Evenings and phone calls",
		WhatWentWrong: "Alice said she would call when running late, and twice she did not.\nBob heard from a friend that she had been out, and felt lied to.",
		Parties: []agreements.Party{
			{Name: "Alice Example", Address: "alice@" + sandbox.Domain, TimeZone: "Europe/Lisbon",
				Commitments: []string{"Call or text before 18:00 when I will be home after 19:00.", "Tell Bob myself when plans change."}},
			{Name: "Bob Example", Address: "bob@" + sandbox.Domain, TimeZone: "America/Chicago",
				Commitments: []string{"Ask Alice directly when something worries me.", "Say so the same day when I am upset."}},
		},
		CheckIn: agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Sunday}, Hour: 19},
	}
}

// printSandbox says what runs and what to try, in commands that work as
// printed: the program as the user ran it. demo says whether the demo
// agreement was just made; before is how many agreements the sandbox's
// folder held already.
func (m *Main) printSandbox(srv *sandbox.Server, o devOptions, demo bool, before int) {
	w := m.Stdout
	fmt.Fprintf(w, "inwriting sandbox: ready. Ctrl-C stops it.\n\n")
	fmt.Fprintf(w, "Mail server (plain text, loopback only):\n  IMAP %s    SMTP %s (AUTH PLAIN)\n", srv.IMAPAddr, srv.SMTPAddr)
	for _, u := range sandbox.Users {
		fmt.Fprintf(w, "  %-24s password %s\n", u+"@"+sandbox.Domain, sandbox.Password(u))
	}
	dev := m.devCommand()
	switch {
	case demo:
		fmt.Fprintf(w, "\nAlice and Bob have each been asked to confirm the demo agreement. In another terminal:\n")
		fmt.Fprintf(w, "  %s inbox alice\n  %s read alice 1\n  %s reply alice 1 \"I agree\"\n", dev, dev, dev)
		fmt.Fprintf(w, "and the same for bob; then both receive the confirmed copy.\n")
	case before > 0:
		n := fmt.Sprintf("%d agreements", before)
		if before == 1 {
			n = "1 agreement"
		}
		fmt.Fprintf(w, "\nThe sandbox goes on with what %s holds: %s, and their mail. In another terminal:\n", o.dir, n)
		fmt.Fprintf(w, "  %s inbox alice\n  %s read alice 1\n", dev, dev)
	default:
		fmt.Fprintf(w, "\nNo agreement yet. In another terminal:\n")
	}
	fmt.Fprintf(w, "To start your own, write it as in deploy/example-agreement.txt (alice@ and bob@%s are its parties) and run:\n  %s new FILE\n", sandbox.Domain, dev)
}

// devCommand returns the command that reaches this sandbox: "inwriting
// dev", with the addresses when they are not the default ones.
func (m *Main) devCommand() string {
	dev := m.program() + " dev"
	if o := m.devOpts; o.imapAddr != "127.0.0.1:2143" || o.smtpAddr != "127.0.0.1:2525" {
		dev += fmt.Sprintf(" --imap %s --smtp %s", o.imapAddr, o.smtpAddr)
	}
	return dev
}

// program returns how the user runs inwriting, for commands printed to
// be run as they are: "go run ./cmd/inwriting" under go run (from the
// module's folder, else by its import path), else the name it was run by.
func (m *Main) program() string {
	if m.Program != "" {
		return m.Program
	}
	_, err := os.Stat(filepath.Join("cmd", "inwriting", "main.go"))
	path := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		path = bi.Path
	}
	return programName(os.Args[0], err == nil, path)
}

// programName is how to run the program that runs as exe: built by go run
// (into a go-build folder), "go run ./cmd/inwriting" from the module's
// folder (inModule) or "go run" and its import path; else exe itself.
func programName(exe string, inModule bool, importPath string) string {
	if !strings.Contains(filepath.ToSlash(exe), "/go-build") {
		return exe
	}
	if inModule || importPath == "" {
		return "go run ./cmd/inwriting"
	}
	return "go run " + importPath
}

// devClient logs in to the sandbox's IMAP server as user and selects the
// inbox; it returns the number of mails in it.
func (m *Main) devClient(user string) (*imapclient.Client, uint32, error) {
	if !slicesContains(sandbox.Users, user) {
		return nil, 0, usagef("dev: %q is not a sandbox mailbox (%s)", user, strings.Join(sandbox.Users, ", "))
	}
	c, err := imapclient.DialInsecure(m.devOpts.imapAddr, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("the sandbox is not running at %s (start it with: inwriting dev): %w", m.devOpts.imapAddr, err)
	}
	if err := c.Login(user, sandbox.Password(user)).Wait(); err != nil {
		c.Close()
		return nil, 0, fmt.Errorf("log in as %s: %w", user, err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		c.Close()
		return nil, 0, err
	}
	return c, sel.NumMessages, nil
}

func slicesContains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func (m *Main) devInbox(ctx context.Context, user string) error {
	c, n, err := m.devClient(user)
	if err != nil {
		return err
	}
	defer c.Close()
	if n == 0 {
		fmt.Fprintf(m.Stdout, "%s's inbox is empty.\n", user)
		return nil
	}
	bufs, err := c.Fetch(imap.SeqSetNum(seqRange(n)...), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		return err
	}
	for _, b := range bufs {
		e := b.Envelope
		from := ""
		if len(e.From) > 0 {
			from = e.From[0].Addr()
			if e.From[0].Name != "" {
				from = e.From[0].Name
			}
		}
		fmt.Fprintf(m.Stdout, "%3d  %s  %-20s %s\n", b.SeqNum, e.Date.Local().Format("Jan 02 15:04"), clipText(from, 20), e.Subject)
	}
	return nil
}

func seqRange(n uint32) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i + 1)
	}
	return out
}

func clipText(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// devFetch returns mail n of user's inbox, whole.
func (m *Main) devFetch(user string, n int) ([]byte, error) {
	c, count, err := m.devClient(user)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if uint32(n) > count {
		return nil, fmt.Errorf("%s has %d mails; there is no mail %d", user, count, n)
	}
	section := &imap.FetchItemBodySection{Peek: true}
	bufs, err := c.Fetch(imap.SeqSetNum(uint32(n)), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil || len(bufs) == 0 {
		return nil, fmt.Errorf("fetch mail %d: %v", n, err)
	}
	return bufs[0].FindBodySection(section), nil
}

func (m *Main) devRead(ctx context.Context, user string, n int) error {
	raw, err := m.devFetch(user, n)
	if err != nil {
		return err
	}
	msg, _ := mailin.ParseMessage(raw, mailin.ParseOptions{})
	for _, h := range []string{"From", "To", "Reply-To", "Date", "Subject"} {
		if v := msg.Header.Get(h); v != "" {
			if h == "Subject" {
				v = msg.Subject
			}
			fmt.Fprintf(m.Stdout, "%-9s %s\n", h+":", v)
		}
	}
	for _, a := range msg.Attachments {
		fmt.Fprintf(m.Stdout, "%-9s %s (%d bytes)\n", "Attached:", a.Name, a.Size)
	}
	fmt.Fprintf(m.Stdout, "\n%s\n", strings.TrimRight(msg.Body, "\n"))
	return nil
}

// devReply replies to mail n of user's as a mail client would: to its
// Reply-To, "Re:" subject, threading headers, the original quoted below.
func (m *Main) devReply(ctx context.Context, user string, n int, text string) error {
	raw, err := m.devFetch(user, n)
	if err != nil {
		return err
	}
	r, err := gomsgmail.CreateReader(strings.NewReader(string(raw)))
	if err != nil {
		return fmt.Errorf("read mail %d: %w", n, err)
	}
	to, err := r.Header.AddressList("Reply-To")
	if err != nil || len(to) == 0 {
		to, _ = r.Header.AddressList("From")
	}
	if len(to) == 0 {
		return errors.New("the mail has no Reply-To or From to answer")
	}
	subject, _ := r.Header.Subject()
	if !strings.HasPrefix(strings.ToLower(subject), "re:") {
		subject = "Re: " + subject
	}
	id, _ := r.Header.MessageID()
	refs, _ := r.Header.MsgIDList("References")
	from, _ := r.Header.AddressList("From")
	date, _ := r.Header.Date()
	msg, _ := mailin.ParseMessage(raw, mailin.ParseOptions{})

	var quote strings.Builder
	who := "you"
	if len(from) > 0 {
		who = (&gomsgmail.Address{Name: from[0].Name, Address: from[0].Address}).String()
	}
	fmt.Fprintf(&quote, "On %s, %s wrote:\n", date.Format("Mon, Jan 2, 2006 at 3:04 PM"), who)
	for _, l := range strings.Split(strings.TrimRight(msg.Body, "\n"), "\n") {
		quote.WriteString("> " + l + "\n")
	}

	out := gomail.NewMsg()
	if err := out.From(user + "@" + sandbox.Domain); err != nil {
		return err
	}
	if err := out.To(to[0].Address); err != nil {
		return err
	}
	out.Subject(subject)
	if id != "" {
		out.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+id+">")
		var all []string
		for _, r := range append(refs, id) {
			all = append(all, "<"+r+">")
		}
		out.SetGenHeaderPreformatted(gomail.HeaderReferences, strings.Join(all, " "))
	}
	out.SetBodyString(gomail.TypeTextPlain, text+"\n\n"+quote.String())
	if err := m.devSend(ctx, user, out); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Sent as %s to %s: %q\n", user, to[0].Address, text)
	return nil
}

// devNew starts the agreement in file in the running sandbox the way
// anyone does by mail: it is read as "inwriting new" reads it, then sent
// to the service from its From: party (alice@ when it names none) with
// the other party (bob@) in Cc, the title as the subject.
func (m *Main) devNew(ctx context.Context, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	text := string(data)
	alice, bob := &mail.Address{Name: "Alice Example", Address: "alice@" + sandbox.Domain}, &mail.Address{Name: "Bob Example", Address: "bob@" + sandbox.Domain}
	in := agreements.ProposalInput{Text: text}
	if !fileNames(text, "from", "initiator") {
		in.From = alice
	}
	if !fileNames(text, "to", "cc", "with", "other party", "other parties", "parties") {
		in.Others = []*mail.Address{bob}
	}
	terms, err := agreements.ParseProposal(in)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	from, other := terms.Parties[0], terms.Parties[1]
	user, _, _ := strings.Cut(from.Address, "@")
	for _, p := range terms.Parties {
		if u, domain, _ := strings.Cut(p.Address, "@"); domain != sandbox.Domain || (u != "alice" && u != "bob") {
			return usagef("dev new: %s is not a sandbox mailbox: the parties of a sandbox agreement are alice@%s and bob@%s", p.Address, sandbox.Domain, sandbox.Domain)
		}
	}
	msg := gomail.NewMsg()
	if err := msg.FromFormat(from.Name, from.Address); err != nil {
		return err
	}
	if err := msg.To("service@" + sandbox.Domain); err != nil {
		return err
	}
	if err := msg.AddCcFormat(other.Name, other.Address); err != nil {
		return err
	}
	msg.Subject(terms.Title)
	// The headers say who and what it is called; the text says the rest.
	msg.SetBodyString(gomail.TypeTextPlain, strings.TrimLeft(withoutLines(text, "title", "subject", "from", "initiator", "to", "cc", "with", "other party", "other parties", "parties"), "\n"))
	if err := m.devSend(ctx, user, msg); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Sent %q to service@%s as %s, with %s in Cc.\nIn a moment both are asked to confirm it: %s inbox %s\n",
		terms.Title, sandbox.Domain, from.Address, other.Address, m.devCommand(), user)
	return nil
}

// withoutLines returns text without the lines that start with one of the
// headings keys ("From:").
func withoutLines(text string, keys ...string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if k, _, ok := strings.Cut(l, ":"); !ok || !slices.Contains(keys, strings.ToLower(strings.TrimSpace(k))) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// fileNames reports whether an agreement's text has a line that starts
// with one of the headings keys ("From:").
func fileNames(text string, keys ...string) bool {
	for _, l := range strings.Split(text, "\n") {
		k, _, ok := strings.Cut(l, ":")
		if ok && slices.Contains(keys, strings.ToLower(strings.TrimSpace(k))) {
			return true
		}
	}
	return false
}

// devSend sends msg to the sandbox's SMTP server as user.
func (m *Main) devSend(ctx context.Context, user string, msg *gomail.Msg) error {
	host, port, err := net.SplitHostPort(m.devOpts.smtpAddr)
	if err != nil {
		return usagef("dev: --smtp %q: %v", m.devOpts.smtpAddr, err)
	}
	p, _ := strconv.Atoi(port)
	cl, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.NoTLS),
		gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(user), gomail.WithPassword(sandbox.Password(user)))
	if err != nil {
		return err
	}
	if err := cl.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("send (is the sandbox running at %s?): %w", m.devOpts.smtpAddr, err)
	}
	return nil
}
