package mailin_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

func TestTrimAgainst(t *testing.T) {
	s := loadSent(t, "checkin")
	hdr := "On Sun, 6 Dec 2026 at 19:00, " + svc + " wrote:\n"
	for _, tt := range []struct {
		name, body, text string
		matched          bool
	}{
		// The answer is the check-in's own example: it is still the answer.
		{"AnswerLikeOurExample", "1 kept, 2 partly\n\n" + hdr + quoteGT(s.text), "1 kept, 2 partly", true},
		{"BottomPosted", hdr + quoteGT(s.text) + "\nKept both, and thank you for Sunday.\n", "Kept both, and thank you for Sunday.", true},
		{"Inline", hdr + "> Time for your check-in on \"Evenings and phone calls\", your agreement with Bob.\n>\n>    1. Call or text before 18:00 when I will be home after 19:00.\nkept\n>    2. Tell Bob myself when plans change,\n>       before he hears it from someone else.\npartly\n>\n> 2. One positive thing about Bob:\nHe listened.\n>\n> 3. One positive thing about yourself:\n> 4. Anything that went wrong, to talk about:\n",
			"> Time for your check-in on \"Evenings and phone calls\", your agreement with Bob.\n>\n>    1. Call or text before 18:00 when I will be home after 19:00.\nkept\n>    2. Tell Bob myself when plans change,\n>       before he hears it from someone else.\npartly\n>\n> 2. One positive thing about Bob:\nHe listened.", true},
		{"UnquotedRewrapped", "Kept both\n\n" + rewrap(s.text, 50), "Kept both", true},
		{"NotOurMail", "Kept both\n\n" + hdr + "> Something else entirely, about a different matter that we never sent.\n", "Kept both", false},
		{"NoQuote", "Kept both", "Kept both", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, matched := mailin.TrimAgainst(tt.body, s.text)
			if r.Text != tt.text || matched != tt.matched {
				t.Fatalf("TrimAgainst = %q (matched %v), want %q (matched %v)", r.Text, matched, tt.text, tt.matched)
			}
			checkFromInput(t, tt.body, r)
		})
	}
}

// TestReadReply_InContext reads replies as the store does: the quote of
// the mail answered is cut, and check-in answers are read against the
// writer's own commitments.
func TestReadReply_InContext(t *testing.T) {
	s := loadSent(t, "checkin")
	raw := goldenRaw(t, "checkin")
	commitments := []string{"Call or text before 18:00 when I will be home after 19:00.", "Tell Bob myself when plans change,\nbefore he hears it from someone else."}
	rc := agreements.ReplyContext{Purpose: agreements.PurposeCheckIn, RoundOpen: true, Commitments: commitments, Others: []string{"Bob"}, Sent: raw}
	hdr := "On Sun, 6 Dec 2026 at 19:00, " + svc + " wrote:\n"
	K, P, M := agreements.CheckInKept, agreements.CheckInPartly, agreements.CheckInMissed
	for _, tt := range []struct {
		name, body string
		statuses   map[int]string
		other      string
		self       string
		wrong      string
	}{
		{"AllKept", "All kept this week.\n\n" + hdr + quoteGT(s.text), map[int]string{1: K, 2: K}, "", "", ""},
		{"KeptBoth", "kept both", map[int]string{1: K, 2: K}, "", "", ""},
		{"MissedBoth", "Missed both, sorry.", map[int]string{1: M, 2: M}, "", "", ""},
		{"InOrder", "kept, kept", map[int]string{1: K, 2: K}, "", "", ""},
		{"YesNo", "1 yes 2 no", map[int]string{1: K, 2: M}, "", "", ""},
		{"LinePerCommitment", "Kept - I called every time.\nPartly, I forgot once.", map[int]string{1: K, 2: P}, "", "", ""},
		{"Paraphrased", "I called before six every evening, done.\nTelling Bob when plans change: missed.", map[int]string{1: K, 2: M}, "", "", ""},
		{"BeyondCommitments", "7 kept", map[int]string{}, "", "", ""},
		{"PositiveOther", "Bob cooked dinner on Tuesday, that was lovely.", map[int]string{}, "Bob cooked dinner on Tuesday, that was lovely.", "", ""},
		{"PositiveSelf", "I was proud I called.", map[int]string{}, "", "I was proud I called.", ""},
		{"Thanks", "Kept both. Thanks for listening on Sunday.", map[int]string{1: K, 2: K}, "Thanks for listening on Sunday.", "", ""},
		{"WentWrong", "We should talk about the weekend.", map[int]string{}, "", "", "We should talk about the weekend."},
		{"Upset", "I was upset when plans changed without a word.", map[int]string{}, "", "", "I was upset when plans changed without a word."},
		{"NegatedPraise", "Bob did not call, which was not nice.", map[int]string{}, "", "", ""},
		{"AllGoodIsNoStatus", "All good.", map[int]string{}, "", "", ""},
		{"Inline", hdr + ">    1. Call or text before 18:00 when I will be home after 19:00.\nkept\n>    2. Tell Bob myself when plans change,\n>       before he hears it from someone else.\npartly\n", map[int]string{1: K, 2: P}, "", "", ""},
		{"French", "1 tenu, 2 en partie", map[int]string{1: K, 2: P}, "", "", ""},
		{"German", "Beide gehalten.", map[int]string{1: K, 2: K}, "", "", ""},
		{"Spanish", "Los dos cumplidos.", map[int]string{1: K, 2: K}, "", "", ""},
		{"Portuguese", "Cumpri os dois.", map[int]string{1: K, 2: K}, "", "", ""},
		{"Dutch", "Allebei gehouden", map[int]string{1: K, 2: K}, "", "", ""},
		{"GermanAll", "Alles erledigt.", map[int]string{1: K, 2: K}, "", "", ""},
		{"SpanishAll", "Todo cumplido", map[int]string{1: K, 2: K}, "", "", ""},
		{"SpanishNumbers", "1 sí 2 no", map[int]string{1: K, 2: M}, "", "", ""},
		{"PortugueseNumbers", "1 sim 2 não", map[int]string{1: K, 2: M}, "", "", ""},
		{"NumberList", "1 & 2 kept", map[int]string{1: K, 2: K}, "", "", ""},
		{"ListNumber", "kept 1 and 2", map[int]string{1: K, 2: K}, "", "", ""},
		{"DidBoth", "Did both.", map[int]string{1: K, 2: K}, "", "", ""},
		{"KeptMostly", "Kept it, mostly.\nPartly.", map[int]string{1: P, 2: P}, "", "", ""},
		{"DidNotDoBoth", "I did not do both", map[int]string{}, "", "", ""},
		{"NotAllDone", "Not all done this week.", map[int]string{}, "", "", ""},
		{"PerSentence", "The calls went well, I always texted before six. Telling Bob about plans: missed once.", map[int]string{2: M}, "", "", ""},
		{"Question", "Did you get my message?", map[int]string{}, "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mailin.Reader{}.ReadReply(agreements.ReplyMessage{Body: tt.body}, rc)
			if r.Intent.Kind != agreements.IntentCheckIn || r.CheckIn == nil {
				t.Fatalf("Intent = %+v, want a check-in", r.Intent)
			}
			a := r.CheckIn
			if !maps.Equal(a.Statuses, tt.statuses) {
				t.Fatalf("Statuses = %v, want %v (text %q)", a.Statuses, tt.statuses, r.Text)
			}
			if a.PositiveOther != tt.other || a.PositiveSelf != tt.self || a.WentWrong != tt.wrong {
				t.Fatalf("other %q self %q wrong %q, want %q %q %q", a.PositiveOther, a.PositiveSelf, a.WentWrong, tt.other, tt.self, tt.wrong)
			}
			if a.Text != r.Text || strings.Contains(a.Text, "Time for your check-in") {
				t.Fatalf("Text = %q, want the reply without our mail", a.Text)
			}
		})
	}
}

func goldenRaw(t testing.TB, kind string) []byte {
	t.Helper()
	raw, err := readGolden(kind)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func FuzzTrimAgainst(f *testing.F) {
	sent := "Hello Alice,\n\nTime for your check-in on \"Evenings\".\n\n1 kept, 2 partly\nSomething good about Bob: ...\n-- \nReply \"help\"."
	for _, s := range []string{"1 kept\n\nOn x, y <a@b.c> wrote:\n> " + sent, "> Hello Alice,\nkept\n> Time for your check-in", sent, ""} {
		f.Add(s, sent)
	}
	seedCorpus(f, func(b []byte) { f.Add(string(b), sent) })
	f.Fuzz(func(t *testing.T, body, sent string) {
		var r mailin.Reply
		within(t, 2*time.Second, func() { r, _ = mailin.TrimAgainst(body, sent) })
		checkFromInput(t, body, r)
	})
}

func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"All kept this week.", "kept, kept", "1 yes 2 no", "pause until 10 December", "Bob was lovely.", "I agree"} {
		f.Add(s)
	}
	rcs := []agreements.ReplyContext{
		{Purpose: agreements.PurposeCheckIn, RoundOpen: true, Commitments: []string{"Call before six", "Cook on Fridays"}, Others: []string{"Bob"}, Now: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)},
		{Purpose: agreements.PurposeCommands, RoundOpen: true, Commitments: []string{"Call"}, Others: []string{"Bob"}},
		{Purpose: agreements.PurposeConfirm, Pending: true},
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, rc := range rcs {
			var r agreements.Reading
			within(t, 2*time.Second, func() { r = mailin.Reader{}.ReadReply(agreements.ReplyMessage{Body: text}, rc) })
			checkFromInput(t, text, mailin.Reply{Text: r.Text})
			if a := r.CheckIn; a != nil {
				for n, st := range a.Statuses {
					if n < 1 || n > len(rc.Commitments) {
						t.Fatalf("%q: status for commitment %d of %d", text, n, len(rc.Commitments))
					}
					if st != agreements.CheckInKept && st != agreements.CheckInPartly && st != agreements.CheckInMissed {
						t.Fatalf("%q: status %q", text, st)
					}
				}
			}
		}
	})
}

// BenchmarkTrim compares, on the same reply (a line of answer above the
// whole check-in quoted by Gmail), the generic trimmer with trimming
// against the mail answered: the cost of reading against the sent mail,
// with its index built for each reply (Index) or taken from the reader's
// cache (the mail is answered again).
func BenchmarkTrim(b *testing.B) {
	raw := goldenRaw(b, "checkin")
	m, err := mailin.ParseMessage(raw, mailin.ParseOptions{})
	if err != nil {
		b.Fatal(err)
	}
	body := "Kept both, and thank you for Sunday.\n\nOn Sun, 6 Dec 2026 at 19:00, " + svc + " wrote:\n" + quoteGT(m.Body)
	rc := agreements.ReplyContext{Purpose: agreements.PurposeCommands, Sent: raw, SentID: "bench@example.test"}
	b.Run("Generic", func(b *testing.B) {
		for range b.N {
			mailin.Trim(body)
		}
	})
	b.Run("AgainstSent/Index", func(b *testing.B) {
		text := m.Body + "\n" + mailin.HTMLToText(m.HTML)
		for range b.N {
			mailin.TrimAgainst(body, text)
		}
	})
	b.Run("AgainstSent/Cached", func(b *testing.B) {
		for range b.N {
			mailin.Reader{}.ReadReply(agreements.ReplyMessage{Body: body}, rc)
		}
	})
}

// TestReadReply_UnsubscribeLink: the List-Unsubscribe mailto link's mail
// is an unsubscribe, with the token's tag in its subject or without.
func TestReadReply_UnsubscribeLink(t *testing.T) {
	for _, subject := range []string{"unsubscribe", "Unsubscribe [ref abcdefghijklmnopqrstuvwx]"} {
		r := mailin.Reader{}.ReadReply(agreements.ReplyMessage{Subject: subject}, agreements.ReplyContext{Purpose: agreements.PurposeCommands})
		if r.Intent.Kind != agreements.IntentCommand || r.Intent.Command != agreements.CommandUnsubscribe {
			t.Errorf("subject %q, no text: %+v, want unsubscribe", subject, r.Intent)
		}
	}
	if r := (mailin.Reader{}).ReadReply(agreements.ReplyMessage{Subject: "unsubscribe me from weekends? [ref abcdefghijklmnopqrstuvwx]"}, agreements.ReplyContext{}); r.Intent.Command == agreements.CommandUnsubscribe {
		t.Error("a question in the subject was taken for the unsubscribe link")
	}
}
