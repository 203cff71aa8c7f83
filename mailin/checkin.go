package mailin

import (
	"regexp"
	"strconv"
	"strings"
)

// Status is how a commitment went.
type Status string

// The statuses of a commitment in a check-in.
const (
	Kept   Status = "kept"
	Partly Status = "partly"
	Missed Status = "missed"
)

// CheckInAnswer is what a reply to a check-in says. Whatever could not be
// read stays in Text, which is always the whole trimmed reply: nothing is
// invented.
type CheckInAnswer struct {
	Statuses      map[int]Status // by commitment number, from 1
	PositiveOther string         // one positive thing about the other person
	PositiveSelf  string         // one positive thing about oneself
	WentWrong     string         // anything that went wrong, to talk about
	Text          string
}

var (
	keptWords   = `kept|done|yes|yep|did it|did|ok|okay|good|fine|great|✓|✔|✔️|✅|behouden|gehouden|gedaan|gehalten|erledigt|tenu|fait|cumplido|hecho|cumprido|feito`
	partlyWords = `partly|partially|part|somewhat|half|mostly|sort of|kind of|~|more or less|gedeeltelijk|teilweise|en partie|partiellement|parcialmente|em parte`
	missedWords = `missed|miss|no|nope|not|didn't|did not|failed|forgot|✗|✘|❌|x|gemist|niet|verpasst|nicht|manqué|raté|no cumplido|falhei|não`

	statusWord = `(` + keptWords + `|` + partlyWords + `|` + missedWords + `)`
	// "1 kept", "1: yes", "#2 - partly", "3) missed", "1. kept"
	numberedRE = regexp.MustCompile(`(?i)(?:^|[\s,;])#?(\d{1,2})\s*[:.)\-–=]?\s*` + statusWord + `(?:[\s,;.!]|$)`)
	allRE      = regexp.MustCompile(`(?i)^\s*(?:all|everything|both|all of them|all commitments)\s*(?:were\s+|was\s+)?` + statusWord + `\b`)
	ordinalRE  = regexp.MustCompile(`(?i)\b` + statusWord + `\s+(?:the\s+|my\s+)?(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\b|\b(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\s+(?:one|commitment|point)?\s*(?:was\s+|is\s+|:\s*|-\s*)?` + statusWord + `\b`)

	partlyRE = regexp.MustCompile(`(?i)^(` + partlyWords + `)$`)
	missedRE = regexp.MustCompile(`(?i)^(` + missedWords + `)$`)

	// Headings of the check-in prompts, and their short forms.
	positiveOtherRE = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:something\s+|one\s+)?(?:positive|good|nice|thanks?|appreciat\w*|grateful)(?:\s+thing)?\s+(?:about|for|from|to)\s+(?:the other person|them|him|her|you|my partner|\p{Lu}\p{L}*)\s*:\s*(.*)$`)
	positiveSelfRE  = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:something\s+|one\s+)?(?:positive|good|nice|proud)(?:\s+thing)?\s+(?:about|of)\s+(?:myself|me|yourself|self)\s*:\s*(.*)$`)
	wentWrongRE     = regexp.MustCompile(`(?i)^\s*(?:[-*•]\s*)?(?:anything\s+(?:that\s+)?)?(?:went wrong|what went wrong|wrong|to talk about|talk about|problems?|issues?|concerns?)(?:\s+to talk about)?\s*:\s*(.*)$`)
	headingLikeRE   = regexp.MustCompile(`^\s*(?:[-*•]\s*)?[\p{L} ]{3,60}:\s*`)
)

// ParseCheckIn reads a check-in answer from text: per-commitment statuses
// by number ("1 kept, 2 partly", "1: yes"), for all ("all kept"), by
// ordinal ("missed the second one") or by quoting the commitment ("call
// before 18:00: kept"); and the three prompts by their headings.
func ParseCheckIn(text string, commitments []string) CheckInAnswer {
	a := CheckInAnswer{Statuses: map[int]Status{}, Text: strings.TrimSpace(text)}
	n := len(commitments)
	set := func(i int, st Status) {
		if i >= 1 && (n == 0 || i <= n) {
			if _, ok := a.Statuses[i]; !ok {
				a.Statuses[i] = st
			}
		}
	}
	var section *string
	lines := strings.Split(a.Text, "\n")
	for _, line := range lines {
		l := strings.TrimSpace(line)
		if l == "" {
			continue
		}
		if m := positiveSelfRE.FindStringSubmatch(l); m != nil {
			section = &a.PositiveSelf
			appendText(section, m[1])
			continue
		}
		if m := positiveOtherRE.FindStringSubmatch(l); m != nil {
			section = &a.PositiveOther
			appendText(section, m[1])
			continue
		}
		if m := wentWrongRE.FindStringSubmatch(l); m != nil {
			section = &a.WentWrong
			appendText(section, m[1])
			continue
		}
		found := false
		if m := allRE.FindStringSubmatch(l); m != nil && n > 0 {
			st := statusOf(m[1])
			for i := 1; i <= n; i++ {
				set(i, st)
			}
			found = true
		}
		// Matches may share the separator between them ("#1 done #2 no"):
		// each search starts where the last status word ended.
		for pos := 0; pos < len(l); {
			m := numberedRE.FindStringSubmatchIndex(l[pos:])
			if m == nil {
				break
			}
			i, _ := strconv.Atoi(l[pos+m[2] : pos+m[3]])
			set(i, statusOf(l[pos+m[4]:pos+m[5]]))
			found = true
			pos += m[5]
		}
		for _, m := range ordinalRE.FindAllStringSubmatch(l, -1) {
			if m[1] != "" {
				set(ordinal(m[2]), statusOf(m[1]))
			} else {
				set(ordinal(m[3]), statusOf(m[4]))
			}
			found = true
		}
		for i, c := range commitments {
			if st, ok := quotedStatus(l, c); ok {
				set(i+1, st)
				found = true
			}
		}
		if found {
			section = nil
			continue
		}
		if section != nil {
			if headingLikeRE.MatchString(l) && !strings.Contains(l, " ") {
				section = nil
				continue
			}
			appendText(section, l)
		}
	}
	return a
}

func appendText(dst *string, s string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return
	}
	if *dst != "" {
		*dst += "\n"
	}
	*dst += s
}

func statusOf(word string) Status {
	w := strings.ToLower(strings.TrimSpace(word))
	switch {
	case partlyRE.MatchString(w):
		return Partly
	case missedRE.MatchString(w):
		return Missed
	}
	return Kept
}

func ordinal(s string) int {
	switch strings.ToLower(s) {
	case "first", "1st":
		return 1
	case "second", "2nd":
		return 2
	case "third", "3rd":
		return 3
	case "fourth", "4th":
		return 4
	case "fifth", "5th":
		return 5
	}
	return 0
}

var quotedStatusRE = regexp.MustCompile(`(?i)[:\-–=]\s*` + statusWord + `\s*[.!]?\s*$`)

// quotedStatus reads "<the commitment's first words>: kept".
func quotedStatus(line, commitment string) (Status, bool) {
	m := quotedStatusRE.FindStringSubmatchIndex(line)
	if m == nil {
		return "", false
	}
	head := strings.ToLower(strings.TrimSpace(line[:m[0]]))
	words := strings.Fields(strings.ToLower(commitment))
	if len(head) < 6 || len(words) == 0 {
		return "", false
	}
	if !strings.HasPrefix(strings.ToLower(commitment), head) && !strings.Contains(strings.ToLower(commitment), head) {
		return "", false
	}
	return statusOf(line[m[2]:m[3]]), true
}
