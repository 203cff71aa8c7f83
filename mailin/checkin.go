package mailin

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"

	"github.com/inwriting/inwriting/agreements"
)

// CheckInContext is what a check-in answer is read against: the writer's
// own commitments, in order, and the other people's first names.
type CheckInContext struct {
	Commitments []string
	Others      []string
}

// Status words. The strong ones say how a commitment went by themselves;
// the weak ones ("yes", "ok", "no") only next to a commitment's number or
// in a list of answers in order.
var (
	keptStrong   = `kept|kept it|done|did it|managed|achieved|✓|✔|✔️|✅|gehouden|gedaan|gehalten|erledigt|geschafft|tenus|tenues|tenu|fait|réussi|cumplidos|cumplidas|cumplido|hechos|hecho|cumpridos|cumprido|cumpri|feitos|feito`
	keptWeak     = `yes|yep|yeah|ok|okay|good|fine|great|did|oui|ja|sí|si|sim`
	partlyStrong = `partly|partially|half|halfway|mostly|sort of|kind of|more or less|in part|~|gedeeltelijk|deels|teilweise|halb|en partie|partiellement|à moitié|a medias|parcialmente|em parte|más o menos`
	missedStrong = `missed|missed it|failed|forgot|didn't|did not|not kept|not done|broke it|✗|✘|❌|gemist|vergeten|niet gedaan|verpasst|vergessen|nicht|manqué|raté|oublié|pas fait|no cumplido|olvidé|fallé|falhei|esqueci|não cumpri`
	missedWeak   = `no|nope|not|x|non|nein|nee|não|nao`

	strongWord = `(` + keptStrong + `|` + partlyStrong + `|` + missedStrong + `)`
	anyWord    = `(` + keptStrong + `|` + partlyStrong + `|` + missedStrong + `|` + keptWeak + `|` + missedWeak + `)`

	partlyRE = regexp.MustCompile(`(?i)^(` + partlyStrong + `)$`)
	missedRE = regexp.MustCompile(`(?i)^(` + missedStrong + `|` + missedWeak + `)$`)

	// "1 kept", "1: yes", "#2 - partly", "3) missed", "1. kept", "no. 2 done"
	numberedRE = regexp.MustCompile(`(?i)(?:^|[\s,;(])(?:#|no\.?\s*|nr\.?\s*|n°\s*)?(\d{1,2})\s*[:.)\-–=]?\s*` + anyWord + `(?:[\s,;.!)]|$)`)
	// "kept 1", "missed #2"
	numberAfterRE = regexp.MustCompile(`(?i)(?:^|[\s,;])` + strongWord + `\s*(?:#|no\.?\s*|number\s+)?(\d{1,2})(?:[\s,;.!]|$)`)
	// "kept both", "all kept", "missed both, sorry", "I kept all of them"
	allRE = regexp.MustCompile(`(?i)\b(all|both|everything|all of them|them all|both of them|each one|every one|tout|tous|toutes|les deux|alle|alles|beide|beides|todo|todos|todas|los dos|las dos|ambos|ambas|allemaal|allebei|tudo|os dois|as duas)\b`)
	// "did both", "yes to both": a weak word says it for all.
	allWeakRE = regexp.MustCompile(`(?i)^\s*(i\s+)?(did|yes|yep|done)\b`)
	// "1 & 2 kept", "1, 2 and 3: done", "kept 1 and 2"
	numbersRE    = `(\d{1,2}(?:\s*(?:,|&|\+|/|\band\b|\bund\b|\bet\b|\by\b|\ben\b|\be\b)\s*\d{1,2})+)`
	numberListRE = regexp.MustCompile(`(?i)(?:^|\s)` + numbersRE + `\s*[:.\-–=]?\s*` + strongWord + `(?:[\s,;.!]|$)`)
	listNumberRE = regexp.MustCompile(`(?i)(?:^|\s)` + strongWord + `\s+` + numbersRE + `(?:[\s,;.!]|$)`)
	digitsRE     = regexp.MustCompile(`\d{1,2}`)
	ordinalRE    = regexp.MustCompile(`(?i)\b` + strongWord + `\s+(?:the\s+|my\s+)?(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\b|\b(first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th)\s+(?:one|commitment|point)?\s*(?:was\s+|is\s+|:\s*|-\s*)?` + strongWord + `\b`)
	// A line that is only answers in order: "kept, kept", "yes / no".
	listItemRE = regexp.MustCompile(`(?i)^(?:\d{1,2}\s*[:.)\-–]?\s*)?` + anyWord + `$`)
	// A line that begins with an answer: "Kept - I called every time."
	leadRE = regexp.MustCompile(`(?i)^(?:[-*•]\s*)?` + strongWord + `(?:\s*[,:;.!\-–—]|\s*$)`)
	// A strong answer anywhere in a line, for a commitment named there.
	strongRE = regexp.MustCompile(`(?i)(?:^|[^\p{L}])` + strongWord + `(?:[^\p{L}]|$)`)
	// "and", "und", "et" … between answers in a list.
	listSepRE = regexp.MustCompile(`(?i)\s*(?:,|;|/|\||\band\b|\bund\b|\bet\b|\by\b|\ben\b|\be\b|&)\s*`)

	// Headings of the check-in prompts, and their short forms.
	positiveOtherRE = regexp.MustCompile(`(?i)^\s*(?:\d\.\s*)?(?:[-*•]\s*)?(?:something\s+|one\s+)?(?:positive|good|nice|kind|thanks?|appreciat\w*|grateful)(?:\s+thing)?\s+(?:about|for|from|to)\s+(?:the other person|them|him|her|you|my partner|\p{Lu}\p{L}*)\s*:\s*(.*)$`)
	positiveSelfRE  = regexp.MustCompile(`(?i)^\s*(?:\d\.\s*)?(?:[-*•]\s*)?(?:something\s+|one\s+)?(?:positive|good|nice|proud)(?:\s+thing)?\s+(?:about|of)\s+(?:myself|me|yourself|self)\s*:\s*(.*)$`)
	wentWrongRE     = regexp.MustCompile(`(?i)^\s*(?:\d\.\s*)?(?:[-*•]\s*)?(?:anything\s+(?:that\s+)?)?(?:went wrong|what went wrong|wrong|to talk about|talk about|problems?|issues?|concerns?)(?:,?\s+to talk about)?\s*:\s*(.*)$`)
	headingLikeRE   = regexp.MustCompile(`^\s*(?:[-*•]\s*)?[\p{L} ]{3,60}:\s*$`)

	clauseRE  = regexp.MustCompile(`[.;!?]`)
	exceptRE  = regexp.MustCompile(`(?i)\b(but|except|apart from|sauf|außer|excepto|behalve|exceto|not all|nicht alle|pas tous)\b`)
	proudOfRE = regexp.MustCompile(`(?i)\bproud of\b`)
)

// ParseCheckIn reads a check-in answer from text, against the writer's
// commitments: statuses by number ("1 kept, 2 partly", "1 yes 2 no"), for
// all ("kept both", "all kept this week"), in order ("kept, kept", or one
// line per commitment), by ordinal ("missed the second one"), or by
// naming the commitment ("the calls: kept", "I called every evening,
// done"); the three prompts by their headings, and, without headings, kind
// words about the other person or oneself and what should be talked about.
// It never invents a status: a number beyond the commitments, or a word
// that says nothing by itself, records nothing. Text is always the whole
// trimmed reply.
func ParseCheckIn(text string, cc CheckInContext) agreements.CheckInAnswer {
	a := agreements.CheckInAnswer{Statuses: map[int]string{}, Text: strings.TrimSpace(text)}
	n := len(cc.Commitments)
	set := func(i int, st string) bool {
		if i < 1 || i > n {
			return false
		}
		if _, ok := a.Statuses[i]; !ok {
			a.Statuses[i] = st
		}
		return true
	}
	var section *string
	var loose []string // lines that are neither headings nor statuses
	type lead struct {
		status     string
		commitment int // the commitment the line names, or 0
	}
	var leads []lead // lines that begin with a status, in order
	lines := strings.Split(a.Text, "\n")
	pendingCommitment := 0 // a quoted commitment waiting for its answer on the next line
	for _, line := range lines {
		l := strings.TrimSpace(line)
		if l == "" {
			continue
		}
		quoted := strings.HasPrefix(l, ">")
		if quoted {
			// An inline reply quotes the check-in's commitments: the
			// answer below a quoted commitment is its answer.
			q := strings.TrimSpace(strings.TrimLeft(l, "> "))
			if i := commitmentNamed(q, cc.Commitments); i > 0 {
				pendingCommitment = i
			}
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
		if pendingCommitment > 0 {
			if st, ok := leadingStatus(l); ok {
				found = set(pendingCommitment, st) || found
			}
			pendingCommitment = 0
		}
		if items, ok := answerList(l); ok && n > 1 {
			// "kept, kept", "yes / no": one answer per commitment, in order.
			if len(items) == n {
				for i, st := range items {
					set(i+1, st)
				}
			}
			found = true
		}
		if !found && n > 0 {
			if st, ok := allStatus(l); ok {
				for i := 1; i <= n; i++ {
					set(i, st)
				}
				found = true
			}
		}
		for _, m := range numberListRE.FindAllStringSubmatch(l, -1) {
			for _, d := range digitsRE.FindAllString(m[1], -1) {
				i, _ := strconv.Atoi(d)
				set(i, statusOf(m[2]))
			}
			found = true
		}
		for _, m := range listNumberRE.FindAllStringSubmatch(l, -1) {
			for _, d := range digitsRE.FindAllString(m[2], -1) {
				i, _ := strconv.Atoi(d)
				set(i, statusOf(m[1]))
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
			found = true // a number beyond the commitments is not a positive either
			pos += m[5]
		}
		for _, m := range numberAfterRE.FindAllStringSubmatch(l, -1) {
			i, _ := strconv.Atoi(m[2])
			set(i, statusOf(m[1]))
			found = true
		}
		for _, m := range ordinalRE.FindAllStringSubmatch(l, -1) {
			if m[1] != "" {
				set(ordinal(m[2]), statusOf(m[1]))
			} else {
				set(ordinal(m[3]), statusOf(m[4]))
			}
			found = true
		}
		if !found {
			if st, ok := leadingStatus(l); ok {
				leads = append(leads, lead{st, commitmentNamed(l, cc.Commitments)})
				found = true
			}
		}
		if !found {
			// A sentence about the writer's own commitment, named in their
			// words; one about the other person is not.
			for _, sn := range sentences(l) {
				i := commitmentNamed(sn, cc.Commitments)
				if i == 0 || (namesOther(sn, cc.Others) && !namesOther(cc.Commitments[i-1], cc.Others)) {
					continue
				}
				if st, ok := clauseStatus(sn); ok {
					set(i, st)
					found = true
				} else if strongRE.MatchString(sn) {
					found = true // more than one answer in one sentence: not ours to pick
				} else if _, ok := answerList(sn); !ok && sn == l {
					pendingCommitment = i // "Calling before 18:00:" then the answer below
				}
			}
		}
		if found {
			section = nil
			// What else the line says ("Kept both. Thanks for Sunday.").
			for _, sn := range sentences(l) {
				if !strongRE.MatchString(sn) && !numberedRE.MatchString(sn) && !allRE.MatchString(sn) {
					loose = append(loose, sn)
				}
			}
			continue
		}
		if section != nil {
			if headingLikeRE.MatchString(l) {
				section = nil
				continue
			}
			appendText(section, l)
			continue
		}
		loose = append(loose, l)
	}
	// One line per commitment, each beginning with its answer; with one
	// commitment, the one answer.
	if len(a.Statuses) == 0 && len(leads) == n {
		for i, l := range leads {
			set(i+1, l.status)
		}
	}
	for _, l := range leads {
		if l.commitment > 0 {
			set(l.commitment, l.status)
		}
	}
	readLoose(&a, loose, cc)
	return a
}

// answerList reads a line made only of answers ("kept, kept", "yes / no",
// "1. kept 2. missed" is left to the numbered form): their statuses in
// order, and whether the line is such a list.
func answerList(l string) ([]string, bool) {
	l = strings.TrimRight(strings.TrimSpace(l), ".!")
	parts := listSepRE.Split(l, -1)
	if len(parts) < 2 {
		return nil, false
	}
	var out []string
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !listItemRE.MatchString(p) || strings.ContainsAny(p, "0123456789") || strings.HasSuffix(strings.ToLower(p), " it") {
			// "kept it, mostly" is one answer, qualified.
			return nil, false
		}
		out = append(out, statusOf(p))
	}
	return out, len(out) >= 2
}

// allStatus reads "kept both", "all kept this week", "missed both, sorry":
// a word for all and a strong answer in the same clause.
func allStatus(l string) (string, bool) {
	for _, clause := range clauseRE.Split(l, -1) {
		if !allRE.MatchString(clause) {
			continue
		}
		m := strongRE.FindAllStringSubmatch(clause, -1)
		if len(m) == 0 {
			if allWeakRE.MatchString(clause) && !negRE.MatchString(clause) {
				return agreements.CheckInKept, true
			}
			continue
		}
		st := statusOf(m[0][1])
		if (st == agreements.CheckInKept && negRE.MatchString(clause)) || negRE.MatchString(m[0][1]) {
			// "not all done", "I did not do both": one, or neither? Only
			// the writer knows.
			return "", false
		}
		for _, x := range m[1:] {
			if statusOf(x[1]) != st {
				return "", false // "kept all but missed one": not for all
			}
		}
		if exceptRE.MatchString(clause) {
			return "", false
		}
		return st, true
	}
	return "", false
}

// leadingStatus reads a line that begins with a strong answer: "Kept.",
// "Partly - I forgot once", "Missed, sorry".
func leadingStatus(l string) (string, bool) {
	m := leadRE.FindStringSubmatch(strings.TrimSpace(l))
	if m == nil {
		return "", false
	}
	// The first word is the answer; "Kept, but I forgot once" and "Kept
	// it, mostly" qualify it.
	st := statusOf(m[1])
	if st == agreements.CheckInKept {
		if q, ok := clauseStatus(clauseRE.Split(l, 2)[0]); !ok || q != agreements.CheckInKept {
			st = agreements.CheckInPartly
		}
	}
	return st, true
}

// clauseStatus reads how a commitment went from the strong words of one
// clause: "kept it, mostly" is partly, and "kept one, missed the other"
// says nothing for one commitment.
func clauseStatus(c string) (string, bool) {
	seen := map[string]bool{}
	for _, m := range strongRE.FindAllStringSubmatch(c, -1) {
		seen[statusOf(m[1])] = true
	}
	switch {
	case len(seen) == 1:
		for st := range seen {
			return st, true
		}
	case len(seen) == 2 && seen[agreements.CheckInKept] && seen[agreements.CheckInPartly]:
		return agreements.CheckInPartly, true
	}
	return "", false
}

// commitmentNamed returns which commitment l names (from 1), by its
// distinctive words ("called" names "Call or text before 18:00"): the one
// that shares the largest part of its words with l, at least a third; 0
// for none, or when l names two equally. A status is set from it only
// with a strong word in the same line.
func commitmentNamed(l string, commitments []string) int {
	lw := contentWords(l)
	if len(lw) == 0 {
		return 0
	}
	have := map[string]bool{}
	for _, w := range lw {
		have[stem(w)] = true
	}
	best, bestScore, tie := 0, 0.0, false
	for i, c := range commitments {
		cw := contentWords(c)
		if len(cw) == 0 {
			continue
		}
		hits := 0
		for _, w := range cw {
			if have[stem(w)] {
				hits++
			}
		}
		score := float64(hits) / float64(len(cw))
		if hits == 0 || score < 0.3 {
			continue
		}
		switch {
		case score > bestScore:
			best, bestScore, tie = i+1, score, false
		case score == bestScore:
			tie = true
		}
	}
	if tie {
		return 0
	}
	return best
}

var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the and or but to of in on at for with when what who how i me my you your he him his she her we us our they them their it its
		is am are was were be been being do does did will would can could should shall may might must not no yes if then than that this these those
		so as by from up down out over before after about into each every some any all both there here also just very too more most
		le la les un une de des du et ou à au aux en je tu il elle nous vous ils elles mon ma mes ton ta tes son sa ses
		der die das ein eine und oder zu von mit ich du er sie wir ihr es mein meine dein deine
		el los las unos unas y o con yo mi mis tu tus su sus
		het een en of te van met ik jij hij zij wij mijn jouw
		os um uma com eu meu minha`) {
		stopWords[w] = true
	}
}

// contentWords returns the distinctive words of s, lowercase.
func contentWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' }) {
		w = strings.Trim(w, "'")
		if len([]rune(w)) < 3 || stopWords[w] {
			continue
		}
		out = append(out, w)
	}
	return out
}

// stem folds the endings that paraphrase changes ("calls", "called",
// "calling" are "call").
func stem(w string) string {
	for _, suf := range []string{"ing", "ed", "es", "s"} {
		if len(w) > len(suf)+3 && strings.HasSuffix(w, suf) {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

// Sentences without a heading, by what they say.
var (
	// About oneself: "I'm proud I called", "I managed to …".
	selfRE = regexp.MustCompile(`(?i)^(?:and\s+|also\s+|but\s+)?(?:i'?m|i am|i was|i felt|i feel)\s+(?:really\s+|quite\s+|so\s+|very\s+)?(?:proud|pleased with myself|happy (?:that )?i|glad i)\b` +
		`|^(?:and\s+|also\s+)?i\s+(?:finally\s+|actually\s+)?(?:managed|succeeded|remembered)\b` +
		`|^(?:je suis fier|je suis fière|j'ai réussi|je suis content(?:e)? d'avoir)` +
		`|^(?:ich bin stolz|ich habe es geschafft|ich habe geschafft)` +
		`|^(?:estoy orgullos[oa]|logré|conseguí)` +
		`|^(?:ik ben trots|het is me gelukt|ik heb het gedaan)` +
		`|^(?:estou orgulhos[oa]|consegui)`)
	// Thanks or praise: "Thanks for …", "… that was lovely".
	praiseRE      = regexp.MustCompile(`(?i)\b(thanks?|thank you|grateful|appreciat\w*|lovely|loved|love it|kind|sweet|wonderful|great|nice|amazing|thoughtful|helpful|meant a lot|proud of|merci|reconnaissant|gentil|génial|adorable|danke|dankbar|lieb|schön|toll|gracias|agradecid[oa]|precioso|genial|bedankt|dankbaar|fijn|lief|leuk|obrigad[oa]|grat[oa]|maravilhos[oa]|querid[oa])\b`)
	thanksStartRE = regexp.MustCompile(`(?i)^(thanks?|thank you|i('m| am) (so |really )?grateful|i (really )?appreciat\w*|merci|danke|gracias|bedankt|obrigad[oa])\b`)
	otherRefRE    = regexp.MustCompile(`(?i)\b(you|your|he|him|his|she|her|they|them|their|il|elle|lui|er|ihm|ihn|ihr|él|ella|hij|zij|haar|ele|dela|dele)\b`)
	// Something to talk about: "we should talk about …", "I was upset when …".
	wrongRE = regexp.MustCompile(`(?i)\b(we (should|need to|must|have to) talk|can we talk|could we talk|let's talk|i'd like to talk|i want to talk|talk about)\b` +
		`|\bi (was|felt|feel|am|'m) (a bit |really |quite |very )?(upset|hurt|sad|angry|annoyed|disappointed|frustrated|worried|ignored|let down)\b` +
		`|\b(it hurt|that hurt|bothered me|upset me|hurt me)\b` +
		`|\b(on devrait parler|il faut qu'on parle|j'étais (triste|blessée?|fâchée?|déçue?)|wir sollten (über|reden)|ich war (traurig|verletzt|enttäuscht|wütend)|deberíamos hablar|tenemos que hablar|me sentí (mal|herid[oa])|we moeten praten|ik was (boos|verdrietig|gekwetst)|precisamos conversar|devíamos conversar|fiquei (triste|chatead[oa]))`)
	negRE = regexp.MustCompile(`(?i)(\bnot\b|n't\b|\bnever\b|\bno\b|\bpas\b|\bnicht\b|\bkein|\bnunca\b|\bniet\b|\bgeen\b|\bnão\b)`)
)

// readLoose reads the lines without a heading, sentence by sentence, for
// kind words and for what went wrong. What it does not recognise stays in
// Text only.
func readLoose(a *agreements.CheckInAnswer, lines []string, cc CheckInContext) {
	names := map[string]bool{}
	for _, o := range cc.Others {
		if o != "" {
			names[strings.ToLower(o)] = true
		}
	}
	mentionsOther := func(s string) bool {
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) }) {
			if names[w] {
				return true
			}
		}
		return otherRefRE.MatchString(s)
	}
	for _, s := range sentences(strings.Join(lines, "\n")) {
		switch {
		case wrongRE.MatchString(s):
			appendText(&a.WentWrong, s)
		case selfRE.MatchString(s) && !proudOfRE.MatchString(s):
			appendText(&a.PositiveSelf, s)
		case negRE.MatchString(s), strings.HasSuffix(s, "?"):
			// Neither a negated word nor a question is a kind word.
		case thanksStartRE.MatchString(s), praiseRE.MatchString(s) && mentionsOther(s):
			appendText(&a.PositiveOther, s)
		}
	}
}

// sentences splits text into sentences: at line breaks, and after ".",
// "!" or "?" followed by a space.
func sentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		start := 0
		rs := []rune(line)
		for i := 0; i < len(rs); i++ {
			if (rs[i] == '.' || rs[i] == '!' || rs[i] == '?') && (i+1 == len(rs) || rs[i+1] == ' ') {
				if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
					out = append(out, s)
				}
				start = i + 1
			}
		}
		if s := strings.TrimSpace(string(rs[start:])); s != "" {
			out = append(out, s)
		}
	}
	return out
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

func statusOf(word string) string {
	w := strings.ToLower(strings.TrimSpace(word))
	switch {
	case partlyRE.MatchString(w):
		return agreements.CheckInPartly
	case missedRE.MatchString(w):
		return agreements.CheckInMissed
	}
	return agreements.CheckInKept
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

// namesOther reports whether l names one of the other people: what it
// says is about them, not about the writer's commitments.
func namesOther(l string, others []string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(l), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, o := range others {
			if o != "" && w == strings.ToLower(o) {
				return true
			}
		}
	}
	return false
}

// understood reports whether a reads as a check-in answer when it
// answers another mail: a status, or kind words or something to talk
// about said in a few words at least; a lone "Thanks!" to a notice is not
// a check-in.
func understood(a agreements.CheckInAnswer) bool {
	said := func(s string) bool { return len(contentWords(s)) >= 2 }
	return len(a.Statuses) > 0 || said(a.PositiveOther) || said(a.PositiveSelf) || said(a.WentWrong)
}
