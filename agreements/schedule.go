package agreements

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Unit is the unit of a schedule's interval.
type Unit string

// The units of a schedule.
const (
	Day   Unit = "day"
	Week  Unit = "week"
	Month Unit = "month"
)

// Schedule says when something recurs: every Every days, weeks (on
// Weekdays) or months (on day DayOfMonth), at Hour:Minute in each party's
// own time zone.
type Schedule struct {
	Unit       Unit           `json:"unit"`
	Every      int            `json:"every"`
	Weekdays   []time.Weekday `json:"weekdays,omitempty"`
	DayOfMonth int            `json:"day_of_month,omitempty"`
	Hour       int            `json:"hour"`
	Minute     int            `json:"minute"`
}

// Validate returns an EINVALID error when s cannot be used.
func (s Schedule) Validate() error {
	if s.Every < 1 || s.Every > 52 {
		return Errorf(EINVALID, "a schedule repeats every 1 to 52 %ss, not %d", s.Unit, s.Every)
	}
	if s.Hour < 0 || s.Hour > 23 || s.Minute < 0 || s.Minute > 59 {
		return Errorf(EINVALID, "%02d:%02d is not a time of day", s.Hour, s.Minute)
	}
	switch s.Unit {
	case Day:
		if len(s.Weekdays) > 0 || s.DayOfMonth != 0 {
			return Errorf(EINVALID, "a daily schedule has no weekdays or day of the month")
		}
	case Week:
		if len(s.Weekdays) == 0 {
			return Errorf(EINVALID, "a weekly schedule needs at least one day of the week")
		}
		seen := map[time.Weekday]bool{}
		for _, d := range s.Weekdays {
			if d < time.Sunday || d > time.Saturday || seen[d] {
				return Errorf(EINVALID, "the days of the week must be distinct days")
			}
			seen[d] = true
		}
		if s.DayOfMonth != 0 {
			return Errorf(EINVALID, "a weekly schedule has no day of the month")
		}
	case Month:
		if s.DayOfMonth < 1 || s.DayOfMonth > 31 {
			return Errorf(EINVALID, "a monthly schedule needs a day of the month from 1 to 31")
		}
		if len(s.Weekdays) > 0 {
			return Errorf(EINVALID, "a monthly schedule has no weekdays")
		}
	default:
		return Errorf(EINVALID, "unknown schedule unit %q", s.Unit)
	}
	return nil
}

// String returns the canonical English form, which ParseSchedule reads back:
// "every day at 20:00", "every 3 days at 09:00", "every Sunday at 19:00",
// "every Monday and Thursday at 19:00", "every 2 weeks on Sunday at 19:00",
// "every month on day 1 at 18:00".
func (s Schedule) String() string {
	at := fmt.Sprintf("at %02d:%02d", s.Hour, s.Minute)
	switch s.Unit {
	case Day:
		if s.Every == 1 {
			return "every day " + at
		}
		return fmt.Sprintf("every %d days %s", s.Every, at)
	case Week:
		days := weekdayList(sortedWeekdays(s.Weekdays))
		if s.Every == 1 {
			return "every " + days + " " + at
		}
		return fmt.Sprintf("every %d weeks on %s %s", s.Every, days, at)
	case Month:
		if s.Every == 1 {
			return fmt.Sprintf("every month on day %d %s", s.DayOfMonth, at)
		}
		return fmt.Sprintf("every %d months on day %d %s", s.Every, s.DayOfMonth, at)
	}
	return "invalid schedule"
}

// sortedWeekdays returns days in week order starting on Monday, the order in
// which people list them.
func sortedWeekdays(days []time.Weekday) []time.Weekday {
	out := make([]time.Weekday, 0, len(days))
	for _, want := range []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday, time.Sunday} {
		for _, d := range days {
			if d == want {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

func weekdayList(days []time.Weekday) string {
	names := make([]string, len(days))
	for i, d := range days {
		names[i] = d.String()
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

var weekdayNames = map[string]time.Weekday{
	"sunday": time.Sunday, "sun": time.Sunday,
	"monday": time.Monday, "mon": time.Monday,
	"tuesday": time.Tuesday, "tue": time.Tuesday, "tues": time.Tuesday,
	"wednesday": time.Wednesday, "wed": time.Wednesday,
	"thursday": time.Thursday, "thu": time.Thursday, "thurs": time.Thursday,
	"friday": time.Friday, "fri": time.Friday,
	"saturday": time.Saturday, "sat": time.Saturday,
}

var (
	timeRE = regexp.MustCompile(`\b(?:at\s+)?(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h)?\s*$`)
	noonRE = regexp.MustCompile(`\b(?:at\s+)?(noon|midday|midnight)\s*$`)
	everyN = regexp.MustCompile(`^(?:every|each)\s+(\d+|other|second|third)\s+(day|week|month)s?\b`)
	domRE  = regexp.MustCompile(`\b(?:on\s+)?(?:the\s+)?(?:day\s+)?(\d{1,2})(?:st|nd|rd|th)?\b`)
)

// ParseSchedule reads a schedule written the way people write one:
// "every Sunday at 19:00", "daily at 8pm", "every other week on Sunday at
// 7:30 pm", "every 3 days at 09:00", "weekdays at 18:00", "monthly on the 1st
// at 18:00". The time of day is required.
func ParseSchedule(text string) (Schedule, error) {
	s := strings.ToLower(strings.Join(strings.Fields(text), " "))
	s = strings.TrimRight(s, ".")
	if s == "" {
		return Schedule{}, Errorf(EINVALID, `no schedule given; write one like "every Sunday at 19:00"`)
	}
	var sch Schedule
	rest, err := parseTimeOfDay(s, &sch)
	if err != nil {
		return Schedule{}, err
	}
	rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), ","))
	sch.Every = 1

	if m := everyN.FindStringSubmatch(rest); m != nil {
		switch m[1] {
		case "other", "second":
			sch.Every = 2
		case "third":
			sch.Every = 3
		default:
			sch.Every, _ = strconv.Atoi(m[1])
		}
		sch.Unit = Unit(m[2])
		rest = strings.TrimSpace(rest[len(m[0]):])
	} else {
		switch {
		case hasPrefixWord(rest, "daily"), hasPrefixWord(rest, "every day"), hasPrefixWord(rest, "each day"), hasPrefixWord(rest, "every night"), hasPrefixWord(rest, "every evening"), hasPrefixWord(rest, "every morning"):
			sch.Unit = Day
			rest = ""
		case hasPrefixWord(rest, "weekly"), hasPrefixWord(rest, "every week"), hasPrefixWord(rest, "each week"):
			sch.Unit = Week
			rest = strings.TrimSpace(trimFirstWords(rest, "weekly", "every week", "each week"))
		case hasPrefixWord(rest, "monthly"), hasPrefixWord(rest, "every month"), hasPrefixWord(rest, "each month"):
			sch.Unit = Month
			rest = strings.TrimSpace(trimFirstWords(rest, "monthly", "every month", "each month"))
		case strings.Contains(rest, "of every month"), strings.Contains(rest, "of each month"), strings.Contains(rest, "of the month"):
			sch.Unit = Month
		default:
			sch.Unit = Week
		}
	}

	switch sch.Unit {
	case Day:
		if rest != "" {
			return Schedule{}, Errorf(EINVALID, "%q: after the interval I expected only a time, like \"every 3 days at 09:00\"", text)
		}
	case Week:
		days, err := parseWeekdays(rest)
		if err != nil {
			return Schedule{}, Errorf(EINVALID, "%q: %s", text, err.Error())
		}
		sch.Weekdays = days
	case Month:
		m := domRE.FindStringSubmatch(rest)
		if m == nil {
			return Schedule{}, Errorf(EINVALID, "%q: say which day of the month, like \"monthly on the 1st at 18:00\"", text)
		}
		sch.DayOfMonth, _ = strconv.Atoi(m[1])
	}
	if err := sch.Validate(); err != nil {
		return Schedule{}, err
	}
	return sch, nil
}

func parseTimeOfDay(s string, sch *Schedule) (rest string, err error) {
	if m := noonRE.FindStringSubmatchIndex(s); m != nil {
		if s[m[2]:m[3]] == "midnight" {
			sch.Hour = 0
		} else {
			sch.Hour = 12
		}
		return s[:m[0]], nil
	}
	m := timeRE.FindStringSubmatchIndex(s)
	if m == nil {
		return "", Errorf(EINVALID, "%q: say at what time of day, like \"every Sunday at 19:00\"", s)
	}
	hour, _ := strconv.Atoi(s[m[2]:m[3]])
	minute := 0
	if m[4] >= 0 {
		minute, _ = strconv.Atoi(s[m[4]:m[5]])
	}
	if m[6] >= 0 {
		switch s[m[6]:m[7]] {
		case "am", "a.m.":
			if hour < 1 || hour > 12 {
				return "", Errorf(EINVALID, "%q: %d am is not a time", s, hour)
			}
			hour %= 12
		case "pm", "p.m.":
			if hour < 1 || hour > 12 {
				return "", Errorf(EINVALID, "%q: %d pm is not a time", s, hour)
			}
			hour = hour%12 + 12
		}
	}
	if hour > 23 || minute > 59 {
		return "", Errorf(EINVALID, "%q: %02d:%02d is not a time of day", s, hour, minute)
	}
	// A bare number only counts as a time after "at" ("every 3 days" is not 3 o'clock).
	prefix := s[m[0]:m[2]]
	if !strings.HasPrefix(prefix, "at") && m[4] < 0 && m[6] < 0 {
		return "", Errorf(EINVALID, "%q: say at what time of day, like \"every Sunday at 19:00\"", s)
	}
	sch.Hour, sch.Minute = hour, minute
	return s[:m[0]], nil
}

func hasPrefixWord(s, prefix string) bool {
	return s == prefix || strings.HasPrefix(s, prefix+" ") || strings.HasPrefix(s, prefix+",")
}

func trimFirstWords(s string, prefixes ...string) string {
	for _, p := range prefixes {
		if hasPrefixWord(s, p) {
			return s[len(p):]
		}
	}
	return s
}

func parseWeekdays(s string) ([]time.Weekday, error) {
	s = strings.NewReplacer(",", " ", "&", " ", "/", " ").Replace(s)
	var days []time.Weekday
	seen := map[time.Weekday]bool{}
	add := func(d time.Weekday) {
		if !seen[d] {
			seen[d] = true
			days = append(days, d)
		}
	}
	for _, w := range strings.Fields(s) {
		switch w {
		case "every", "each", "on", "and", "week", "weekly":
			continue
		case "weekday", "weekdays":
			for d := time.Monday; d <= time.Friday; d++ {
				add(d)
			}
			continue
		case "weekend", "weekends":
			add(time.Saturday)
			add(time.Sunday)
			continue
		}
		d, ok := weekdayNames[strings.TrimSuffix(w, "s")]
		if !ok {
			d, ok = weekdayNames[w]
		}
		if !ok {
			return nil, fmt.Errorf("%q is not a day of the week; write a schedule like \"every Sunday at 19:00\"", w)
		}
		add(d)
	}
	if len(days) == 0 {
		return nil, fmt.Errorf(`say on which day of the week, like "every Sunday at 19:00"`)
	}
	return sortedWeekdays(days), nil
}
