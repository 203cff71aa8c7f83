package agreements_test

import (
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

// parseICS unfolds an iCalendar file into its content lines.
func parseICS(s string) []string {
	s = strings.ReplaceAll(s, "\r\n ", "")
	return strings.Split(strings.TrimRight(s, "\r\n"), "\r\n")
}

func TestICalendar(t *testing.T) {
	a := &agreements.Agreement{ID: 7, Version: 2, Terms: testTerms()}
	ics := agreements.ICalendar(a, date(t, "2026-11-25"), time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC))
	lines := parseICS(ics)
	has := func(want string) bool {
		for _, l := range lines {
			if l == want {
				return true
			}
		}
		return false
	}
	for _, want := range []string{
		"BEGIN:VCALENDAR", "VERSION:2.0",
		"DTSTART;TZID=Europe/Lisbon:20261129T190000",
		"DTSTART;TZID=America/Chicago:20261129T190000",
		"RRULE:FREQ=WEEKLY;BYDAY=SU",
		"TZID:Europe/Lisbon", "TZID:America/Chicago",
		"TZOFFSETFROM:-0600", "TZOFFSETTO:-0500",
		"RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",   // Chicago's spring change
		"RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU", // Lisbon's autumn change
		"END:VCALENDAR",
	} {
		if !has(want) {
			t.Fatalf("the calendar lacks %q:\n%s", want, ics)
		}
	}
	if strings.Count(ics, "BEGIN:VEVENT") != 2 {
		t.Fatal("want one event per party")
	}
	for _, l := range strings.Split(ics, "\r\n") {
		if len(l) > 75 {
			t.Fatalf("line longer than 75 octets: %q", l)
		}
	}
}

func TestRRule(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want string
	}{
		{"every day at 08:00", "FREQ=DAILY"},
		{"every 3 days at 08:00", "FREQ=DAILY;INTERVAL=3"},
		{"every Monday and Thursday at 19:00", "FREQ=WEEKLY;BYDAY=MO,TH"},
		{"every 2 weeks on Sunday at 19:00", "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU"},
		{"monthly on the 1st at 18:00", "FREQ=MONTHLY;BYMONTHDAY=1"},
		{"monthly on the 31st at 18:00", "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"},
	} {
		s, err := agreements.ParseSchedule(tt.s)
		if err != nil {
			t.Fatal(err)
		}
		if got := agreements.RRule(s); got != tt.want {
			t.Fatalf("RRule(%s) = %s, want %s", tt.s, got, tt.want)
		}
	}
}
