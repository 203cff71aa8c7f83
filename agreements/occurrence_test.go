package agreements_test

import (
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
)

func mustLoc(t *testing.T, name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func date(t *testing.T, s string) agreements.Date {
	d, err := agreements.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestSchedule_At(t *testing.T) {
	lisbon, chicago := mustLoc(t, "Europe/Lisbon"), mustLoc(t, "America/Chicago")
	sunday19 := agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Sunday}, Hour: 19}
	for _, tt := range []struct {
		name string
		s    agreements.Schedule
		day  string
		loc  *time.Location
		want string // UTC
	}{
		{"LisbonWinter", sunday19, "2026-11-29", lisbon, "2026-11-29T19:00:00Z"},
		{"LisbonSummer", sunday19, "2026-06-28", lisbon, "2026-06-28T18:00:00Z"},
		{"ChicagoWinter", sunday19, "2026-11-29", chicago, "2026-11-30T01:00:00Z"},
		{"ChicagoSummer", sunday19, "2026-06-28", chicago, "2026-06-29T00:00:00Z"},
		// 2027-03-14: Chicago goes from 02:00 to 03:00; 02:30 does not exist.
		{"Gap", agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 2, Minute: 30}, "2027-03-14", chicago, "2027-03-14T08:00:00Z"},
		// 2026-11-01: Chicago goes from 02:00 back to 01:00; 01:30 happens twice.
		{"Twice", agreements.Schedule{Unit: agreements.Day, Every: 1, Hour: 1, Minute: 30}, "2026-11-01", chicago, "2026-11-01T06:30:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.s.At(date(t, tt.day), tt.loc).UTC().Format(time.RFC3339)
			if got != tt.want {
				t.Fatalf("At = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestSchedule_Occurs(t *testing.T) {
	anchor := date(t, "2026-11-25") // a Wednesday
	for _, tt := range []struct {
		name  string
		s     agreements.Schedule
		days  []string
		never []string
	}{
		{"Weekly", agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Sunday}, Hour: 19},
			[]string{"2026-11-29", "2026-12-06"}, []string{"2026-11-22", "2026-11-30"}},
		{"EveryOtherWeek", agreements.Schedule{Unit: agreements.Week, Every: 2, Weekdays: []time.Weekday{time.Friday}, Hour: 9},
			[]string{"2026-11-27", "2026-12-11"}, []string{"2026-12-04"}},
		{"Every3Days", agreements.Schedule{Unit: agreements.Day, Every: 3, Hour: 9},
			[]string{"2026-11-25", "2026-11-28", "2026-12-01"}, []string{"2026-11-26", "2026-11-24"}},
		{"Monthly31", agreements.Schedule{Unit: agreements.Month, Every: 1, DayOfMonth: 31, Hour: 9},
			[]string{"2026-11-30", "2026-12-31", "2027-02-28"}, []string{"2026-12-30"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, d := range tt.days {
				if !tt.s.Occurs(date(t, d), anchor) {
					t.Fatalf("%s does not occur on %s", tt.s, d)
				}
			}
			for _, d := range tt.never {
				if tt.s.Occurs(date(t, d), anchor) {
					t.Fatalf("%s occurs on %s", tt.s, d)
				}
			}
		})
	}
	s := agreements.Schedule{Unit: agreements.Week, Every: 1, Weekdays: []time.Weekday{time.Sunday}, Hour: 19}
	if got, ok := s.Latest(date(t, "2026-12-09"), anchor); !ok || got.String() != "2026-12-06" {
		t.Fatalf("Latest = %v %v", got, ok)
	}
	if _, ok := s.Latest(date(t, "2026-11-28"), anchor); ok {
		t.Fatal("an occurrence before the anchor")
	}
	if got := s.Next(date(t, "2026-11-29"), anchor); got.String() != "2026-12-06" {
		t.Fatalf("Next = %v", got)
	}
}
