package mailin

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/inwriting/inwriting/agreements"
)

// readConfirmation reads a reply to a "please confirm": an explicit,
// unqualified agreement or refusal, else a comment (unsure when it is short
// and close to agreement). A false "agree" is the worst mistake this
// service can make, so agreement is read only from a short list of
// explicit, unqualified phrasings in English, French, German, Spanish,
// Dutch and Portuguese (or a lone 👍); anything qualified, negated or asked
// is a comment.
func readConfirmation(text string) agreements.Intent {
	t := strings.TrimSpace(text)
	first := firstLine(t)
	norm := normalizePhrase(first)
	rest := t[len(first):]
	switch {
	case agreePhrases[norm] && closingOnly(rest):
		return agreements.Intent{Kind: agreements.IntentAgree}
	case declinePhrases[norm] && closingOnly(rest):
		return agreements.Intent{Kind: agreements.IntentDecline}
	}
	return agreements.Intent{Kind: agreements.IntentComment, Unsure: unsure(text)}
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

// withoutClosing returns text without the closing at its end ("Thanks,
// Alice"), which is not part of what it says: the lines after the last
// blank line, or from a thank-you or sign-off on, when they are a closing
// and nothing else.
func withoutClosing(text string) string {
	lines := strings.Split(strings.TrimRight(text, " \t\n"), "\n")
	cut := len(lines)
	for i := len(lines) - 1; i > 0; i-- {
		if !closingOnly(strings.Join(lines[i:], "\n")) {
			break
		}
		t := strings.TrimSpace(lines[i])
		if strings.TrimSpace(lines[i-1]) == "" || signOffRE.MatchString(t) || closingRE.MatchString(t) {
			cut = i
		}
	}
	return strings.TrimRight(strings.Join(lines[:cut], "\n"), " \t\n")
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

func firstLine(t string) string {
	if i := strings.IndexByte(t, '\n'); i >= 0 {
		return t[:i]
	}
	return t
}
