package mailin

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reply is a message body split into what the sender wrote and what their
// mail client added: quoted history, forwarded mail, signatures.
type Reply struct {
	Text   string // the new text, trimmed
	Elided string // everything removed, in order, for the record
}

// Trim returns what the sender of body wrote, without quoted history or
// signatures. It never adds text: every line of Text and Elided is a line
// of body.
//
// Where the reply parsers we measure against disagree, Trim keeps what a
// person typed and drops what a mail client added:
//   - A quote with no "On … wrote:" header above it is kept: people quote on
//     purpose ("> you said …"); clients always write a header.
//   - A sign-off ("Thanks,", "Best regards,") stays when it closes the text,
//     but a sign-off followed by a full name and then nothing but blank
//     lines, a contact block or a quote is the client's signature.
//   - Device lines ("Sent from my iPhone") and "-- " signatures go.
func Trim(body string) Reply {
	lines := splitLines(body)
	keep := make([]bool, len(lines))
	for i := range keep {
		keep[i] = true
	}
	fenced := codeFences(lines)

	// A reply written below the quote: skip a leading header and its quote.
	start := firstContent(lines, 0)
	if start < len(lines) {
		if n := quoteHeaderAt(lines, start); n > 0 {
			end := start + n
			for end < len(lines) && (isQuoted(lines[end]) || blank(lines[end])) {
				end++
			}
			if firstContent(lines, end) < len(lines) {
				for i := start; i < end; i++ {
					keep[i] = false
				}
				start = end
			}
		}
	}

	// Cut at the first quote header, original-message block or forward.
	// A header whose quote is followed by new text is an inline reply:
	// the header goes, the quote stays as the context of the answers.
	cut := len(lines)
	for i := start; i < len(lines); i++ {
		if fenced[i] {
			continue
		}
		if n := quoteHeaderAt(lines, i); n > 0 {
			if end, ok := inlineReply(lines, i+n); ok {
				for j := i; j < i+n; j++ {
					keep[j] = false
				}
				i = end - 1
				continue
			}
			cut = i
			break
		}
		if isSeparator(lines[i]) || outlookBlockAt(lines, i) {
			cut = i
			break
		}
	}
	// "-Name" just above a footer rule is the sender's signature.
	if cut < len(lines) && isSeparator(lines[cut]) {
		if p := prevContent(lines, cut, start); p >= start && dashNameRE.MatchString(lines[p]) {
			cut = p
		}
	}
	for i := cut; i < len(lines); i++ {
		keep[i] = false
	}

	// Signatures at the end of what is left.
	if sig := signatureStart(lines[:cut], keep, fenced, start); sig >= 0 {
		for i := sig; i < cut; i++ {
			keep[i] = false
		}
	}
	// Quoted lines left at the very end quote nothing anyone answered.
	last := -1
	for i := range lines {
		if keep[i] && !blank(lines[i]) {
			last = i
		}
	}
	for i := last; i > start && keep[i] && (blank(lines[i]) || trailingQuoteRE.MatchString(lines[i])); i-- {
		if prevContent(lines, i, start) < 0 {
			break
		}
		keep[i] = false
	}

	text, elided := partition(lines, keep)
	if tidyBlock(text) == "" && cut < len(lines) && forwardRE.MatchString(lines[cut]) {
		// A forward with no note: what was forwarded is the message.
		j := cut + 1
		for j < len(lines) && (blank(lines[j]) || headerFieldRE.MatchString(lines[j]) || fieldLineRE.MatchString(lines[j])) {
			j++
		}
		if j < len(lines) {
			r := Trim(strings.Join(lines[j:], "\n"))
			return Reply{Text: r.Text, Elided: tidyBlock(append(lines[:j:j], r.Elided))}
		}
	}
	return Reply{Text: tidyBlock(text), Elided: tidyBlock(elided)}
}

// forwardRE is a separator above forwarded mail, in the languages of
// separatorRE.
var forwardRE = regexp.MustCompile(`(?i)(forward|doorgestuurd|transféré|réexpédié|weitergeleitet|reenviado|encaminhad|inoltrato|пересланное|転送)`)

// trailingQuoteRE matches a quoted line, including supercite's "Name>".
var trailingQuoteRE = regexp.MustCompile(`^\s*[A-Za-z]{0,3}>`)

// inlineReply reports whether the lines from i (just below a quote header)
// are a ">" quote followed by new text, and returns where the quote ends.
func inlineReply(lines []string, i int) (int, bool) {
	j := firstContent(lines, i)
	if j >= len(lines) || !isQuoted(lines[j]) {
		return 0, false
	}
	for j < len(lines) && (isQuoted(lines[j]) || blank(lines[j])) {
		j++
	}
	end := j
	for ; j < len(lines); j++ {
		l := lines[j]
		if blank(l) || trailingQuoteRE.MatchString(l) {
			continue
		}
		if quoteHeaderAt(lines, j) > 0 || isSeparator(l) || outlookBlockAt(lines, j) || delimiterRE.MatchString(l) || deviceLine(l) {
			return 0, false
		}
		return end, true
	}
	return 0, false
}

// partition splits lines into those kept and the others, in order.
func partition(lines []string, keep []bool) (kept, elided []string) {
	for i, l := range lines {
		if keep[i] {
			kept = append(kept, l)
		} else {
			elided = append(elided, l)
		}
	}
	return kept, elided
}

func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.TrimPrefix(s, "\uFEFF")
	return strings.Split(s, "\n")
}

// tidyBlock joins lines, without blank lines at either end or trailing
// white space.
func tidyBlock(lines []string) string {
	for len(lines) > 0 && blank(lines[0]) {
		lines = lines[1:]
	}
	for len(lines) > 0 && blank(lines[len(lines)-1]) {
		lines = lines[:len(lines)-1]
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.Join(out, "\n")
}

func blank(l string) bool {
	return strings.TrimFunc(l, func(r rune) bool { return unicode.IsSpace(r) || r == '\u200b' || r == '\u1427' || r == '\ufeff' }) == ""
}

func firstContent(lines []string, from int) int {
	for from < len(lines) && blank(lines[from]) {
		from++
	}
	return from
}

func isQuoted(l string) bool {
	return strings.HasPrefix(strings.TrimLeft(l, " \t"), ">")
}

// codeFences marks the lines inside ``` fences, which are never trimmed.
func codeFences(lines []string) []bool {
	in := false
	marks := make([]bool, len(lines))
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			marks[i] = true
			in = !in
			continue
		}
		marks[i] = in
	}
	return marks
}

// Quote headers: "On <date>, <name> wrote:" and its translations, which
// clients wrap over several lines. A header names a date or an address, so
// prose that ends in "wrote:" is not taken for one.
var (
	quoteVerbRE = regexp.MustCompile(`(?is)^.{0,300}(\bwrote|\bschrieb|\ba\s+écrit|\bescribió|\bescreveu|\bschreef|\bha\s+scritto|\bnapisał[a]?|написал[а]?|написав|\bskrev|\bkirjoitti|\byazdı|\bnapsal[a]?|\bírta|写道|寫道|さんは書きました)\b?.{0,200}[:：]\s*$`)
	gmailDateRE = regexp.MustCompile(`(?is)^\s*(\d{4}[/-]\d{1,2}[/-]\d{1,2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}).{0,200}<\s*[^<>\s]+@[^<>\s]+\s*>\s*:?\s*$`)
	hasDateRE   = regexp.MustCompile(`\d|@`)
	// headerStartRE is how a header that wraps over lines begins.
	headerStartRE = regexp.MustCompile(`(?i)^\s*>?\s*((on|le|am|el|em|op|il|w dniu|den|dne|at|mon|tue|wed|thu|fri|sat|sun|понедельник|вторник|среда|четверг|пятница|суббота|воскресенье)\b|\d{1,4}[./-]\d{1,2}[./-]\d{1,4}|\d{1,2}\s+\p{L}+\.?\s+\d{4})|<[^>]*@|[\w.+-]+@[\w-]+\.\w`)
	// wordStartRE is a header that begins with a word ("On …"): only such
	// a header may run on across a blank line.
	wordStartRE = regexp.MustCompile(`(?i)^\s*>?\s*(on|le|am|el|em|op|il|w dniu|den|dne|at)\b`)
)

// quoteHeaderAt returns how many lines (up to six, blank ones included)
// from lines[i] make a quote header, or 0.
func quoteHeaderAt(lines []string, i int) int {
	if blank(lines[i]) || len(lines[i]) > 400 {
		return 0
	}
	joined := ""
	parts := 0
	for n := 1; n <= 6 && i+n <= len(lines); n++ {
		l := strings.TrimSpace(lines[i+n-1])
		if n > 1 && isQuoted(l) && !strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(l, ">")), "wrote") {
			return 0
		}
		l = strings.TrimSpace(strings.TrimPrefix(l, ">"))
		if l == "" {
			if !wordStartRE.MatchString(lines[i]) {
				return 0
			}
			continue
		}
		joined = strings.TrimSpace(joined + " " + l)
		parts++
		if len(joined) > 500 || (parts == 2 && !headerStartRE.MatchString(lines[i])) {
			return 0
		}
		// Every header ends in ":" or ">": skip the regular expressions
		// for the many lines that do not.
		if last := joined[len(joined)-1]; last != ':' && last != '>' && !strings.HasSuffix(joined, "：") {
			continue
		}
		if (quoteVerbRE.MatchString(joined) && hasDateRE.MatchString(joined)) || gmailDateRE.MatchString(joined) {
			return n
		}
		// Any language: a line or two that hold an address or a date and
		// time, end in ":", and stand just above a "> " quote.
		if quotedBelow(lines, i+n) && structuralHeaderRE.MatchString(joined) && !sentenceEndRE.MatchString(strings.TrimRight(joined, ":： ")) {
			return n
		}
	}
	return 0
}

// separatorRE matches the lines clients put above old or forwarded mail.
var separatorRE = regexp.MustCompile(`(?i)^\s*>?\s*\**\s*(` +
	`-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|mensagem original|oorspronkelijk bericht|messaggio originale|originalmeddelande|opprinnelig melding|oprindelig meddelelse|wiadomość oryginalna|исходное сообщение)\s*-{2,}` +
	`|-{2,}\s*(forwarded message|doorgestuurd bericht|message transféré|weitergeleitete nachricht|mensaje reenviado|mensagem encaminhada|messaggio inoltrato)\s*-{2,}` +
	`|begin forwarded message:` +
	`|début du message réexpédié\s*:` +
	`|anfang der weitergeleiteten nachricht\s*:` +
	`|_{10,}\s*$` + // Outlook's rule above its header block
	`)`)

// framedRE is a header framed by dashes, as Zoho writes it: "---- On …
// <addr> wrote ----".
var framedRE = regexp.MustCompile(`^\s*>?\s*-{2,}\s*(.{6,300}?)\s*-{2,}\s*$`)

func isSeparator(l string) bool {
	if separatorRE.MatchString(l) {
		return true
	}
	m := framedRE.FindStringSubmatch(l)
	return m != nil && structuralHeaderRE.MatchString(m[1]+":")
}

// structuralHeaderRE is a quote header by its structure, in any language
// and script: an address or a date and time, then a colon at the end.
var structuralHeaderRE = regexp.MustCompile(`(?s)(@[\w-]+\.[\w.-]+|\d{1,2}[:h]\d{2}|\b(19|20)\d{2}\b|\d{4}[年년]).{0,200}[:：]\s*$`)

// quotedBelow reports whether the first line with content from i on is a
// "> " quote.
func quotedBelow(lines []string, i int) bool {
	j := firstContent(lines, i)
	return j < len(lines) && isQuoted(lines[j])
}

// Outlook's header block: "From:", "Sent:", "To:", "Subject:" (or their
// translations) in a run of lines, possibly >-quoted, *bold* or wrapped.
var headerFieldRE = regexp.MustCompile(`(?i)^\s*>?\s*\**\s*(from|von|de|da|van|från|fra|od|от|发件人|寄件者|sent|date|to|cc|subject|reply-to|gesendet|datum|an|betreff|envoyé|à|objet|enviado|fecha|para|asunto|assunto|inviato|data|a|oggetto|verzonden|onderwerp|aan|skickat|ämne|till|sendt|emne|til|wysłano|temat|do|отправлено|дата|кому|тема|发送时间|收件人|主题)\s*\**\s*:`)

var fromWords = map[string]bool{"from": true, "von": true, "de": true, "da": true, "van": true, "från": true, "fra": true, "od": true, "от": true, "发件人": true, "寄件者": true}

func outlookBlockAt(lines []string, i int) bool {
	if !headerFieldRE.MatchString(lines[i]) {
		return fieldBlockAt(lines, i)
	}
	seen := map[string]bool{}
	from := false
	for j := i; j < len(lines) && j <= i+10; j++ {
		m := headerFieldRE.FindStringSubmatch(lines[j])
		if m == nil {
			if blank(lines[j]) || strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(lines[j]), ">")) == "" {
				if len(seen) >= 3 {
					break
				}
				continue
			}
			if j > i && len(seen) > 0 && len(seen) < 3 {
				continue // a wrapped value
			}
			break
		}
		f := strings.ToLower(m[1])
		seen[f] = true
		from = from || fromWords[f]
	}
	return from && len(seen) >= 3
}

// fieldBlockAt reports whether a header block in any language starts at
// lines[i]: three or more "Field: value" lines in a row, one with an
// address and one with a time, as Outlook writes From, Sent, To and
// Subject in the reader's language.
func fieldBlockAt(lines []string, i int) bool {
	if !hasFieldColon(lines[i]) {
		return false
	}
	n, addr, when := 0, false, false
	for j := i; j < len(lines) && j < i+8 && fieldLineRE.MatchString(lines[j]); j++ {
		n++
		addr = addr || fieldAddrRE.MatchString(lines[j])
		when = when || timeRE.MatchString(lines[j])
	}
	return n >= 3 && addr && when
}

// hasFieldColon reports whether l has a colon where a field's would be:
// a cheap test before fieldLineRE.
func hasFieldColon(l string) bool {
	if len(l) > 120 {
		l = l[:120]
	}
	return strings.ContainsAny(l, ":：")
}

var timeRE = regexp.MustCompile(`\d{1,2}[:h]\d{2}|\b(19|20)\d{2}\b`)

// Signatures.
var (
	delimiterRE = regexp.MustCompile(`^\s*(--|—|-- |[_=*#~+\-]{3,}|_{2,}|\x{1427})\s*$`)
	deviceRE    = regexp.MustCompile(`(?i)^\s*[(<]*\s*(` +
		`sent (from|with|via|using|by) .{0,80}` +
		`|get outlook for .{0,40}` +
		`|via mobile|from my (iphone|ipad|android|mobile|phone).{0,40}` +
		`|envoyé (de|depuis) (mon|ma) .{0,60}` +
		`|von meinem .{0,60} gesendet.{0,60}` +
		`|gesendet (von|mit) .{0,60}` +
		`|verstuurd (vanaf|van|met) (mijn )?.{0,60}` +
		`|verzonden (vanaf|van|met) .{0,60}` +
		`|enviado (desde|de|do|con) (mi|meu|o)? ?.{0,60}` +
		`|inviato da(l)? .{0,60}` +
		`|skickat från .{0,60}` +
		`|sendt fra .{0,60}` +
		`|wysłane z .{0,60}` +
		`|отправлено с .{0,60}` +
		`|(發自|发自|從)我的.{0,40}` +
		`)\s*[)>]*\s*$`)
	deviceishRE = regexp.MustCompile(`(?i)(sent|gesendet|envoyé|verstuurd|enviado|mobile|iphone|ipad|android|galaxy|phone|blackberry|mail\b)`)
	signOffRE   = regexp.MustCompile(`(?i)^\s*(` +
		`(best|kind|warm|warmest|many)?\s*(regards|wishes|greetings)` +
		`|thanks|thank you|many thanks|thanks again|thx|cheers|sincerely|yours|yours truly|yours sincerely|cordially|best|all the best|take care|love` +
		`|groetjes|groet|met vriendelijke groet(en)?|vriendelijke groet(en)?|hartelijke groet(en)?` +
		`|mit freundlichen grüßen|freundliche grüße|viele grüße|liebe grüße|beste grüße|grüße|lg|mfg` +
		`|cordialement|bien à vous|amicalement|bisous|bien cordialement` +
		`|saludos|un saludo|atentamente|abrazos` +
		`|abraços|atenciosamente|cumprimentos|beijos` +
		`)\s*[,!.]?\s*$`)
	nameRE     = regexp.MustCompile(`^\s*\p{Lu}[\p{L}.'’-]*(\s+\p{L}[\p{L}.'’-]*){1,3}\s*$`)
	dashNameRE = regexp.MustCompile(`^\s*[-–—]\p{Lu}[\p{L}.'-]*(\s+\p{Lu}[\p{L}.'-]*){0,3}\s*$`)
)

// deviceLine reports whether l is a line a mail app adds below the text:
// "Sent from my iPhone" in any of many languages, or any short line that
// names a device or a mail app and is not a sentence. "Sent from my desk,
// which is easier" is a sentence, and stays.
func deviceLine(l string) bool {
	t := strings.TrimSpace(l)
	if t == "" || len(t) > 240 || utf8.RuneCountInString(t) > 80 || len(strings.Fields(t)) > 12 || sentenceLikeRE.MatchString(t) {
		return false
	}
	if deviceRE.MatchString(t) {
		return true
	}
	return len(strings.Fields(t)) <= 7 && deviceNameRE.MatchString(t)
}

var (
	// A sentence: a comma with words after it, or an end mark.
	sentenceLikeRE = regexp.MustCompile(`,\s+\p{L}.*\p{L}|[.!?。！？]\s*$`)
	deviceNameRE   = regexp.MustCompile(`(?i)(iphon|ipad|android|galaxy|blackberry|samsung|huawei|xiaomi|pixel|outlook for|yahoo mail|aol app|gmail app|proton ?mail|spark|airmail|\bmobile\b|smartphone|\bhandy\b|tablet)`)
)

// signatureStart returns the first line of the signature in lines (those
// kept from start on), or -1.
func signatureStart(lines []string, keep, fenced []bool, start int) int {
	content := -1 // the first content line
	for i := start; i < len(lines); i++ {
		if keep[i] && !blank(lines[i]) {
			content = i
			break
		}
	}
	if content < 0 {
		return -1
	}
	for i := content; i < len(lines); i++ {
		if !keep[i] || fenced[i] {
			continue
		}
		l := lines[i]
		switch {
		case delimiterRE.MatchString(l):
			if i == content && strings.Trim(strings.TrimSpace(l), "-") != "" {
				continue // a rule above the text, not a signature below it
			}
			// "-Name" just above a footer rule is the sender's signature.
			if p := prevContent(lines, i, content); p > content && dashNameRE.MatchString(lines[p]) {
				return p
			}
			return i
		case deviceLine(l) && deviceRest(lines, i+1):
			// A name line just above "via mobile" belongs to it.
			if i-1 > content && !blank(lines[i-1]) && nameRE.MatchString(lines[i-1]) && len(strings.TrimSpace(lines[i-1])) < 40 {
				return i - 1
			}
			return i
		}
	}
	// A closing block after a blank line: contact details, or a sign-off
	// with a full name (a first name alone is typed, and kept). Contact
	// blocks often run over several paragraphs (name, logo, address,
	// numbers, disclaimer): take each paragraph that has a contact detail
	// or is a sign-off, from the bottom up, and stop at the first that is
	// neither.
	found := -1
	end := len(lines)
	for i := len(lines) - 1; i >= content; i-- {
		if blank(lines[i]) || (i > content && !blank(lines[i-1])) {
			continue
		}
		para := lines[i:end]
		if !(signOffBlock(para) || (signatureParagraph(para) && hasContact(para))) {
			break
		}
		found, end = i, i
	}
	if found >= 0 && !(contactBlock(lines[found:]) || signOffBlock(lines[found:])) {
		return -1
	}
	if found >= 0 {
		// A sign-off right above a contact block goes with it.
		if p := prevParagraph(lines, found, content); p >= 0 && signOffBlock(lines[p:found]) {
			return p
		}
	}
	return found
}

func hasContact(lines []string) bool {
	for _, l := range lines {
		if contactRE.MatchString(l) {
			return true
		}
	}
	return false
}

// signatureParagraph reports whether a paragraph can belong to a contact
// block: short lines that are not sentences.
func signatureParagraph(lines []string) bool {
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || contactRE.MatchString(t) {
			continue
		}
		if utf8.RuneCountInString(t) > 50 || strings.HasSuffix(t, ".") || strings.HasSuffix(t, "?") || strings.HasSuffix(t, "!") || isQuoted(t) {
			return false
		}
	}
	return true
}

// prevContent returns the last non-blank line above i, down to floor.
func prevContent(lines []string, i, floor int) int {
	for j := i - 1; j >= floor; j-- {
		if !blank(lines[j]) {
			return j
		}
	}
	return -1
}

// prevParagraph returns the first line of the paragraph above line i.
func prevParagraph(lines []string, i, floor int) int {
	j := prevContent(lines, i, floor)
	if j < 0 {
		return -1
	}
	for j > floor && !blank(lines[j-1]) {
		j--
	}
	return j
}

// signOffBlock reports whether lines are a sign-off and a full name:
// "Best regards,\nRobert Mean".
func signOffBlock(lines []string) bool {
	ls := lines
	for len(ls) > 0 && blank(ls[len(ls)-1]) {
		ls = ls[:len(ls)-1]
	}
	// The name right below the sign-off: with a blank line between, the
	// name is typed ("Best regards\n\nSome One") and kept.
	if len(ls) < 2 || len(ls) > 3 || !signOffRE.MatchString(ls[0]) {
		return false
	}
	for _, l := range ls[1:] {
		if !nameRE.MatchString(l) || len(strings.TrimSpace(l)) > 40 {
			return false
		}
	}
	return true
}

// deviceRest reports whether the lines after a device line are signature
// too: a few lines, or mostly more device lines.
func deviceRest(lines []string, from int) bool {
	var n, device int
	for _, l := range lines[from:] {
		if blank(l) {
			continue
		}
		n++
		if deviceishRE.MatchString(l) {
			device++
		}
	}
	return n <= 6 || device*2 >= n
}

var contactRE = regexp.MustCompile(`(?i)(\b(tel|phone|mobile|mob|fax|cell|t|m|f)\s*[.:]\s*\+?[\d(]` +
	`|\+\d[\d ()-]{7,}` +
	`|www\.|https?://` +
	`|[\w.+-]+@[\w-]+\.[\w.]+` +
	`|\[image:` +
	`|\b(kvk|btw|iban|vat|reg\.? no)\b` +
	`|\b\d{4}\s?[A-Z]{2}\b|\b[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}\b|\b[A-Z]{2} \d{5}\b` + // postcodes
	`|confidential|intended (solely )?for the|privileged` +
	`)`)

// contactBlock reports whether lines (a closing block) are a contact
// signature: most lines are contact details.
func contactBlock(lines []string) bool {
	var n, hits int
	for _, l := range lines {
		if blank(l) {
			continue
		}
		n++
		if contactRE.MatchString(l) {
			hits++
		}
	}
	return n >= 2 && hits*2 >= n && signatureParagraph(lines)
}
