package agreements

import (
	"fmt"
	"strings"
	"time"
)

// ICalendar renders the check-in schedule of a as an iCalendar file
// (RFC 5545): one recurring event per party at the schedule's time in the
// party's own time zone, starting on the first occurrence on or after
// from, with a VTIMEZONE for each zone.
func ICalendar(a *Agreement, from Date, stamp time.Time) string {
	var b strings.Builder
	line := func(s string) {
		// Fold at 75 octets (RFC 5545 §3.1).
		for len(s) > 75 {
			cut := 75
			for cut > 0 && s[cut]&0xC0 == 0x80 {
				cut--
			}
			b.WriteString(s[:cut] + "\r\n")
			s = " " + s[cut:]
		}
		b.WriteString(s + "\r\n")
	}
	s := a.Terms.CheckIn
	first := from
	if !s.Occurs(first, from) {
		first = s.Next(from, from)
	}
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//inwriting//check-ins//EN")
	line("CALSCALE:GREGORIAN")
	zones := map[string]bool{}
	for _, p := range a.Terms.Parties {
		if !zones[p.TimeZone] {
			zones[p.TimeZone] = true
			writeTimezone(line, p.TimeZone, first)
		}
	}
	for _, p := range a.Terms.Parties {
		loc, err := LoadLocation(p.TimeZone)
		if err != nil {
			continue
		}
		start := s.At(first, loc).In(loc)
		line("BEGIN:VEVENT")
		line(fmt.Sprintf("UID:inwriting-%d-checkin-%s", a.ID, p.Address))
		line("DTSTAMP:" + stamp.UTC().Format("20060102T150405Z"))
		line("DTSTART;TZID=" + p.TimeZone + ":" + start.Format("20060102T150405"))
		line("DURATION:PT15M")
		line("RRULE:" + RRule(s))
		line("SUMMARY:" + icalText(fmt.Sprintf("Check-in: %s (%s)", a.Terms.Title, p.FirstName())))
		line("DESCRIPTION:" + icalText(fmt.Sprintf("%s's check-in on agreement %d, version %d: the mail comes at this time.", p.FirstName(), a.ID, a.Version)))
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return b.String()
}

// RRule returns the iCalendar recurrence rule of s.
func RRule(s Schedule) string {
	interval := ""
	if s.Every > 1 {
		interval = fmt.Sprintf(";INTERVAL=%d", s.Every)
	}
	switch s.Unit {
	case Day:
		return "FREQ=DAILY" + interval
	case Week:
		days := make([]string, len(s.Weekdays))
		for i, d := range sortedWeekdays(s.Weekdays) {
			days[i] = strings.ToUpper(d.String()[:2])
		}
		return "FREQ=WEEKLY" + interval + ";BYDAY=" + strings.Join(days, ",")
	case Month:
		if s.DayOfMonth <= 28 {
			return fmt.Sprintf("FREQ=MONTHLY%s;BYMONTHDAY=%d", interval, s.DayOfMonth)
		}
		// Day 29 to 31, or the month's last day when it is shorter.
		var days []string
		for d := 28; d <= s.DayOfMonth; d++ {
			days = append(days, fmt.Sprint(d))
		}
		return fmt.Sprintf("FREQ=MONTHLY%s;BYMONTHDAY=%s;BYSETPOS=-1", interval, strings.Join(days, ","))
	}
	return ""
}

// writeTimezone writes a VTIMEZONE for zone, with its daylight-saving
// rules as they stand in the year of d (Go's zone data does not say how
// rules change later; clients take the TZID's rules where they know it).
func writeTimezone(line func(string), zone string, d Date) {
	loc, err := LoadLocation(zone)
	if err != nil {
		return
	}
	line("BEGIN:VTIMEZONE")
	line("TZID:" + zone)
	year := d.Year
	jan := time.Date(year, 1, 1, 0, 0, 0, 0, loc)
	_, janOff := jan.Zone()
	var transitions []time.Time
	prev := janOff
	for t := jan; t.Year() == year; t = t.Add(time.Hour) {
		if _, off := t.Zone(); off != prev {
			transitions = append(transitions, t)
			prev = off
		}
	}
	if len(transitions) == 0 {
		name, off := jan.Zone()
		line("BEGIN:STANDARD")
		line("DTSTART:19700101T000000")
		line("TZOFFSETFROM:" + offset(off))
		line("TZOFFSETTO:" + offset(off))
		line("TZNAME:" + name)
		line("END:STANDARD")
	}
	for _, t := range transitions {
		before := t.Add(-time.Hour)
		_, fromOff := before.Zone()
		name, toOff := t.Zone()
		kind := "STANDARD"
		if toOff > fromOff {
			kind = "DAYLIGHT"
		}
		// The local wall time at which the change happens, before it.
		wall := t.Add(time.Duration(fromOff) * time.Second).UTC()
		wall = wall.Truncate(time.Hour)
		line("BEGIN:" + kind)
		line("DTSTART:" + wall.Format("20060102T150405"))
		line("TZOFFSETFROM:" + offset(fromOff))
		line("TZOFFSETTO:" + offset(toOff))
		line("TZNAME:" + name)
		nth := (wall.Day()-1)/7 + 1
		if wall.AddDate(0, 0, 7).Month() != wall.Month() {
			nth = -1
		}
		line(fmt.Sprintf("RRULE:FREQ=YEARLY;BYMONTH=%d;BYDAY=%d%s", int(wall.Month()), nth, strings.ToUpper(wall.Weekday().String()[:2])))
		line("END:" + kind)
	}
	line("END:VTIMEZONE")
}

func offset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	return fmt.Sprintf("%s%02d%02d", sign, sec/3600, sec%3600/60)
}

func icalText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`).Replace(s)
}
