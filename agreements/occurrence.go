package agreements

import "time"

// A Date is a calendar day, without a time zone: the day of an occurrence
// of a schedule. Each party's check-in for it comes at the schedule's time
// of day in the party's own time zone.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar day of t in t's location.
func DateOf(t time.Time) Date { return Date{t.Year(), t.Month(), t.Day()} }

func (d Date) String() string { return d.t().Format("2006-01-02") }

// t is the day at midnight UTC, for calendar arithmetic.
func (d Date) t() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// AddDays returns the day n days later.
func (d Date) AddDays(n int) Date { return DateOf(d.t().AddDate(0, 0, n)) }

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.t().Before(e.t()) }

// ParseDate reads "2006-01-02".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return Date{}, err
	}
	return DateOf(t), nil
}

// At returns the instant of day d at s's time of day in loc. A time that
// does not exist that day (the clocks jump past it) is the first minute
// after the jump: 02:30 on a night that goes from 02:00 to 03:00 is 03:00.
// A time that exists twice is the first of the two.
func (s Schedule) At(d Date, loc *time.Location) time.Time {
	t := time.Date(d.Year, d.Month, d.Day, s.Hour, s.Minute, 0, 0, loc)
	if t.Hour() == s.Hour && t.Minute() == s.Minute && DateOf(t) == d {
		// Exists; for a repeated hour take the earlier instant.
		if e := t.Add(-time.Hour); e.Hour() == s.Hour && e.Minute() == s.Minute && DateOf(e) == d {
			return e
		}
		return t
	}
	// In a gap: walk from the start of the day to the first minute at or
	// past the wanted time.
	want := s.Hour*60 + s.Minute
	for m := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, loc); DateOf(m) == d; m = m.Add(time.Minute) {
		if m.Hour()*60+m.Minute() >= want {
			return m
		}
	}
	return t
}

// Occurs reports whether d is an occurrence of s, counting intervals from
// anchor (the day the agreement became active).
func (s Schedule) Occurs(d, anchor Date) bool {
	if d.Before(anchor) {
		return false
	}
	days := int(d.t().Sub(anchor.t()).Hours() / 24)
	switch s.Unit {
	case Day:
		return days%s.Every == 0
	case Week:
		wd := d.t().Weekday()
		on := false
		for _, w := range s.Weekdays {
			on = on || w == wd
		}
		if !on {
			return false
		}
		// Weeks since the anchor's week (weeks start on Monday).
		start := func(x Date) time.Time {
			t := x.t()
			return t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
		}
		weeks := int(start(d).Sub(start(anchor)).Hours() / (24 * 7))
		return weeks%s.Every == 0
	case Month:
		months := (d.Year-anchor.Year)*12 + int(d.Month-anchor.Month)
		if months%s.Every != 0 {
			return false
		}
		last := time.Date(d.Year, d.Month+1, 0, 0, 0, 0, 0, time.UTC).Day()
		return d.Day == min(s.DayOfMonth, last)
	}
	return false
}

// Latest returns the latest occurrence on or before d, searching back at
// most a year (and two months for a monthly schedule every 12 months),
// and whether there is one since anchor.
func (s Schedule) Latest(d, anchor Date) (Date, bool) {
	for i := 0; i <= 800; i++ {
		x := d.AddDays(-i)
		if x.Before(anchor) {
			return Date{}, false
		}
		if s.Occurs(x, anchor) {
			return x, true
		}
	}
	return Date{}, false
}

// Next returns the first occurrence after d.
func (s Schedule) Next(d, anchor Date) Date {
	if d.Before(anchor) {
		d = anchor.AddDays(-1)
	}
	for i := 1; i <= 800; i++ {
		if x := d.AddDays(i); s.Occurs(x, anchor) {
			return x
		}
	}
	return d.AddDays(800)
}
