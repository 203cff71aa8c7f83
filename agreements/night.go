package agreements

import (
	"fmt"
	"strings"
	"time"
)

// Night is a time of day, from Start to End (minutes after midnight),
// across midnight when Start is after End; Start equal to End is none.
type Night struct{ Start, End int }

// ParseNight reads a night like "21:00-08:00"; "" and "off" are none.
func ParseNight(s string) (Night, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "off") {
		return Night{}, nil
	}
	from, to, ok := strings.Cut(s, "-")
	start, err1 := time.Parse("15:04", strings.TrimSpace(from))
	end, err2 := time.Parse("15:04", strings.TrimSpace(to))
	if !ok || err1 != nil || err2 != nil {
		return Night{}, Errorf(EINVALID, "%q is not a time of day like 21:00-08:00", s)
	}
	return Night{Start: start.Hour()*60 + start.Minute(), End: end.Hour()*60 + end.Minute()}, nil
}

// String returns n as ParseNight reads it.
func (n Night) String() string {
	if n.Start == n.End {
		return "off"
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", n.Start/60, n.Start%60, n.End/60, n.End%60)
}

// After returns the first moment at or after t, in loc, that is not in
// the night n.
func (n Night) After(t time.Time, loc *time.Location) time.Time {
	if n.Start == n.End {
		return t
	}
	l := t.In(loc)
	m := l.Hour()*60 + l.Minute()
	in := m >= n.Start && m < n.End
	if n.Start > n.End {
		in = m >= n.Start || m < n.End
	}
	if !in {
		return t
	}
	end := time.Date(l.Year(), l.Month(), l.Day(), n.End/60, n.End%60, 0, 0, loc)
	if !end.After(l) {
		end = time.Date(l.Year(), l.Month(), l.Day()+1, n.End/60, n.End%60, 0, 0, loc)
	}
	return end.UTC()
}
