package agreements_test

import (
	"errors"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

func TestParseSchedule(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // the canonical form
	}{
		{"every Sunday at 19:00", "every Sunday at 19:00"},
		{"Every sunday at 7pm", "every Sunday at 19:00"},
		{"sundays at 7:30 pm", "every Sunday at 19:30"},
		{"weekly on Sunday at 19.00", "every Sunday at 19:00"},
		{"every Monday and Thursday at 19:00", "every Monday and Thursday at 19:00"},
		{"every Thursday, Monday & Saturday at 08:05", "every Monday, Thursday and Saturday at 08:05"},
		{"weekdays at 18:00", "every Monday, Tuesday, Wednesday, Thursday and Friday at 18:00"},
		{"daily at 8pm", "every day at 20:00"},
		{"every day at 20:00", "every day at 20:00"},
		{"every evening at 21h", "every day at 21:00"},
		{"every 3 days at 09:00", "every 3 days at 09:00"},
		{"every other week on Sunday at 19:00", "every 2 weeks on Sunday at 19:00"},
		{"every 2 weeks on sun at 7 am", "every 2 weeks on Sunday at 07:00"},
		{"monthly on the 1st at 18:00", "every month on day 1 at 18:00"},
		{"every month on day 15 at noon", "every month on day 15 at 12:00"},
		{"on the 3rd of every month at 12am", "every month on day 3 at 00:00"},
		{"every 3 months on the 31st at 10:00.", "every 3 months on day 31 at 10:00"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			s, err := agreements.ParseSchedule(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.String(); got != tt.want {
				t.Fatalf("String = %q, want %q", got, tt.want)
			}
			// The canonical form reads back to the same schedule.
			back, err := agreements.ParseSchedule(s.String())
			if err != nil {
				t.Fatal(err)
			}
			if back.String() != s.String() {
				t.Fatalf("round trip = %q, want %q", back.String(), s.String())
			}
		})
	}
}

func TestParseSchedule_ErrInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"every Sunday",          // no time
		"every 3 days",          // no time: 3 is not a time
		"every Funday at 19:00", // no such day
		"every Sunday at 25:00", // no such hour
		"every Sunday at 13pm",  // no such hour
		"every Sunday at 19:60", // no such minute
		"monthly at 18:00",      // which day?
		"every month on the 32nd at 18:00",
		"every 0 days at 10:00",
		"every 100 weeks on Sunday at 10:00",
		"every 3 days on Monday at 10:00",
		"whenever at 10:00",
	} {
		t.Run(in, func(t *testing.T) {
			_, err := agreements.ParseSchedule(in)
			if !errors.Is(err, agreements.ErrInvalid) {
				t.Fatalf("ParseSchedule(%q) = %v, want ErrInvalid", in, err)
			}
			if agreements.ErrorMessage(err) == "" {
				t.Fatal("empty message")
			}
		})
	}
}
