// Package templates holds the emails inwriting sends, each as a plain-text
// and an HTML template, embedded in the binary and overridable file by file
// from a folder.
//
// A mail NAME is two files: NAME.txt defines the templates "subject" and
// "text"; NAME.html defines "content", which layout.html wraps. common.txt
// and layout.html also define the parts that mails share ("terms",
// "footer", "quote"). Templates see an *agreements.MailData. The words of
// the short notices are in notices.txt, one pair of templates each.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

//go:embed mail/*.txt mail/*.html
var embedded embed.FS

// Set is the parsed templates of every mail kind.
type Set struct {
	text map[agreements.MailKind]*texttemplate.Template
	html map[agreements.MailKind]*htmltemplate.Template
}

// New parses the embedded templates, with any file of the same name in dir
// taking the place of the embedded one. dir "" means the embedded ones
// only. A template that does not parse, or a kind without both files, is an
// error.
func New(dir string) (*Set, error) {
	var files fs.FS = must(fs.Sub(embedded, "mail"))
	if dir != "" {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		files = overlay{top: os.DirFS(dir), bottom: files}
	}
	read := func(name string) (string, error) {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return "", fmt.Errorf("templates: %w", err)
		}
		return string(b), nil
	}
	common, err := read("common.txt")
	if err != nil {
		return nil, err
	}
	layout, err := read("layout.html")
	if err != nil {
		return nil, err
	}
	s := &Set{text: map[agreements.MailKind]*texttemplate.Template{}, html: map[agreements.MailKind]*htmltemplate.Template{}}
	for _, kind := range agreements.MailKinds {
		txt, err := read(string(kind) + ".txt")
		if err != nil {
			return nil, err
		}
		t, err := texttemplate.New(string(kind)).Funcs(texttemplate.FuncMap(funcs)).Option("missingkey=error").Parse(common)
		if err == nil {
			t, err = t.Parse(txt)
		}
		if err != nil {
			return nil, fmt.Errorf("templates: %s.txt: %w", kind, err)
		}
		if kind == agreements.MailNotice {
			if err := parseNotices(t, read); err != nil {
				return nil, err
			}
		}
		for _, need := range []string{"subject", "text"} {
			if t.Lookup(need) == nil {
				return nil, fmt.Errorf("templates: %s.txt does not define %q", kind, need)
			}
		}
		s.text[kind] = t

		h, err := read(string(kind) + ".html")
		if err != nil {
			return nil, err
		}
		ht, err := htmltemplate.New(string(kind)).Funcs(htmltemplate.FuncMap(funcs)).Option("missingkey=error").Parse(layout)
		if err == nil {
			ht, err = ht.Parse(h)
		}
		if err != nil {
			return nil, fmt.Errorf("templates: %s.html: %w", kind, err)
		}
		if ht.Lookup("content") == nil {
			return nil, fmt.Errorf("templates: %s.html does not define \"content\"", kind)
		}
		s.html[kind] = ht
	}
	return s, nil
}

// parseNotices adds the words of every notice (notices.txt) to t, the
// template of the notice mail; a notice without its words is an error.
func parseNotices(t *texttemplate.Template, read func(string) (string, error)) error {
	words, err := read("notices.txt")
	if err != nil {
		return err
	}
	if _, err := t.Parse(words); err != nil {
		return fmt.Errorf("templates: notices.txt: %w", err)
	}
	for _, n := range agreements.Notices {
		for _, need := range []string{string(n) + ".title", string(n)} {
			if t.Lookup(need) == nil {
				return fmt.Errorf("templates: notices.txt does not define %q", need)
			}
		}
	}
	return nil
}

// noticeWords returns d with the title and paragraphs of its notice,
// from the templates.
func noticeWords(t *texttemplate.Template, d *agreements.MailData) (*agreements.MailData, error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, string(d.Notice)+".title", d); err != nil {
		return nil, err
	}
	c := *d
	c.Title = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := t.ExecuteTemplate(&b, string(d.Notice), d); err != nil {
		return nil, err
	}
	c.Lines = paragraphs(b.String())
	return &c, nil
}

// words fills in what a kind's text templates say of d's facts, so that
// its text and HTML parts say the same words, written once: "recorded"
// gives a receipt's list of what was recorded, a line each; "lines" the
// paragraphs after it; "reason" the words for why a message could not be
// read. Mail queued before carries its words already; they are kept.
func words(t *texttemplate.Template, d *agreements.MailData) (*agreements.MailData, error) {
	c := *d
	run := func(name string) (string, bool, error) {
		if t.Lookup(name) == nil {
			return "", false, nil
		}
		var b bytes.Buffer
		if err := t.ExecuteTemplate(&b, name, d); err != nil {
			return "", false, err
		}
		return strings.TrimSpace(b.String()), true, nil
	}
	if len(d.Recorded) == 0 {
		out, ok, err := run("recorded")
		if err != nil {
			return nil, err
		}
		if ok {
			c.Recorded = nil
			for _, l := range strings.Split(out, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					c.Recorded = append(c.Recorded, l)
				}
			}
		}
	}
	if len(d.Lines) == 0 {
		out, ok, err := run("lines")
		if err != nil {
			return nil, err
		}
		if ok {
			c.Lines = paragraphs(out)
		}
	}
	out, ok, err := run("reason")
	if err != nil {
		return nil, err
	}
	if ok {
		c.Reason = strings.Join(strings.Fields(out), " ")
	}
	return &c, nil
}

// paragraphs splits s at blank lines, each paragraph on one line.
func paragraphs(s string) []string {
	var ps []string
	for _, p := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// ErrUnknownKind is returned by Render for a kind with no templates.
var ErrUnknownKind = errors.New("no templates for this kind of mail")

// Render renders mail kind name for data, which must be an
// *agreements.MailData that is valid for the kind: a missing fact is an
// error, never a blank in someone's inbox.
func (s *Set) Render(name string, data any) (subject, text, html string, err error) {
	d, ok := data.(*agreements.MailData)
	if !ok {
		return "", "", "", fmt.Errorf("render %s: data is %T, not *agreements.MailData", name, data)
	}
	kind := agreements.MailKind(name)
	t, ok := s.text[kind]
	if !ok {
		return "", "", "", fmt.Errorf("render %s: %w", name, ErrUnknownKind)
	}
	if d.Kind != kind {
		return "", "", "", fmt.Errorf("render %s: the data is for %s", name, d.Kind)
	}
	if err := d.Validate(); err != nil {
		return "", "", "", fmt.Errorf("render %s: %w", name, err)
	}
	if kind == agreements.MailNotice && d.Notice != "" {
		if t.Lookup(string(d.Notice)) == nil {
			return "", "", "", fmt.Errorf("render %s: there are no words for the notice %q", name, d.Notice)
		}
		words, err := noticeWords(t, d)
		if err != nil {
			return "", "", "", fmt.Errorf("render %s %s: %w", name, d.Notice, err)
		}
		d = words
	}
	if d, err = words(t, d); err != nil {
		return "", "", "", fmt.Errorf("render %s: %w", name, err)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "subject", d); err != nil {
		return "", "", "", fmt.Errorf("render %s subject: %w", name, err)
	}
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := t.ExecuteTemplate(&b, "text", d); err != nil {
		return "", "", "", fmt.Errorf("render %s text: %w", name, err)
	}
	text = tidy(b.String())
	b.Reset()
	if err := s.html[kind].ExecuteTemplate(&b, "layout", htmlData{Subject: subject, MailData: d}); err != nil {
		return "", "", "", fmt.Errorf("render %s html: %w", name, err)
	}
	html = b.String()
	for part, out := range map[string]string{"subject": subject, "text": text, "html": html} {
		if strings.Contains(out, "<no value>") {
			return "", "", "", fmt.Errorf("render %s %s: a template used a value that is not there", name, part)
		}
	}
	return subject, text, html, nil
}

type htmlData struct {
	Subject string
	*agreements.MailData
}

// tidy removes trailing spaces from lines (but not from the "-- "
// signature separator) and runs of more than one blank line.
func tidy(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		if l != "-- " {
			l = strings.TrimRight(l, " \t")
		}
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n")) + "\n"
}

var funcs = map[string]any{
	"short": agreements.ShortFingerprint,
	"inc":   func(i int) int { return i + 1 },
	// hasPrefix tells a changed line added ("+ ") from one removed.
	"hasPrefix": strings.HasPrefix,
	// example is a short answer to a check-in for someone with
	// commitments cs: "1 kept, 2 partly", or "kept" for one.
	"example": func(cs []string) string {
		if len(cs) == 1 {
			return "kept"
		}
		return "1 kept, 2 partly"
	},
	// at returns ss[i], or "no answer" when there is none.
	"at": func(ss []string, i int) string {
		if i < 0 || i >= len(ss) || ss[i] == "" {
			return "no answer"
		}
		return ss[i]
	},
	// clip shows s on one line, at most 60 characters, without a
	// closing full stop (a label follows it).
	"clip": func(s string) string {
		s = strings.TrimSuffix(strings.Join(strings.Fields(s), " "), ".")
		if r := []rune(s); len(r) > 60 {
			return string(r[:57]) + "..."
		}
		return s
	},
	"indent": func(n int, s string) string {
		pad := strings.Repeat(" ", n)
		lines := strings.Split(s, "\n")
		for i, l := range lines {
			if l != "" {
				lines[i] = pad + l
			}
		}
		return strings.Join(lines, "\n")
	},
	"trimLeft": func(s string) string { return strings.TrimLeft(s, " ") },
	"names": func(ps []agreements.MailParty) string {
		names := make([]string, len(ps))
		for i, p := range ps {
			names[i] = p.FirstName
		}
		if len(names) <= 1 {
			return strings.Join(names, "")
		}
		return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	},
	// day shows the day of t in the time zone zone: "Thursday 10
	// December".
	"day": func(t time.Time, zone string) string {
		loc, err := agreements.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		return t.In(loc).Format("Monday 2 January")
	},
	// date shows a day written 2006-01-02 (a round's day) in words:
	// "Sunday 22 November"; anything else as it is.
	"date": func(s string) string {
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t.Format("Monday 2 January")
		}
		return s
	},
	// local shows t in the time zone zone, in words: "Friday 4 December
	// at 10:00".
	"local": func(t time.Time, zone string) string {
		loc, err := agreements.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		return t.In(loc).Format("Monday 2 January at 15:04")
	},
}

// overlay reads a file from top, or from bottom when top lacks it.
type overlay struct{ top, bottom fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	f, err := o.top.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return o.bottom.Open(name)
	}
	return f, err
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
