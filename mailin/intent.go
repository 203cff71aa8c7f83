package mailin

import (
	"regexp"
	"strings"
	"time"
	"unicode"
)

// IntentKind is what a reply means.
type IntentKind string

// The kinds of intent.
const (
	Agree   IntentKind = "agree"   // an explicit, unqualified confirmation
	Decline IntentKind = "decline" // an explicit refusal of the agreement
	Command IntentKind = "command" // pause, resume, stop, history, help, fix, unsubscribe
	CheckIn IntentKind = "checkin" // an answer to a check-in
	Comment IntentKind = "comment" // anything else
)

// Expect says what the mail being answered asked for.
type Expect int

// What a reply may answer.
const (
	ExpectConfirmation Expect = iota // a "please confirm" or its reminder
	ExpectCheckIn                    // a check-in
	ExpectNothing                    // any other mail: only commands mean something
)

// Intent is what ReadIntent read from a reply.
type Intent struct {
	Kind IntentKind

	// Unsure marks a comment that is short and close to agreement ("yes",
	// "ok", "agree?"): the service asks instead of guessing.
	Unsure bool

	// For a command.
	Command string    // pause, resume, stop, history, help, fix, unsubscribe
	Until   time.Time // pause until this day (UTC midnight); zero for none
	Fix     string    // the correction after "fix:"

	// For a check-in answer.
	CheckIn *CheckInAnswer
}

// ReadIntent reads the intent of text, a trimmed reply. A false "agree" is
// the worst mistake this service can make, so agreement is read only from
// a short list of explicit, unqualified phrasings in English, French,
// German, Spanish, Dutch and Portuguese (or a lone 👍); anything qualified,
// negated or asked is a comment.
func ReadIntent(text string, expect Expect, commitments []string) Intent {
	if in, ok := readCommand(text); ok {
		return in
	}
	switch expect {
	case ExpectCheckIn:
		a := ParseCheckIn(text, commitments)
		return Intent{Kind: CheckIn, CheckIn: &a}
	case ExpectNothing:
		return Intent{Kind: Comment}
	}
	t := strings.TrimSpace(text)
	first := firstLine(t)
	norm := normalizePhrase(first)
	rest := t[len(first):]
	switch {
	case agreePhrases[norm] && closingOnly(rest):
		return Intent{Kind: Agree}
	case declinePhrases[norm] && closingOnly(rest):
		return Intent{Kind: Decline}
	}
	return Intent{Kind: Comment, Unsure: unsure(text)}
}

// agreePhrases are the explicit confirmations, normalized: lowercase,
// single spaces, no final punctuation.
var agreePhrases = setOf(
	// English
	"i agree", "agreed", "agree", "yes i agree", "yes, i agree", "yes. i agree", "i agree to this", "i agree with this",
	"i agree to the agreement", "i agree with the agreement", "i agree to these terms", "i confirm", "confirmed", "i accept", "accepted",
	"yes, agreed", "yes agreed", "i agree 100%", "i fully agree", "i completely agree", "👍", "👍🏻", "👍🏼", "👍🏽", "👍🏾", "👍🏿", "i agree 👍", "agreed 👍",
	// French
	"je suis d'accord", "d'accord", "oui, je suis d'accord", "oui je suis d'accord", "j'accepte", "je confirme", "accepté", "oui, d'accord",
	"je suis d’accord", "d’accord", "oui, je suis d’accord",
	// German
	"ich stimme zu", "einverstanden", "ja, ich stimme zu", "ja ich stimme zu", "ich bin einverstanden", "ja, ich bin einverstanden",
	"ich akzeptiere", "ich bestätige", "zugestimmt", "ja, einverstanden",
	// Spanish
	"estoy de acuerdo", "de acuerdo", "sí, estoy de acuerdo", "si, estoy de acuerdo", "acepto", "confirmo", "sí, acepto", "sí, de acuerdo",
	// Dutch
	"ik ga akkoord", "akkoord", "ja, ik ga akkoord", "ja ik ga akkoord", "ik ben het ermee eens", "ik ben akkoord", "ik stem in",
	"ik accepteer", "ik bevestig", "ja, akkoord", "mee eens", "ik ben het eens",
	// Portuguese
	"eu concordo", "concordo", "sim, concordo", "sim, eu concordo", "de acordo", "estou de acordo", "aceito", "eu aceito", "sim, aceito",
)

// declinePhrases are the explicit refusals.
var declinePhrases = setOf(
	"i decline", "decline", "declined", "i refuse", "no, i decline", "i reject this agreement", "i do not accept this agreement",
	"je refuse", "je décline", "non, je refuse",
	"ich lehne ab", "abgelehnt", "nein, ich lehne ab",
	"rechazo", "no acepto", "lo rechazo",
	"ik weiger", "ik wijs het af", "afgewezen", "nee, ik weiger",
	"recuso", "eu recuso", "não aceito",
)

func setOf(ss ...string) map[string]bool {
	m := map[string]bool{}
	for _, s := range ss {
		m[normalizePhrase(s)] = true
	}
	return m
}

// normalizePhrase lowercases s, folds white space and typographic
// apostrophes, and drops final punctuation, so "I agree!" reads as "i
// agree". A question mark is kept: "agree?" asks, it does not agree.
func normalizePhrase(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	s = strings.ReplaceAll(s, "’", "'")
	s = strings.TrimRight(s, ".!…")
	return strings.TrimSpace(s)
}

// closingOnly reports whether rest, what follows the first line, is only
// a closing: thanks, a sign-off, a name.
func closingOnly(rest string) bool {
	for _, l := range strings.Split(rest, "\n") {
		t := strings.TrimSpace(l)
		if t == "" || signOffRE.MatchString(t) || closingRE.MatchString(t) {
			continue
		}
		if nameRE.MatchString(t) || singleNameRE.MatchString(t) {
			continue
		}
		return false
	}
	return true
}

var (
	closingRE    = regexp.MustCompile(`(?i)^(thanks|thank you|merci|danke|gracias|bedankt|dank je|obrigad[oa]|xx?x?|x|love,?|❤️|♥️|🙂|😊)[,!.]*$`)
	singleNameRE = regexp.MustCompile(`^\p{Lu}[\p{L}.'’-]*$`)
)

// agreeishRE finds words that lean towards agreeing.
var agreeishRE = regexp.MustCompile(`(?i)(agree|agreed|\byes\b|\byeah\b|\byep\b|\bok\b|\bokay\b|\bsure\b|\bfine\b|accept|confirm|d'accord|d’accord|\boui\b|einverstanden|zustimm|stimme|\bja\b|acuerdo|acepto|\bsí\b|\bsi\b|akkoord|eens|concord|acordo|aceito|\bsim\b|👍|✅|✔)`)

// negationRE finds words that negate or qualify.
var negationRE = regexp.MustCompile(`(?i)(\bnot\b|n't|\bno\b|\bnever\b|disagree|\bpas\b|\bnon\b|\bnicht\b|\bkein|\bnein\b|\bniet\b|\bgeen\b|\bnee\b|\bnão\b|\bnao\b|\bnunca\b|👎)`)

// unsure reports whether a comment is short and close to agreement, so
// that the service should ask: "yes", "ok", "agree?", "yes but…", "I'd
// agree if…". A clear "no" is not unsure: it is a comment.
func unsure(text string) bool {
	t := strings.TrimSpace(text)
	words := len(strings.FieldsFunc(t, func(r rune) bool { return unicode.IsSpace(r) }))
	if words == 0 || words > 15 || len(t) > 120 {
		return false
	}
	return agreeishRE.MatchString(t) && !negationRE.MatchString(t)
}

// Commands by reply (design F4).
var (
	commandRE = regexp.MustCompile(`(?i)^\s*(pause|resume|stop|history|help|unsubscribe)\s*[.!]?\s*$`)
	pauseRE   = regexp.MustCompile(`(?i)^\s*pause\s+(until|till|til|to)\s+(.+?)\s*[.!]?\s*$`)
	fixRE     = regexp.MustCompile(`(?is)^\s*fix\s*:\s*(.*\S)\s*$`)
)

func readCommand(text string) (Intent, bool) {
	t := strings.TrimSpace(text)
	if m := fixRE.FindStringSubmatch(t); m != nil {
		return Intent{Kind: Command, Command: "fix", Fix: m[1]}, true
	}
	first := firstLine(t)
	if strings.TrimSpace(strings.TrimPrefix(t, first)) != "" && !closingOnly(strings.TrimPrefix(t, first)) {
		return Intent{}, false
	}
	if m := pauseRE.FindStringSubmatch(first); m != nil {
		if d, ok := parseDay(m[2]); ok {
			return Intent{Kind: Command, Command: "pause", Until: d}, true
		}
		return Intent{}, false
	}
	if m := commandRE.FindStringSubmatch(first); m != nil {
		return Intent{Kind: Command, Command: strings.ToLower(m[1])}, true
	}
	return Intent{}, false
}

func firstLine(t string) string {
	if i := strings.IndexByte(t, '\n'); i >= 0 {
		return t[:i]
	}
	return t
}

// parseDay reads a day: 2027-01-10, 10 January 2027, January 10, 2027,
// 10/01/2027 is refused as ambiguous.
func parseDay(s string) (time.Time, bool) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "."))
	for _, layout := range []string{"2006-01-02", "2 January 2006", "January 2, 2006", "January 2 2006", "2 Jan 2006", "Jan 2, 2006", "Jan 2 2006", "2006/01/02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
