package mailin

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText renders an HTML mail body as plain text: blocks and line
// breaks become lines, list items get "- " or "1. ", blockquotes get "> "
// (so quoted history stays recognisable), rules and the containers mail
// clients put quoted mail in get a rule line of underscores above them, and
// no tag or entity is left. Scripts, styles and comments are dropped.
func HTMLToText(s string) string {
	c := &htmlConv{}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			c.flush()
			out := c.out
			for len(out) > 0 && strings.Trim(out[len(out)-1], "> ") == "" {
				out = out[:len(out)-1]
			}
			return strings.Join(out, "\n")
		case html.TextToken:
			if c.skip == 0 {
				c.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			var attrs map[string]string
			if hasAttr {
				attrs = map[string]string{}
				for {
					k, v, more := z.TagAttr()
					attrs[string(k)] = string(v)
					if !more {
						break
					}
				}
			}
			c.start(a, attrs, tt == html.SelfClosingTagToken)
		case html.EndTagToken:
			name, _ := z.TagName()
			c.end(atom.Lookup(name))
		}
	}
}

type htmlConv struct {
	out    []string
	line   strings.Builder
	quote  int   // blockquote depth
	skip   int   // inside script, style, head, title
	pre    int   // inside pre
	lists  []int // item counters; -1 for an unordered list
	pendSp bool
}

func (c *htmlConv) prefix() string {
	return strings.Repeat("> ", c.quote)
}

func (c *htmlConv) text(t string) {
	if c.pre > 0 {
		parts := strings.Split(t, "\n")
		for i, p := range parts {
			if i > 0 {
				c.newline(true)
			}
			c.write(p)
		}
		return
	}
	t = strings.ReplaceAll(t, "\u00a0", " ")
	fields := strings.Fields(t)
	if len(fields) == 0 {
		if t != "" {
			c.pendSp = true
		}
		return
	}
	if c.pendSp || startsSpace(t) {
		c.space()
	}
	c.write(strings.Join(fields, " "))
	c.pendSp = endsSpace(t)
}

func startsSpace(s string) bool { return s != "" && strings.ContainsAny(s[:1], " \t\n\r\f") }
func endsSpace(s string) bool   { return s != "" && strings.ContainsAny(s[len(s)-1:], " \t\n\r\f") }

func (c *htmlConv) space() {
	if c.line.Len() > 0 {
		c.line.WriteByte(' ')
	}
	c.pendSp = false
}

func (c *htmlConv) write(s string) {
	if c.line.Len() == 0 && s != "" {
		c.line.WriteString(c.prefix())
	}
	c.line.WriteString(s)
}

// newline ends the current line; force ends it even when empty.
func (c *htmlConv) newline(force bool) {
	if c.line.Len() > 0 || force {
		l := strings.TrimRight(c.line.String(), " ")
		if l == "" && c.quote > 0 {
			l = strings.TrimRight(c.prefix(), " ")
		}
		c.out = append(c.out, l)
		c.line.Reset()
	}
	c.pendSp = false
}

// block ends the current line, and leaves one blank line when blankLine.
func (c *htmlConv) block(blankLine bool) {
	c.newline(false)
	if blankLine && len(c.out) > 0 && strings.Trim(c.out[len(c.out)-1], "> ") != "" {
		c.out = append(c.out, strings.TrimRight(c.prefix(), " "))
	}
}

func (c *htmlConv) flush() { c.newline(false) }

// quoteContainer reports whether a tag holds quoted or forwarded mail, by
// the marks mail clients leave.
func quoteContainer(attrs map[string]string) bool {
	class, id, style := attrs["class"], attrs["id"], strings.ToLower(strings.ReplaceAll(attrs["style"], " ", ""))
	for _, mark := range []string{"gmail_quote", "yahoo_quoted", "moz-cite-prefix", "OutlookMessageHeader", "divRplyFwdMsg", "OLK_SRC_BODY_SECTION", "x_divRplyFwdMsg"} {
		if strings.Contains(class, mark) || strings.Contains(id, mark) {
			return true
		}
	}
	// Outlook's rule above its header block.
	return strings.Contains(style, "border-top:solid") && strings.Contains(style, "padding:3")
}

const ruleLine = "________________________________"

func (c *htmlConv) start(a atom.Atom, attrs map[string]string, selfClosing bool) {
	switch a {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template:
		if !selfClosing {
			c.skip++
		}
		return
	}
	if c.skip > 0 {
		return
	}
	if quoteContainer(attrs) && a != atom.Blockquote {
		c.block(true)
		c.out = append(c.out, c.prefix()+ruleLine)
	}
	switch a {
	case atom.Br:
		c.newline(true)
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table:
		c.block(true)
	case atom.Div, atom.Tr, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Dt, atom.Dd, atom.Center, atom.Address:
		c.block(false)
	case atom.Pre:
		c.block(true)
		c.pre++
	case atom.Blockquote:
		c.block(true)
		c.quote++
	case atom.Ul:
		c.block(len(c.lists) == 0)
		c.lists = append(c.lists, -1)
	case atom.Ol:
		c.block(len(c.lists) == 0)
		c.lists = append(c.lists, 0)
	case atom.Li:
		c.block(false)
		indent := strings.Repeat("  ", max(len(c.lists)-1, 0))
		if n := len(c.lists); n > 0 && c.lists[n-1] >= 0 {
			c.lists[n-1]++
			c.write(indent + itoa(c.lists[n-1]) + ". ")
		} else {
			c.write(indent + "- ")
		}
	case atom.Hr:
		c.block(false)
		c.out = append(c.out, c.prefix()+ruleLine)
	case atom.Td, atom.Th:
		c.space()
	case atom.Img:
		if alt := strings.TrimSpace(attrs["alt"]); alt != "" {
			c.space()
			c.write("[" + alt + "]")
		}
	}
}

func (c *htmlConv) end(a atom.Atom) {
	switch a {
	case atom.Script, atom.Style, atom.Head, atom.Title, atom.Template:
		if c.skip > 0 {
			c.skip--
		}
		return
	}
	if c.skip > 0 {
		return
	}
	switch a {
	case atom.P, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Table:
		c.block(true)
	case atom.Div, atom.Tr, atom.Li, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Dt, atom.Dd, atom.Center, atom.Address:
		c.block(false)
	case atom.Pre:
		c.block(true)
		if c.pre > 0 {
			c.pre--
		}
	case atom.Blockquote:
		c.block(false)
		if c.quote > 0 {
			c.quote--
		}
		c.block(true)
	case atom.Ul, atom.Ol:
		if len(c.lists) > 0 {
			c.lists = c.lists[:len(c.lists)-1]
		}
		c.block(len(c.lists) == 0)
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
