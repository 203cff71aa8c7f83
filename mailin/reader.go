package mailin

import (
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/inwriting/inwriting/agreements"
)

// Reader reads replies in the context of the mail they answer. It meets
// agreements.Reader; cmd wires it into the store.
type Reader struct{}

var _ agreements.Reader = Reader{}

// ReadReply reads m, a reply, in its context: it trims the reply against
// the mail it answers (the generic trimmer only where that mail's quote is
// not found), then reads a command, a confirmation or a comment, or a
// check-in answer against the writer's own commitments, in that order of
// what the answered mail asked for. What it cannot tell is
// IntentUnclear: the store answers it to its writer alone.
func (Reader) ReadReply(m agreements.ReplyMessage, rc agreements.ReplyContext) agreements.Reading {
	var reply Reply
	var matched bool
	if x := sentIndexOf(rc); x != nil {
		reply, matched = x.trim(m.Body)
	} else {
		reply = Trim(m.Body)
	}
	r := agreements.Reading{Text: reply.Text, Elided: reply.Elided, Matched: matched}
	r.Intent, r.CheckIn = readIntent(r.Text, m.Subject, rc)
	return r
}

// ReadMessage returns what the writer of m wrote, trimmed as a reply is
// (against sent, our mail it answers, when there is one), and without the
// closing at its end ("Thanks,\nAlice"): the text of a message that
// starts an agreement.
func (Reader) ReadMessage(m agreements.ReplyMessage, sent []byte) string {
	var reply Reply
	if x := sentIndexOf(agreements.ReplyContext{Sent: sent}); x != nil {
		reply, _ = x.trim(m.Body)
	} else {
		reply = Trim(m.Body)
	}
	return withoutClosing(reply.Text)
}

// readIntent reads what text means, given what the mail it answers asked.
func readIntent(text, subject string, rc agreements.ReplyContext) (agreements.Intent, *agreements.CheckInAnswer) {
	cc := CheckInContext{Commitments: rc.Commitments, Others: rc.Others}
	if in, ok := readCommand(text, rc); ok {
		if in.Command == agreements.CommandFix {
			a := ParseCheckIn(in.Fix, cc)
			return in, &a
		}
		return in, nil
	}
	// The List-Unsubscribe mailto link: subject "unsubscribe" (with the
	// token's tag where there is no plus-addressing), often no text.
	if strings.TrimSpace(text) == "" && strings.EqualFold(agreements.WithoutTags(subject), "unsubscribe") {
		return agreements.Intent{Kind: agreements.IntentCommand, Command: agreements.CommandUnsubscribe}, nil
	}
	if strings.TrimSpace(text) == "" {
		return agreements.Intent{Kind: agreements.IntentUnclear}, nil
	}
	if rc.Purpose == agreements.PurposeConfirm {
		in := readConfirmation(text)
		if in.Kind != agreements.IntentComment || rc.Pending {
			return in, nil
		}
	}
	a := ParseCheckIn(text, cc)
	if rc.Purpose == agreements.PurposeCheckIn {
		return agreements.Intent{Kind: agreements.IntentCheckIn}, &a
	}
	if acknowledgement(text) {
		return agreements.Intent{Kind: agreements.IntentAck}, nil
	}
	if rc.RoundOpen && understood(a) {
		return agreements.Intent{Kind: agreements.IntentCheckIn}, &a
	}
	return agreements.Intent{Kind: agreements.IntentUnclear}, nil
}

// ackRE is a thank-you or an acknowledgement, in the six languages.
var ackRE = regexp.MustCompile(`(?i)^(thanks?|thank you|thanks a lot|thank you so much|many thanks|thx|ty|ok|okay|got it|noted|received|great|perfect|cool|understood|merci|merci beaucoup|bien reçu|danke|danke schön|vielen dank|alles klar|gracias|muchas gracias|recibido|bedankt|dank je|dank je wel|ontvangen|obrigad[oa]|recebido|👍|🙏|❤️|😊|🙂)$`)

// acknowledgement reports whether text only thanks or acknowledges: it
// needs no answer.
func acknowledgement(text string) bool {
	t := strings.TrimSpace(text)
	first := firstLine(t)
	if !closingOnly(t[len(first):]) {
		return false
	}
	c := strings.ToLower(strings.Join(strings.Fields(first), " "))
	c = strings.Trim(c, ".!,:;… ")
	c = strings.TrimSuffix(strings.TrimSpace(strings.TrimSuffix(c, "!")), ",")
	for _, w := range []string{" :)", " :-)", " 🙂", " 😊", " x", " xx"} {
		c = strings.TrimSuffix(c, w)
	}
	return ackRE.MatchString(strings.Trim(c, ".!, "))
}

// sentText returns the text of one of our own mails, for finding its quote
// in a reply: the text part and the HTML part as text, both, since a
// client may quote either.
func sentText(raw []byte) string {
	m, err := ParseMessage(raw, ParseOptions{})
	if err != nil && m.Body == "" {
		return ""
	}
	text := m.Body
	if m.HTML != "" {
		text += "\n" + HTMLToText(m.HTML)
	}
	return text
}

// TrimAgainst returns what the writer of body wrote, knowing sent, the
// text of the mail body answers: it finds sent's quote in body (quoted
// with "> " or not, re-wrapped, converted from HTML, below a header in
// any language) and cuts from the quote header just above it, keeping
// answers written between quoted lines and below the quote. It reports
// whether the quote was found; where it was not, it is Trim.
func TrimAgainst(body, sent string) (Reply, bool) {
	if strings.TrimSpace(sent) == "" {
		return Trim(body), false
	}
	return newSentIndex(sent).trim(body)
}

// sentIndexOf returns the index of the mail rc's reply answers, from a
// small cache by its Message-ID (the same mail is answered by a reply or
// two, close together), or nil when the mail is not known.
func sentIndexOf(rc agreements.ReplyContext) *sentIndex {
	if len(rc.Sent) == 0 {
		return nil
	}
	sentCache.Lock()
	defer sentCache.Unlock()
	if x, ok := sentCache.m[rc.SentID]; ok && rc.SentID != "" {
		return x
	}
	text := sentText(rc.Sent)
	if strings.TrimSpace(text) == "" {
		return nil
	}
	x := newSentIndex(text)
	if rc.SentID != "" {
		if len(sentCache.m) >= sentCacheSize {
			clear(sentCache.m)
		}
		sentCache.m[rc.SentID] = x
	}
	return x
}

const sentCacheSize = 256

var sentCache = struct {
	sync.Mutex
	m map[string]*sentIndex
}{m: map[string]*sentIndex{}}

// trim is TrimAgainst with the mail answered indexed.
func (ours *sentIndex) trim(body string) (Reply, bool) {
	lines := splitLines(body)
	if len(lines) > maxMatchLines {
		return Trim(body), false
	}
	kind := make([]lineKind, len(lines))
	matchedWords := make([]int, len(lines))
	last := -1
	for i, l := range lines {
		kind[i], matchedWords[i] = ours.classify(l)
		if kind[i] == lineSent {
			last = i
		}
	}
	if last < 0 {
		return Trim(body), false
	}
	// The quote is the block that ends with the last line of ours and
	// runs up to the first line the writer wrote.
	start, total, quoted := last, 0, false
	for i := last; i >= 0; i-- {
		switch kind[i] {
		case lineSent:
			total += matchedWords[i]
			quoted = quoted || isQuoted(lines[i])
			start = i
			continue
		case lineBlank, lineShort, lineOldQuote:
			continue
		}
		break
	}
	if total < 12 && !(quoted && total >= 6) {
		return Trim(body), false // a few words in common are no quote
	}
	keep := make([]bool, len(lines))
	// Answers written between ">" quoted lines of ours (an inline reply):
	// the quote header above the first quoted line goes; the quoted lines
	// stay as the context of the answers, up to the last answer.
	first := 0 // the first quoted line of ours
	for first < last && !(kind[first] == lineSent && isQuoted(lines[first])) {
		first++
	}
	inline := false
	for i := first + 1; quoted && i < last; i++ {
		inline = inline || kind[i] == lineWriter && !isQuoted(lines[i])
	}
	if inline {
		top := first
		for top > 0 && (kind[top-1] == lineBlank || kind[top-1] == lineShort) {
			top--
		}
		top = headerAbove(lines, top)
		end := len(lines) - 1
		for end > first && kind[end] != lineWriter {
			end--
		}
		for i := range lines {
			keep[i] = i < top || (i >= first && i <= end)
		}
	} else {
		// Up over blank lines and the quote header (or header block) above.
		cut := start
		for cut > 0 && (kind[cut-1] == lineBlank || kind[cut-1] == lineShort) {
			cut--
		}
		cut = headerAbove(lines, cut)
		for i := 0; i < cut; i++ {
			keep[i] = true
		}
		// Below a ">" quote, the writer may have answered at the bottom.
		for i := last + 1; quoted && i < len(lines); i++ {
			if headerAbove(lines, i+1) <= i || isSeparator(lines[i]) {
				break
			}
			if kind[i] == lineWriter {
				for j := i; j < len(lines) && kind[j] != lineSent; j++ {
					keep[j] = true
				}
				break
			}
		}
	}
	kept, elided := partition(lines, keep)
	if inline {
		return Reply{Text: tidyBlock(kept), Elided: tidyBlock(elided)}, true
	}
	r := Trim(strings.Join(kept, "\n"))
	if r.Elided != "" {
		elided = append(strings.Split(r.Elided, "\n"), elided...)
	}
	return Reply{Text: r.Text, Elided: tidyBlock(elided)}, true
}

// maxMatchLines bounds the work of TrimAgainst on a huge reply.
const maxMatchLines = 20000

type lineKind int

const (
	lineWriter   lineKind = iota // words the writer wrote
	lineBlank                    // nothing
	lineSent                     // words of the mail answered
	lineShort                    // a word or two: neither
	lineOldQuote                 // ">"-quoted, not of the mail answered: older history
)

// sentIndex is the mail answered, ready for finding its lines in a reply:
// its runs of three words, and its short lines whole.
type sentIndex struct {
	grams map[uint64]bool // runs of three words, hashed
	short map[string]bool
}

func newSentIndex(sent string) *sentIndex {
	x := &sentIndex{grams: shingles(words(sent)), short: map[string]bool{}}
	for _, l := range strings.Split(sent, "\n") {
		if ws := words(l); len(ws) > 0 && len(ws) < 3 {
			x.short[strings.Join(ws, " ")] = true
		}
	}
	return x
}

// classify says whose words line l is and how many of its words are ours.
func (x *sentIndex) classify(l string) (lineKind, int) {
	if blank(l) {
		return lineBlank, 0
	}
	ws := words(l)
	if len(ws) < 3 {
		if isQuoted(l) || len(ws) == 0 || x.short[strings.Join(ws, " ")] {
			return lineShort, 0 // a rule, or a short line of ours ("Hello Alice,")
		}
		return lineWriter, 0
	}
	hits := 0
	for _, g := range trigrams(ws) {
		if x.grams[g] {
			hits++
		}
	}
	n := len(ws) - 2
	if hits*10 >= n*6 {
		return lineSent, len(ws)
	}
	if isQuoted(l) {
		return lineOldQuote, 0
	}
	return lineWriter, 0
}

// words returns the words of s, lowercase: letters and digits, the rest
// (quote marks, punctuation, spacing, line breaks) folded away.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func shingles(ws []string) map[uint64]bool {
	m := make(map[uint64]bool, len(ws))
	for _, g := range trigrams(ws) {
		m[g] = true
	}
	return m
}

// trigrams returns the hashes of the runs of three words in ws.
func trigrams(ws []string) []uint64 {
	if len(ws) < 3 {
		return nil
	}
	h := make([]uint64, len(ws))
	for i, w := range ws {
		h[i] = fnv64(w)
	}
	out := make([]uint64, 0, len(ws)-2)
	for i := 0; i+3 <= len(ws); i++ {
		out = append(out, h[i]*0x9E3779B97F4A7C15^(h[i+1]*0xC2B2AE3D27D4EB4F+h[i+2]))
	}
	return out
}

// fnv64 is the 64-bit FNV-1a hash of s.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Quote headers, by their structure rather than their words, in any
// language: a line, or two or three wrapped lines, holding an address or
// a date and time, ending in ":" or framed by dashes; or a block of
// "Field: value" lines (Outlook's From/Sent/To/Subject in any language).
var (
	headerEndRE   = regexp.MustCompile(`[:：]\s*$|^\s*>?\s*-{2,}.*-{2,}\s*$`)
	headerFactRE  = regexp.MustCompile(`@|\d{1,2}[:h.]\d{2}|\d{4}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|年|년`)
	fieldLineRE   = regexp.MustCompile(`^\s*>?\s*\**\s*[\p{L}][\p{L}\p{M} .'-]{0,24}?\s*\**\s*[:：]\s*\S`)
	fieldAddrRE   = regexp.MustCompile(`@|<[^>]+>`)
	sentenceEndRE = regexp.MustCompile(`[.!?]\s*$`)
)

// headerAbove returns the first line of the quote header that ends just
// above line i (blank lines between allowed), or i when there is none.
func headerAbove(lines []string, i int) int {
	j := i - 1
	for j >= 0 && blank(lines[j]) {
		j--
	}
	if j < 0 {
		return i
	}
	l := lines[j]
	switch {
	case isSeparator(l):
		return j
	case fieldLineRE.MatchString(l):
		// A block of "Field: value" lines with an address among them,
		// perhaps below a rule.
		k, addr, n := j, false, 0
		for k >= 0 && (fieldLineRE.MatchString(lines[k]) || (n > 0 && !blank(lines[k]) && len(lines[k]) < 120 && !fieldLineRE.MatchString(lines[k]) && k > 0 && fieldLineRE.MatchString(lines[k-1]))) {
			addr = addr || fieldAddrRE.MatchString(lines[k])
			n++
			k--
		}
		if n >= 2 && addr {
			top := k + 1
			if k >= 0 && (isSeparator(lines[k]) || delimiterRE.MatchString(lines[k])) {
				top = k
			}
			return top
		}
		if n == 1 && headerEndRE.MatchString(l) && headerFactRE.MatchString(l) && len(l) < 300 {
			return wrappedHeader(lines, j)
		}
	case headerEndRE.MatchString(l) && headerFactRE.MatchString(l) && len(l) < 300 && !sentenceEndRE.MatchString(strings.TrimRight(l, ":： ")):
		return wrappedHeader(lines, j)
	}
	return i
}

// wrappedHeader returns where a quote header ending at line j begins: up
// to two lines above it that carry a date, a time or an address and are
// not sentences.
func wrappedHeader(lines []string, j int) int {
	top := j
	for k := j - 1; k >= 0 && k >= j-2; k-- {
		l := strings.TrimSpace(lines[k])
		if l == "" || len(l) > 200 || !headerFactRE.MatchString(l) || sentenceEndRE.MatchString(l) {
			break
		}
		top = k
	}
	return top
}
