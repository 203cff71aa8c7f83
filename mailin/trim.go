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
	cut := len(lines)
	for i := start; i < len(lines); i++ {
		if fenced[i] {
			continue
		}
		if quoteHeaderAt(lines, i) > 0 || isSeparator(lines[i]) || outlookBlockAt(lines, i) {
			cut = i
			break
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

	var text, elided []string
	for i, l := range lines {
		if keep[i] {
			text = append(text, l)
		} else {
			elided = append(elided, l)
		}
	}
	return Reply{Text: tidyBlock(text), Elided: tidyBlock(elided)}
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
// clients wrap over several lines.
var quoteHeaderRE = regexp.MustCompile(`(?is)^\s*>?\s*(` +
	`on\b.{1,300}\bwrote\s*:` + // English
	`|le\b.{1,300}\ba\s+écrit\s*:` + // French
	`|am\b.{1,300}\bschrieb.{0,200}:` + // German
	`|el\b.{1,300}\bescribió\s*:` + // Spanish
	`|em\b.{1,300}\bescreveu\s*:` + // Portuguese
	`|op\b.{1,300}\bschreef.{0,200}:` + // Dutch
	`|il\b.{1,300}\bha\s+scritto\s*:` + // Italian
	`|w\s+dniu\b.{1,300}\bnapisał.{0,40}:` + // Polish
	`|.{1,300}\b(пользователь|написал|написала|пише|писал)\b.{0,200}:` + // Russian, Ukrainian
	`|den\b.{1,300}\bskrev.{0,200}:` + // Danish, Norwegian, Swedish
	`|.{1,300}\bskrev\b.{0,200}:` + // Swedish "mån 6 dec. 2018 kl 13:30 skrev …:"
	`|.{1,300}(写道|寫道)\s*[:：]` + // Chinese
	`|\d{4}/\d{1,2}/\d{1,2}\s.{1,200}<[^>]*@[^>]*>` + // Gmail's "2013/11/1 John Smith <john@smith.org>"
	`)\s*$`)

// quoteHeaderAt returns how many lines (up to four) from lines[i] make a
// quote header, or 0.
func quoteHeaderAt(lines []string, i int) int {
	if blank(lines[i]) || len(lines[i]) > 400 {
		return 0
	}
	joined := ""
	for n := 1; n <= 4 && i+n <= len(lines); n++ {
		l := lines[i+n-1]
		if n > 1 && blank(l) {
			return 0
		}
		joined = strings.TrimSpace(joined + " " + strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), ">")))
		if quoteHeaderRE.MatchString(joined) {
			// A header ends the text above it: what follows must look like
			// quoted mail, not more prose ("… John Smith wrote me this
			// message" is prose).
			return n
		}
	}
	return 0
}

// separatorRE matches the lines clients put above old or forwarded mail.
var separatorRE = regexp.MustCompile(`(?i)^\s*(` +
	`-{2,}\s*(original message|ursprüngliche nachricht|message d'origine|mensaje original|mensagem original|oorspronkelijk bericht|messaggio originale|originalmeddelande|opprinnelig melding|oprindelig meddelelse|wiadomość oryginalna|исходное сообщение)\s*-{2,}` +
	`|-{2,}\s*(forwarded message|doorgestuurd bericht|message transféré|weitergeleitete nachricht|mensaje reenviado|mensagem encaminhada|messaggio inoltrato)\s*-{2,}` +
	`|begin forwarded message:` +
	`|début du message réexpédié\s*:` +
	`|anfang der weitergeleiteten nachricht\s*:` +
	`|_{10,}\s*$` + // Outlook's rule above its header block
	`)`)

func isSeparator(l string) bool { return separatorRE.MatchString(l) }

// Outlook's header block: "From: …" then "Sent:", "To:", "Subject:" (or
// their translations), possibly with blank lines or *bold* marks between.
var (
	fromFieldRE  = regexp.MustCompile(`(?i)^\s*[>*]*\s*\**(from|von|de|da|van|från|fra|od|от|发件人|寄件者)\s*:?\**\s*:`)
	otherFieldRE = regexp.MustCompile(`(?i)^\s*[>*]*\s*\**(sent|date|to|cc|subject|reply-to|gesendet|datum|an|betreff|envoyé|date|à|objet|enviado|fecha|para|asunto|assunto|inviato|data|a|oggetto|verzonden|onderwerp|aan|skickat|ämne|till|sendt|emne|til|wysłano|temat|do|отправлено|дата|кому|тема|发送时间|收件人|主题)\s*:?\**\s*:`)
)

func outlookBlockAt(lines []string, i int) bool {
	if !fromFieldRE.MatchString(lines[i]) {
		return false
	}
	fields := 0
	for j := i + 1; j < len(lines) && j <= i+8; j++ {
		if blank(lines[j]) {
			continue
		}
		if otherFieldRE.MatchString(lines[j]) {
			fields++
			if fields >= 2 {
				return true
			}
			continue
		}
		// A wrapped value of the previous field.
		if fields == 0 && j == i+1 {
			continue
		}
		break
	}
	return false
}

// Signatures.
var (
	delimiterRE = regexp.MustCompile(`^\s*(--|—|-- |[_=*#~+\-]{3,}|_{2,})\s*$`)
	deviceRE    = regexp.MustCompile(`(?i)^\s*(` +
		`sent (from|with|via|using) .{0,80}` +
		`|get outlook for .{0,40}` +
		`|envoyé (de|depuis) (mon|ma) .{0,60}` +
		`|von meinem .{0,60} gesendet` +
		`|gesendet von .{0,60}` +
		`|verstuurd (vanaf|van) mijn .{0,60}` +
		`|verzonden (vanaf|van|met) .{0,60}` +
		`|enviado (desde|de|do) (mi|meu|o) .{0,60}` +
		`|inviato da(l)? .{0,60}` +
		`|skickat från .{0,60}` +
		`|sendt fra .{0,60}` +
		`|wysłane z .{0,60}` +
		`|отправлено с .{0,60}` +
		`|(發自|发自|從)我的.{0,40}` +
		`|.{0,40}(iphone|ipad|android|blackberry|mobile|galaxy)\s*에서 보냄` +
		`)\s*$`)
	signOffRE = regexp.MustCompile(`(?i)^\s*(best|kind|warm|warmest)?\s*(regards|wishes)\s*[,!.]?\s*$` +
		`|^(?i)\s*(thanks|thank you|thx|cheers|sincerely|yours|yours truly|cordially|best|all the best|groetjes|met vriendelijke groet(en)?|vriendelijke groet(en)?|mit freundlichen grüßen|viele grüße|liebe grüße|grüße|cordialement|bien à vous|amicalement|saludos|un saludo|atentamente|abraços|atenciosamente|cumprimentos)\s*[,!.]?\s*$`)
	dashNameRE = regexp.MustCompile(`^\s*[-–—]\s*\p{Lu}[\p{L}.'-]*(\s+\p{Lu}[\p{L}.'-]*){0,3}\s*$`)
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
		case delimiterRE.MatchString(l) && i > content:
			return i
		case deviceRE.MatchString(l) && restIsSignature(lines, i+1):
			return i
		case dashNameRE.MatchString(l) && i > content && restIsSignature(lines, i+1):
			return i
		}
	}
	// A closing block (sign-off with a full name, contact details) after
	// a blank line.
	last := -1
	for i := len(lines) - 1; i > content; i-- {
		if blank(lines[i]) && !blank(lines[i-1]) {
			last = i + 1
			if contactBlock(lines[last:]) {
				for last > content+1 && blank(lines[last-1]) {
					last--
				}
				// The block before may be a sign-off with a name.
				return last
			}
		}
	}
	return -1
}

// restIsSignature reports whether lines hold nothing but a short
// signature: at most six non-blank lines.
func restIsSignature(lines []string, from int) bool {
	n := 0
	for _, l := range lines[from:] {
		if !blank(l) {
			n++
		}
	}
	return n <= 6
}

var contactRE = regexp.MustCompile(`(?i)(\b(tel|phone|mobile|mob|fax|cell|t|m|f)\s*[.:]\s*\+?[\d(]` +
	`|\+\d[\d ()-]{7,}` +
	`|www\.|https?://` +
	`|[\w.+-]+@[\w-]+\.[\w.]+` +
	`|\[image:` +
	`|\b(kvk|btw|iban|vat|reg\.? no)\b` +
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
	return n >= 2 && hits*2 >= n
}

// utf8Valid is here for the fuzz tests' benefit.
var _ = utf8.ValidString
