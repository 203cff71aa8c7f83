package mailin

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// Commands by reply (design F4), as people write them: alone or with a
// "please", in English, French, German, Spanish, Dutch or Portuguese,
// with a closing at most. A command is the whole reply: a sentence that
// merely contains "stop" or "pause" is not one.
var (
	// politeRE is what people put around a command.
	politeRE    = regexp.MustCompile(`(?i)^(please|pls|kindly|can we|could we|can you|could you|can you please|could you please|i'd like to|i would like to|i want to|let's|lets|s'il vous plaît|s'il te plaît|svp|merci de|pouvez-vous|bitte|können wir|por favor|podemos|podrías|alsjeblieft|graag|kunnen we|pode|podemos)\s+`)
	politeEndRE = regexp.MustCompile(`(?i)[\s,]+(please|pls|thanks|thank you|s'il vous plaît|svp|merci|bitte|danke|por favor|gracias|alsjeblieft|graag|bedankt|obrigad[oa])$`)

	commandWords = map[string]string{
		"pause": agreements.CommandPause, "pause the check-ins": agreements.CommandPause, "pause check-ins": agreements.CommandPause,
		"take a break": agreements.CommandPause, "mettre en pause": agreements.CommandPause, "pausieren": agreements.CommandPause,
		"pausa": agreements.CommandPause, "pausar": agreements.CommandPause, "pauze": agreements.CommandPause, "pauzeren": agreements.CommandPause,

		"resume": agreements.CommandResume, "resume the check-ins": agreements.CommandResume, "restart": agreements.CommandResume,
		"reprendre": agreements.CommandResume, "fortsetzen": agreements.CommandResume, "weiter": agreements.CommandResume,
		"reanudar": agreements.CommandResume, "hervatten": agreements.CommandResume, "retomar": agreements.CommandResume,

		"stop": agreements.CommandStop, "arrêter": agreements.CommandStop, "arreter": agreements.CommandStop, "stopp": agreements.CommandStop,
		"beenden": agreements.CommandStop, "parar": agreements.CommandStop, "detener": agreements.CommandStop, "stoppen": agreements.CommandStop,

		"history": agreements.CommandHistory, "historique": agreements.CommandHistory, "verlauf": agreements.CommandHistory,
		"historial": agreements.CommandHistory, "geschiedenis": agreements.CommandHistory, "histórico": agreements.CommandHistory, "historico": agreements.CommandHistory,

		"help": agreements.CommandHelp, "aide": agreements.CommandHelp, "hilfe": agreements.CommandHelp, "ayuda": agreements.CommandHelp,
		"hulp": agreements.CommandHelp, "ajuda": agreements.CommandHelp, "?": agreements.CommandHelp,

		"unsubscribe": agreements.CommandUnsubscribe, "unsubscribe me": agreements.CommandUnsubscribe, "remove me": agreements.CommandUnsubscribe,
		"se désabonner": agreements.CommandUnsubscribe, "désabonner": agreements.CommandUnsubscribe, "désinscrire": agreements.CommandUnsubscribe,
		"abmelden": agreements.CommandUnsubscribe, "abbestellen": agreements.CommandUnsubscribe, "darme de baja": agreements.CommandUnsubscribe,
		"dar de baja": agreements.CommandUnsubscribe, "baja": agreements.CommandUnsubscribe, "afmelden": agreements.CommandUnsubscribe,
		"uitschrijven": agreements.CommandUnsubscribe, "descadastrar": agreements.CommandUnsubscribe, "cancelar inscrição": agreements.CommandUnsubscribe,
	}

	// stopMailRE is a wish for no more mail, in the writer's own words.
	stopMailRE = regexp.MustCompile(`(?i)^(stop|quit|no more)\s+(sending|emailing|mailing|e-mailing|writing|messaging)?\s*(me\b\s*)?(these|this|them|emails?|e-mails?|mails?|messages?|reminders?|check-?ins?)?(\s+(emails?|mails?|messages?|to me|please|now))*$` +
		`|^(i don't want|i do not want|i no longer want)\s+(these|this|any more|anymore|more)?\s*(emails?|mails?|messages?)?(\s+(anymore|any more))?$` +
		`|^(arrêtez|arrête|arrêter) (de m'envoyer|d'envoyer)( ces| des)? (mails|messages|e-mails|courriels)$` +
		`|^(hört auf|hören sie auf|keine) (mir )?(mails|e-mails|nachrichten)( mehr)?( zu schicken| zu senden)?$` +
		`|^(dejen|deja|dejad) de (enviarme|mandarme)( estos| correos| mensajes)*$` +
		`|^(stop|stoppen) met (het )?(sturen|mailen)( van)?( deze)?( mails| berichten)?$` +
		`|^(parem|pare) de (me )?(enviar|mandar)( estes| e-mails| emails| mensagens)*$`)

	pauseWordRE = regexp.MustCompile(`(?i)^(pause the check-ins|pause check-ins|pause|take a break|mettre en pause|pausieren|pausar|pausa|pauzeren|pauze)\s+(.+)$`)

	// Other ways people say a command.
	commandPhrases = []struct {
		re   *regexp.Regexp
		name string
	}{
		{regexp.MustCompile(`(?i)^(take|remove) me off (this|the|your) (list|mailing list)$`), agreements.CommandUnsubscribe},
		{regexp.MustCompile(`(?i)^(start|begin) (the check-ins |them |it )?again$|^(restart|resume) (the )?check-?ins$`), agreements.CommandResume},
		{regexp.MustCompile(`(?i)^(show|send) (me )?(the|my|our) (check-in )?history$`), agreements.CommandHistory},
		{regexp.MustCompile(`(?i)^what can i (reply|do|say|write)$|^how does this work$`), agreements.CommandHelp},
	}
)

// readCommand reads text as a command, if it is one. rc gives the
// writer's clock and zone, for "pause until 10 December".
func readCommand(text string, rc agreements.ReplyContext) (agreements.Intent, bool) {
	t := strings.TrimSpace(text)
	if m := fixRE.FindStringSubmatch(t); m != nil {
		return agreements.Intent{Kind: agreements.IntentCommand, Command: agreements.CommandFix, Fix: m[1]}, true
	}
	if m := amendRE.FindStringSubmatch(t); m != nil {
		return agreements.Intent{Kind: agreements.IntentCommand, Command: agreements.CommandAmend, Amend: withoutClosing(m[1])}, true
	}
	first := firstLine(t)
	if len(first) > maxCommandLen {
		return agreements.Intent{}, false // a sentence, not a command
	}
	if rest := strings.TrimPrefix(t, first); strings.TrimSpace(rest) != "" && !closingOnly(rest) {
		return agreements.Intent{}, false
	}
	c := commandText(first)
	cmd := func(name string) (agreements.Intent, bool) {
		return agreements.Intent{Kind: agreements.IntentCommand, Command: name}, true
	}
	if name, ok := commandWords[c]; ok {
		if name == agreements.CommandStop && c != strings.ToLower(strings.Trim(strings.TrimSpace(first), ".!")) {
			// "Please stop", "I want to stop": the mails, or the agreement
			// for both? Ask; only a bare "stop" ends it.
			return cmd(agreements.CommandStopMail)
		}
		return cmd(name)
	}
	for _, p := range commandPhrases {
		if p.re.MatchString(c) {
			return cmd(p.name)
		}
	}
	if stopMailRE.MatchString(c) {
		return cmd(agreements.CommandStopMail)
	}
	if m := pauseWordRE.FindStringSubmatch(c); m != nil {
		if until, ok := readUntil(m[2], rc); ok {
			return agreements.Intent{Kind: agreements.IntentCommand, Command: agreements.CommandPause, Until: until}, true
		}
	}
	return agreements.Intent{}, false
}

// maxCommandLen bounds a command's line: the longest ("please pause the
// check-ins until the 10th of December") is far shorter.
const maxCommandLen = 120

var fixRE = regexp.MustCompile(`(?is)^\s*(?:fix|correction|corriger|korrektur|corregir|corrigeer|corrigir)\s*:\s*(.*\S)\s*$`)

// amendRE is "amend:" and the parts of the agreement that change, in the
// six languages; the reply starts with it. "amend:" with nothing after it
// is an amendment that says nothing, which the store answers.
var amendRE = regexp.MustCompile(`(?is)^\s*(?:amend|amendment|modifier|modification|ändern|änderung|aendern|modificar|modificación|wijzigen|wijziging|alterar|alteração)\s*:\s*(.*?)\s*$`)

// commandText is a command line as it is looked up: lowercase, single
// spaces, without polite words or final punctuation.
func commandText(line string) string {
	c := strings.ToLower(strings.Join(strings.Fields(line), " "))
	c = strings.ReplaceAll(c, "’", "'")
	for range 3 {
		c = strings.TrimRight(c, ".!?… ")
		c = politeEndRE.ReplaceAllString(c, "")
		c = politeRE.ReplaceAllString(c, "")
	}
	if c == "" && strings.Contains(line, "?") {
		return "?"
	}
	return strings.TrimSpace(c)
}

// The words of "until …" and "for …" after a pause.
var (
	untilRE    = regexp.MustCompile(`(?i)^(until|till|til|to|through|jusqu'au|jusqu'à|jusqu'a|jusqu’au|bis( zum| am)?|hasta( el)?|tot( en met)?|até( o| ao)?|ate)\s+(.+)$`)
	forRE      = regexp.MustCompile(`(?i)^(for|pendant|pour|für|fuer|por|durante|voor|gedurende)\s+(.+)$`)
	durationRE = regexp.MustCompile(`(?i)^(a|an|one|\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|un|une|deux|trois|quatre|ein|eine|einen|zwei|drei|vier|uno|una|dos|tres|cuatro|een|twee|drie|vier|um|uma|dois|duas|três)\s+(days?|weeks?|months?|jours?|semaines?|mois|tage?n?|wochen?|monate?n?|días?|dias?|semanas?|meses|mes|dagen|dag|weken|week|maanden|maand)$`)
)

var numberWords = map[string]int{
	"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
	"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "ein": 1, "eine": 1, "einen": 1, "zwei": 2, "drei": 3, "vier": 4,
	"uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "een": 1, "twee": 2, "drie": 3, "um": 1, "uma": 1, "dois": 2, "duas": 2, "três": 3,
}

// readUntil reads "until 10 December", "for two weeks" and their
// translations: the start of the day the pause ends, in the writer's zone.
func readUntil(s string, rc agreements.ReplyContext) (time.Time, bool) {
	loc := rc.Location
	if loc == nil {
		loc = time.UTC
	}
	now := rc.Now.In(loc)
	if rc.Now.IsZero() {
		now = time.Now().In(loc)
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	s = strings.TrimSpace(strings.TrimRight(s, ".!"))
	if m := forRE.FindStringSubmatch(s); m != nil {
		d := durationRE.FindStringSubmatch(strings.ToLower(strings.TrimSpace(m[2])))
		if d == nil {
			return time.Time{}, false
		}
		n, ok := numberWords[d[1]]
		if !ok {
			n, _ = strconv.Atoi(d[1])
		}
		if n <= 0 || n > 366 {
			return time.Time{}, false
		}
		switch unit := d[2]; {
		case strings.HasPrefix(unit, "d") || strings.HasPrefix(unit, "j") || strings.HasPrefix(unit, "t"):
			return today.AddDate(0, 0, n), true
		case strings.HasPrefix(unit, "m"):
			return today.AddDate(0, n, 0), true
		default:
			return today.AddDate(0, 0, 7*n), true
		}
	}
	m := untilRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, false
	}
	d, ok := parseDay(m[len(m)-1], today)
	if !ok || !d.After(today) {
		return time.Time{}, false
	}
	return d, true
}

var (
	months = map[string]time.Month{}
	days   = map[string]time.Weekday{}
)

func init() {
	for i, names := range [][]string{
		{"january", "jan", "janvier", "janv", "januar", "jän", "enero", "ene", "januari", "janeiro"},
		{"february", "feb", "février", "fevrier", "févr", "februar", "febrero", "februari", "fevereiro", "fev"},
		{"march", "mar", "mars", "märz", "maerz", "marzo", "maart", "março", "marco", "mrt"},
		{"april", "apr", "avril", "abril", "abr"},
		{"may", "mai", "mayo", "mei", "maio"},
		{"june", "jun", "juin", "juni", "junio", "junho"},
		{"july", "jul", "juillet", "juil", "juli", "julio", "julho"},
		{"august", "aug", "août", "aout", "agosto", "augustus", "ago"},
		{"september", "sep", "sept", "septembre", "septiembre", "setembro", "set"},
		{"october", "oct", "octobre", "oktober", "okt", "octubre", "outubro", "out"},
		{"november", "nov", "novembre", "noviembre", "novembro"},
		{"december", "dec", "décembre", "decembre", "déc", "dezember", "dez", "diciembre", "dic", "dezembro"},
	} {
		for _, n := range names {
			months[n] = time.Month(i + 1)
		}
	}
	for i, names := range [][]string{
		{"sunday", "sun", "dimanche", "sonntag", "domingo", "zondag"},
		{"monday", "mon", "lundi", "montag", "lunes", "maandag", "segunda", "segunda-feira"},
		{"tuesday", "tue", "tues", "mardi", "dienstag", "martes", "dinsdag", "terça", "terça-feira"},
		{"wednesday", "wed", "mercredi", "mittwoch", "miércoles", "miercoles", "woensdag", "quarta", "quarta-feira"},
		{"thursday", "thu", "thurs", "jeudi", "donnerstag", "jueves", "donderdag", "quinta", "quinta-feira"},
		{"friday", "fri", "vendredi", "freitag", "viernes", "vrijdag", "sexta", "sexta-feira"},
		{"saturday", "sat", "samedi", "samstag", "sábado", "sabado", "zaterdag"},
	} {
		for _, n := range names {
			days[n] = time.Weekday(i)
		}
	}
}

var (
	isoDayRE     = regexp.MustCompile(`^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$`)
	dayMonthRE   = regexp.MustCompile(`^(?:the\s+|le\s+|el\s+|o\s+)?(\d{1,2})(?:st|nd|rd|th|er|º|\.)?\s+(?:of\s+|de\s+)?(\p{L}+)\.?(?:,?\s+(?:de\s+)?(\d{4}))?$`)
	monthDayRE   = regexp.MustCompile(`^(\p{L}+)\.?\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?$`)
	ordinalDayRE = regexp.MustCompile(`^(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)$`)
	weekdayRE    = regexp.MustCompile(`^(?:next\s+|this\s+|coming\s+|prochain\s+|nächsten\s+|el\s+próximo\s+|volgende\s+|próxima\s+|a\s+próxima\s+)?(\p{L}+(?:-feira)?)(?:\s+prochain)?$`)
)

// parseDay reads a day a person writes, on or after today (whose
// location is the writer's): "2026-12-10", "10 December", "December 10th",
// "10. Dezember 2026", "10 de diciembre", "Monday", "next Monday",
// "tomorrow". A day without a year is the next one to come; a numeric
// day such as 10/12 is refused as ambiguous.
func parseDay(s string, today time.Time) (time.Time, bool) {
	s = strings.ToLower(strings.Join(strings.Fields(strings.TrimSpace(s)), " "))
	s = strings.TrimRight(s, ".!")
	loc := today.Location()
	day := func(y int, mo time.Month, d int) (time.Time, bool) {
		t := time.Date(y, mo, d, 0, 0, 0, 0, loc)
		if t.Day() != d || t.Month() != mo {
			return time.Time{}, false // 31 February
		}
		return t, true
	}
	// A day without a year: this year's, or next year's if it has passed.
	dayNoYear := func(mo time.Month, d int, year string) (time.Time, bool) {
		if year != "" {
			y, _ := strconv.Atoi(year)
			return day(y, mo, d)
		}
		t, ok := day(today.Year(), mo, d)
		if ok && t.Before(today) {
			return day(today.Year()+1, mo, d)
		}
		return t, ok
	}
	switch s {
	case "tomorrow", "demain", "morgen", "mañana", "manana", "amanhã", "amanha":
		return today.AddDate(0, 0, 1), true
	}
	if m := isoDayRE.FindStringSubmatch(s); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		return day(y, time.Month(mo), d)
	}
	if m := dayMonthRE.FindStringSubmatch(s); m != nil {
		if mo, ok := months[m[2]]; ok {
			d, _ := strconv.Atoi(m[1])
			return dayNoYear(mo, d, m[3])
		}
	}
	if m := monthDayRE.FindStringSubmatch(s); m != nil {
		if mo, ok := months[m[1]]; ok {
			d, _ := strconv.Atoi(m[2])
			return dayNoYear(mo, d, m[3])
		}
	}
	if m := ordinalDayRE.FindStringSubmatch(s); m != nil {
		// "the 10th": the next 10th to come.
		d, _ := strconv.Atoi(m[1])
		for k := 0; k < 12; k++ {
			first := time.Date(today.Year(), today.Month()+time.Month(k), 1, 0, 0, 0, 0, loc)
			if t, ok := day(first.Year(), first.Month(), d); ok && t.After(today) {
				return t, true
			}
		}
		return time.Time{}, false
	}
	if m := weekdayRE.FindStringSubmatch(s); m != nil {
		if wd, ok := days[m[1]]; ok {
			n := (int(wd) - int(today.Weekday()) + 7) % 7
			if n == 0 {
				n = 7
			}
			return today.AddDate(0, 0, n), true
		}
	}
	return time.Time{}, false
}
