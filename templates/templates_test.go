package templates_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/internal/mailtest"
	"github.com/inwriting/inwriting/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var fixture = mailtest.MailData

// TestGolden renders every kind of mail from the same data and compares
// its words with testdata/KIND.txt (the subject, then the text part) and
// testdata/KIND.html (the HTML part), so that a change of words reads as
// one in a diff. The whole messages, as sent, are mailout's goldens.
func TestGolden(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range agreements.MailKinds {
		t.Run(string(kind), func(t *testing.T) {
			subject, text, html, err := set.Render(string(kind), fixture(kind))
			if err != nil {
				t.Fatal(err)
			}
			for ext, got := range map[string]string{"txt": "Subject: " + subject + "\n\n" + text, "html": html} {
				mailtest.Golden(t, filepath.Join("testdata", string(kind)+"."+ext), []byte(got), *update)
			}
		})
	}
}

// TestGolden_Variants renders the mails whose words change with what
// happened, in each other variant, and compares them with
// testdata/VARIANT-KIND.txt and .html: an amendment of version 1, which
// stays in force meanwhile (its "please confirm" and reminder show what
// changed; declined and expired say version 1 stays), and the end of an
// agreement for a reader who may start a new one by mail.
func TestGolden_Variants(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	amend := func(d *agreements.MailData) {
		d.InForce, d.Amends = 1, 1
		d.Changes = []string{
			"  Alice Example <alice@example.test> will:",
			"- 1. Call or text before 18:30 when I will be home after 19:00.",
			"+ 1. Call or text before 18:00 when I will be home after 19:00.",
			"+ 2. Tell Bob myself when plans change,",
			"+    before he hears it from someone else.",
		}
	}
	variants := []struct {
		name  string
		kinds []agreements.MailKind
		edit  func(*agreements.MailData)
	}{
		{"amendment", []agreements.MailKind{agreements.MailConfirmRequest, agreements.MailConfirmReminder, agreements.MailDeclined, agreements.MailExpired}, amend},
		{"start-by-mail", []agreements.MailKind{agreements.MailDeclined, agreements.MailExpired}, func(d *agreements.MailData) { d.StartAt = "agreements@example.test" }},
	}
	for _, v := range variants {
		for _, kind := range v.kinds {
			t.Run(v.name+"/"+string(kind), func(t *testing.T) {
				d := fixture(kind)
				v.edit(d)
				subject, text, html, err := set.Render(string(kind), d)
				if err != nil {
					t.Fatal(err)
				}
				for ext, got := range map[string]string{"txt": "Subject: " + subject + "\n\n" + text, "html": html} {
					mailtest.Golden(t, filepath.Join("testdata", v.name+"-"+string(kind)+"."+ext), []byte(got), *update)
				}
			})
		}
	}
}

func TestRender_Errors(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(d *agreements.MailData){
		"NoRecipient":   func(d *agreements.MailData) { d.Recipient.Address = "" },
		"NoAgreement":   func(d *agreements.MailData) { d.Agreement = nil },
		"NoFingerprint": func(d *agreements.MailData) { d.Agreement.Fingerprint = "" },
		"NoDeadline":    func(d *agreements.MailData) { d.Deadline = time.Time{} },
		"NoOthers":      func(d *agreements.MailData) { d.Others = nil },
	} {
		t.Run(name, func(t *testing.T) {
			d := fixture(agreements.MailConfirmRequest)
			mutate(d)
			if _, _, _, err := set.Render(string(d.Kind), d); err == nil {
				t.Fatal("Render succeeded with a missing field")
			}
		})
	}
	t.Run("PerKind", func(t *testing.T) {
		for kind, mutate := range map[agreements.MailKind]func(d *agreements.MailData){
			agreements.MailConfirmed:       func(d *agreements.MailData) { d.Audit = nil },
			agreements.MailComment:         func(d *agreements.MailData) { d.Quote = "" },
			agreements.MailDeclined:        func(d *agreements.MailData) { d.Author = nil },
			agreements.MailUnsure:          func(d *agreements.MailData) { d.Quote = "" },
			agreements.MailReceipt:         func(d *agreements.MailData) { d.Recorded, d.Confirmed = nil, 0 },
			agreements.MailCouldNotProcess: func(d *agreements.MailData) { d.Reason = "" },
			agreements.MailNotUnderstood:   func(d *agreements.MailData) { d.Quote = "" },
			agreements.MailSuperseded:      func(d *agreements.MailData) { d.RepliedTo = 2 },
			agreements.MailBounceNotice:    func(d *agreements.MailData) { d.Author = nil },
		} {
			d := fixture(kind)
			mutate(d)
			if _, _, _, err := set.Render(string(kind), d); err == nil {
				t.Fatalf("%s: Render succeeded with a missing field", kind)
			}
		}
	})
	t.Run("WrongKind", func(t *testing.T) {
		if _, _, _, err := set.Render("confirmed", fixture(agreements.MailConfirmRequest)); err == nil {
			t.Fatal("rendered confirm-request data as confirmed")
		}
		if _, _, _, err := set.Render("nonsense", fixture(agreements.MailConfirmRequest)); err == nil {
			t.Fatal("rendered an unknown kind")
		}
		if _, _, _, err := set.Render("confirmed", "hello"); err == nil {
			t.Fatal("rendered a string")
		}
	})
	t.Run("NoAgreementIsFineForCouldNotProcess", func(t *testing.T) {
		d := fixture(agreements.MailCouldNotProcess)
		d.Agreement, d.Others = nil, nil
		if _, text, _, err := set.Render(string(d.Kind), d); err != nil || !strings.Contains(text, "larger than the 10 MB") {
			t.Fatalf("Render = %v\n%s", err, text)
		}
	})
}

func TestNew_Override(t *testing.T) {
	dir := t.TempDir()
	custom := `{{define "subject"}}Bitte bestätigen: {{.Agreement.Title}}{{end}}{{define "text"}}Hallo {{.Recipient.FirstName}}{{end}}`
	if err := os.WriteFile(filepath.Join(dir, "confirm-request.txt"), []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := templates.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	subject, text, html, err := set.Render("confirm-request", fixture(agreements.MailConfirmRequest))
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Bitte bestätigen: Evenings and phone calls" || text != "Hallo Alice\n" || !strings.Contains(html, "I agree") {
		t.Fatalf("override: %q %q", subject, text)
	}

	t.Run("Broken", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "confirmed.txt"), []byte(`{{define "subject"}}{{.Nope`), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := templates.New(dir); err == nil || !strings.Contains(err.Error(), "confirmed.txt") {
			t.Fatalf("New with a broken template = %v", err)
		}
	})
	t.Run("MissingDir", func(t *testing.T) {
		if _, err := templates.New(filepath.Join(dir, "nope")); err == nil {
			t.Fatal("New with a missing folder succeeded")
		}
	})
	t.Run("MissingField", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "unsure.txt"), []byte(`{{define "subject"}}x{{end}}{{define "text"}}{{.Agreement.Nonexistent}}{{end}}`), 0o644)
		set, err := templates.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := set.Render("unsure", fixture(agreements.MailUnsure)); err == nil {
			t.Fatal("a template using a field that does not exist rendered")
		}
	})
}

// TestNotices renders every notice to the person who acted and to the
// other person: each has its words, speaks to its reader as "you" when
// they acted and by name when the other did, and shows no ISO date.
func TestNotices(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	isoDate := regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)
	for _, n := range agreements.Notices {
		for _, acted := range []string{"Alice", "Bob"} {
			if acted == "Alice" && (n == agreements.NoticeNotYours || n == agreements.NoticeResumeWished || n == agreements.NoticeCorrected) {
				continue // their Author is always the other person
			}
			t.Run(string(n)+"/"+acted+"Acted", func(t *testing.T) {
				d := fixture(agreements.MailNotice) // to Alice
				d.Notice, d.Author, d.Until = n, &d.Others[0], time.Time{}
				if acted == "Alice" {
					d.Author = &d.Recipient
				}
				d.Status, d.Command, d.Count = agreements.StatusActive, "dance", 2
				d.History = []agreements.MailHistory{{Round: "2026-11-22", Party: "Bob", Marks: "~"}}
				d.Round, d.Answer = "2026-11-29", &agreements.CheckInAnswer{Statuses: map[int]string{1: "partly"}, PositiveOther: "you called"}
				subject, text, html, err := set.Render(string(agreements.MailNotice), d)
				if err != nil {
					t.Fatal(err)
				}
				body, _, _ := strings.Cut(text, "\n-- \n")
				if subject == "" || strings.Count(body, "\n") < 4 || !strings.Contains(html, "<p>") {
					t.Fatalf("a notice without words:\n%s\n%s", subject, text)
				}
				_, words, _ := strings.Cut(body, "your agreement with Bob:\n") // the notice's own words
				if isoDate.MatchString(body) {
					t.Errorf("an ISO date in the body:\n%s", body)
				}
				switch {
				case strings.Contains(body, "themselves"), strings.Contains(strings.TrimPrefix(body, "Hello Alice,"), "Alice"):
					t.Errorf("Alice is spoken of, not to:\n%s", body)
				case (n == agreements.NoticePausedForNow || n == agreements.NoticeStillPaused) && (strings.Contains(words, "Bob") || strings.Contains(words, "unsubscribe")):
					t.Errorf("tells Alice what is Bob's to tell:\n%s", body)
				case acted == "Bob" && strings.Contains(body, "You ") && !strings.Contains(body, "Bob"):
					t.Errorf("Bob's act is told as Alice's:\n%s", body)
				}
			})
		}
	}
	t.Run("Unknown", func(t *testing.T) {
		d := fixture(agreements.MailNotice)
		d.Notice = "dance"
		if _, _, _, err := set.Render(string(agreements.MailNotice), d); err == nil || !strings.Contains(err.Error(), `no words for the notice "dance"`) {
			t.Fatalf("Render of an unknown notice = %v", err)
		}
	})
	t.Run("Missing", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "notices.txt"), []byte(`{{define "help.title"}}Help{{end}}{{define "help"}}Words{{end}}`), 0o644)
		if _, err := templates.New(dir); err == nil || !strings.Contains(err.Error(), `notices.txt does not define "fewer-mails.title"`) {
			t.Fatalf("New without every notice's words = %v", err)
		}
	})
}

// TestReceipt_CheckIn: a check-in's receipt names each commitment by its
// words with what was recorded, says which it could not tell and how to
// fix that, and labels the kind words; in both parts.
func TestReceipt_CheckIn(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	d := fixture(agreements.MailReceipt)
	d.Confirmed, d.Round, d.Quote = 0, "2026-11-29", "1 kept. Something good about Bob: he asked first"
	d.Answer = &agreements.CheckInAnswer{Statuses: map[int]string{1: "kept"}, PositiveOther: "he asked first", Text: d.Quote}
	_, text, html, err := set.Render(string(d.Kind), d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Call or text before 18:00 when I will be home after 19:00: kept",
		"Something good about Bob: he asked first",
		`We could not tell how "Tell Bob myself when plans change, before he hears it fro..." went. Reply "fix: 2 kept"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text part lacks %q:\n%s", want, text)
		}
		if w := strings.ReplaceAll(want, `"`, "&#34;"); !strings.Contains(html, w) {
			t.Errorf("the HTML part lacks %q", w)
		}
	}
	if strings.Contains(text, "Your words, as they are below\n") {
		t.Errorf("an answer that was read is shown as unread:\n%s", text)
	}

	// Nothing read but words: they are recorded as they are.
	d.Answer = &agreements.CheckInAnswer{Text: "a hard week"}
	if _, text, _, err = set.Render(string(d.Kind), d); err != nil || !strings.Contains(text, "- Your words, as they are below") || strings.Count(text, "We could not tell how") != 2 {
		t.Fatalf("words alone (%v):\n%s", err, text)
	}
}

// TestGolden_Consistent reads the golden mails as a reader would and
// fails on what VOICE.md rules out or what contradicts itself: an ISO date
// or a UTC offset, a Message-ID or an authentication result, "themselves",
// a day whose weekday is wrong, a check-in open until before its day.
func TestGolden_Consistent(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden mails: %v", err)
	}
	year := mailtest.Now.Year()
	dayRE := regexp.MustCompile(`(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday) (\d{1,2}) (January|February|March|April|May|June|July|August|September|October|November|December)`)
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The body: after the subject line, before the footer.
		body, _, _ := strings.Cut(string(raw), "\n-- \n")
		for _, bad := range []*regexp.Regexp{
			regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}\b`),
			regexp.MustCompile(`\bUTC\b|\bGMT\b|[+-]\d{4}\b|\+\d{2}:\d{2}\b`),
			regexp.MustCompile(`<[^<>\s]+@[^<>\s]+>`),
			regexp.MustCompile(`(?i)message-id|authentication|dkim=|\btoken\b`),
			regexp.MustCompile(`\bthemselves\b`),
		} {
			for _, line := range strings.Split(body, "\n") {
				if m := bad.FindString(line); m != "" && !isPartyAddress(line, m) {
					t.Errorf("%s: %q in %q", f, m, line)
				}
			}
		}
		var days []time.Time
		for _, m := range dayRE.FindAllStringSubmatch(body, -1) {
			d, _ := time.Parse("2 January 2006", m[2]+" "+m[3]+" "+strconv.Itoa(year))
			if d.Weekday().String() != m[1] {
				t.Errorf("%s: %q is a %s in %d", f, m[0], d.Weekday(), year)
			}
			days = append(days, d)
		}
		if kind := strings.TrimSuffix(filepath.Base(f), ".txt"); kind == "checkin" || kind == "nudge" {
			if len(days) == 0 {
				t.Errorf("%s: no day in words", f)
			}
			for i := 1; i < len(days); i++ {
				if days[i].Before(days[0]) {
					t.Errorf("%s: open until %v, before the day of the check-in, %v", f, days[i].Format("2 January"), days[0].Format("2 January"))
				}
			}
		}
	}
}

// isPartyAddress reports whether m, in line, is a person's address shown
// with their name ("Alice Example <alice@example.test>"), which a mail may
// show, and not a Message-ID.
func isPartyAddress(line, m string) bool {
	return strings.HasPrefix(m, "<") && strings.Contains(line, " "+m) && !strings.Contains(strings.ToLower(line), "message")
}

// TestCheckIn_OneCommitment: a reader with one commitment is asked about
// it, and shown an example that fits it.
func TestCheckIn_OneCommitment(t *testing.T) {
	set, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []agreements.MailKind{agreements.MailCheckIn, agreements.MailNudge} {
		d := fixture(kind)
		d.Recipient, d.Others[0] = d.Others[0], d.Recipient // to Bob, who has one
		_, text, html, err := set.Render(string(kind), d)
		if err != nil {
			t.Fatal(err)
		}
		for name, body := range map[string]string{"text": text, "html": html} {
			if strings.Contains(body, "2 partly") || strings.Contains(body, "each of your commitments") {
				t.Errorf("%s %s part speaks of two commitments to one who has one:\n%s", kind, name, body)
			}
		}
		if !strings.Contains(text, "kept") {
			t.Errorf("%s: no example:\n%s", kind, text)
		}
	}
}
