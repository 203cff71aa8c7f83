package mailin_test

import (
	"strings"
	"testing"

	"github.com/inwriting/inwriting/mailin"
)

func TestTrim(t *testing.T) {
	for _, tt := range []struct {
		name, in, text string
	}{
		{"Nothing", "Hello\n\nthere", "Hello\n\nthere"},
		{"OnWrote", "I agree\n\nOn Fri, Nov 27, 2026 at 10:00 AM inwriting <service@example.test> wrote:\n> Please confirm", "I agree"},
		{"OnWroteWrapped", "I agree\n\nOn Fri, Nov 27, 2026 at 10:00 AM inwriting <\nservice@example.test> wrote:\n> Please confirm", "I agree"},
		{"German", "Ich stimme zu\n\nAm 27.11.2026 um 10:00 schrieb inwriting <service@example.test>:\n> Bitte", "Ich stimme zu"},
		{"French", "D'accord\n\nLe ven. 27 nov. 2026 à 10:00, inwriting <service@example.test> a écrit :\n> Veuillez", "D'accord"},
		{"Spanish", "De acuerdo\n\nEl vie, 27 nov 2026 a las 10:00, inwriting (<service@example.test>) escribió:\n> Por favor", "De acuerdo"},
		{"Dutch", "Akkoord\n\nOp vr 27 nov. 2026 om 10:00 schreef inwriting <service@example.test>:\n> Graag", "Akkoord"},
		{"Portuguese", "Concordo\n\nEm sex., 27 de nov. de 2026 às 10:00, inwriting <service@example.test> escreveu:\n> Por favor", "Concordo"},
		{"Outlook", "Agreed\n\nFrom: inwriting <service@example.test>\nSent: Friday, November 27, 2026 10:00 AM\nTo: Alice <alice@example.test>\nSubject: Please confirm\n\nPlease confirm", "Agreed"},
		{"OriginalMessage", "Yes.\n\n-----Original Message-----\nFrom: x\nold", "Yes."},
		{"Forwarded", "FYI\n\n---------- Forwarded message ---------\nFrom: x", "FYI"},
		{"DashDashSignature", "1 kept\n\n-- \nAlice\nwww.alice.test", "1 kept"},
		{"SentFromMyPhone", "I agree\n\nSent from my iPhone", "I agree"},
		{"QuoteAboveReply", "On Fri, Nov 27, 2026 at 10:00 AM inwriting <service@example.test> wrote:\n> Please confirm\n\nI agree", "I agree"},
		{"QuoteWithoutHeaderKept", "> you said you would call\nI did call, twice.", "> you said you would call\nI did call, twice."},
		{"InlineAnswers", "Here you go.\n\nOn Fri, Nov 27, 2026 at 10:00 AM inwriting <service@example.test> wrote:\n> 1. Call when late\n\nkept\n\n> 2. Tell Bob\n\npartly", "Here you go.\n\n> 1. Call when late\n\nkept\n\n> 2. Tell Bob\n\npartly"},
		{"FirstNameSignOffKept", "I agree.\n\nThanks,\nAlice", "I agree.\n\nThanks,\nAlice"},
		{"FullNameSignOffDropped", "I agree.\n\nBest regards,\nAlice Example", "I agree."},
		{"ContactBlock", "I agree.\n\nAlice Example\nTel: +44 20 7946 0000\nalice@example.test\nwww.example.test", "I agree."},
		{"CodeFence", "Look:\n```\n-- \n####\n```\nok", "Look:\n```\n--\n####\n```\nok"},
		{"CRLF", "I agree\r\n\r\nOn Fri, Nov 27, 2026 at 10:00 AM X <x@example.test> wrote:\r\n> y", "I agree"},
		{"ProseThatSaysWrote", "Here is what I wrote:\nmy list", "Here is what I wrote:\nmy list"},
		{"Empty", "", ""},
		// Headers recognised by their structure, in any language.
		{"GmailDateFirst", "Kept both\n\n2016-03-03 17:21 GMT+01:00 Bob <bob@example.test>:\n> hi", "Kept both"},
		{"Zoho", "Kept both\n\n---- On Sun, 06 Dec 2026 19:00:00 +0000 inwriting <service@example.test> wrote ----\n\nHello Alice, time for", "Kept both"},
		{"MailRu", "Согласна.\n\nВоскресенье, 6 декабря 2026, 19:00 +03:00 от inwriting <service@example.test>:\n> Hello", "Согласна."},
		{"Ukrainian", "Погоджуюся.\n\nнд, 6 груд. 2026 р. о 19:00 inwriting <service@example.test> пише:\n> Hello", "Погоджуюся."},
		{"Polish", "Zgadzam się.\n\nW dniu 6.12.2026 o 19:00, inwriting pisze:\n> Hello", "Zgadzam się."},
		{"Korean", "동의합니다.\n\n2026년 12월 6일 (일) 오후 7:00, inwriting <service@example.test>님이 작성:\n> Hello", "동의합니다."},
		{"Japanese", "同意します。\n\n2026年12月6日(日) 19:00 inwriting <service@example.test>:\n> Hello", "同意します。"},
		{"Catalan", "Hi estic d'acord.\n\nEl dg., 6 de des. 2026, 19:00, inwriting <service@example.test> va escriure:\n> Hello", "Hi estic d'acord."},
		{"OutlookJapanese", "同意します。\n\n差出人: inwriting <service@example.test>\n送信日時: 2026年12月6日 19:00\n宛先: Alice <alice@example.test>\n件名: Check-in\n\nHello", "同意します。"},
		{"ColonProseKept", "This is what happened in week 2:\n> you said\nI did.", "This is what happened in week 2:\n> you said\nI did."},
		// Signatures only where they clearly are.
		{"SentFromSentence", "All good.\n\nSent from my desk, is much easier then my mobile phone.", "All good.\n\nSent from my desk, is much easier then my mobile phone."},
		{"SentFromCzech", "Kept both.\n\nOdesláno z iPhonu", "Kept both."},
		{"SentFromJapanese", "Kept both.\n\niPhoneから送信", "Kept both."},
		{"SentFromTurkish", "Kept both.\n\niPhone'umdan gönderildi", "Kept both."},
		{"SentFromRussian", "Kept both.\n\nОтправлено с iPhone", "Kept both."},
		{"SentFromGerman", "Kept both.\n\nVon meinem iPhone gesendet", "Kept both."},
		{"ThanksNameKept", "1 kept, 2 partly\n\nThanks,\nAlice", "1 kept, 2 partly\n\nThanks,\nAlice"},
		// A forward keeps the note above it; a bare forward is its content.
		{"ForwardNote", "Have a look, this is what I meant.\n\n---------- Forwarded message ---------\nFrom: Bob <bob@example.test>\nDate: Sun, 6 Dec 2026 at 19:00\n\nHi Alice.", "Have a look, this is what I meant."},
		{"ForwardApple", "Have a look.\n\nBegin forwarded message:\n\nFrom: Bob <bob@example.test>\nSubject: plans\n\nHi Alice.", "Have a look."},
		{"ForwardBare", "---------- Forwarded message ---------\nFrom: Bob <bob@example.test>\nDate: Sun, 6 Dec 2026 at 19:00\nSubject: plans\n\nHi Alice, plans changed.", "Hi Alice, plans changed."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := mailin.Trim(tt.in)
			if r.Text != tt.text {
				t.Fatalf("Text = %q, want %q", r.Text, tt.text)
			}
			checkFromInput(t, tt.in, r)
		})
	}
}

// checkFromInput fails unless every line of r is a line of in: trimming
// never adds text.
func checkFromInput(t *testing.T, in string, r mailin.Reply) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\r", "\n"), "\n") {
		have[strings.TrimRight(strings.TrimPrefix(l, "\uFEFF"), " \t\r\n\v\f\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")] = true
	}
	for _, part := range []string{r.Text, r.Elided} {
		if part == "" {
			continue
		}
		for _, l := range strings.Split(part, "\n") {
			if !have[l] {
				t.Fatalf("line %q is not in the input", l)
			}
		}
	}
}

func TestTrim_CheckInAnswers(t *testing.T) {
	for _, in := range []string{
		"1 kept\nSomething good about Alice: she called at six.\n\nOn Fri, Nov 27, 2026 at 10:00 AM inwriting <service@example.test> wrote:\n> Time for your check-in",
		"1 kept, 2 partly\n\nOn Fri, Nov 27, 2026 at 10:00 AM inwriting <service@example.test> wrote:\n> Time for your check-in",
		"2026 was a good year\nand this week too\nOn Fri, Nov 27, 2026 at 10:00 AM inwriting <service@example.test> wrote:\n> x",
	} {
		r := mailin.Trim(in)
		first, _, _ := strings.Cut(in, "\n")
		if !strings.HasPrefix(r.Text, first) || strings.Contains(r.Text, "wrote:") {
			t.Fatalf("Trim(%q) = %q", in, r.Text)
		}
	}
}
