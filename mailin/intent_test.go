package mailin_test

import (
	"testing"
	"time"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailin"
)

func TestReadIntent_Confirmation(t *testing.T) {
	for _, tt := range []struct {
		text   string
		kind   agreements.IntentKind
		unsure bool
	}{
		// English: agree
		{"I agree", agreements.IntentAgree, false},
		{"I agree.", agreements.IntentAgree, false},
		{"i agree!", agreements.IntentAgree, false},
		{"Agreed", agreements.IntentAgree, false},
		{"Yes, I agree", agreements.IntentAgree, false},
		{"Yes I agree.", agreements.IntentAgree, false},
		{"I agree to this", agreements.IntentAgree, false},
		{"I confirm", agreements.IntentAgree, false},
		{"I accept.", agreements.IntentAgree, false},
		{"👍", agreements.IntentAgree, false},
		{"I agree\nAlice", agreements.IntentAgree, false},
		{"I agree.\n\nThanks,\nAlice", agreements.IntentAgree, false},
		{"  I   agree  ", agreements.IntentAgree, false},
		// English: never agree
		{"I agree except point 2", agreements.IntentComment, true},
		{"I agree, except point 2", agreements.IntentComment, true},
		{"I don't agree", agreements.IntentComment, false},
		{"I do not agree", agreements.IntentComment, false},
		{"I disagree", agreements.IntentComment, false},
		{"agree?", agreements.IntentComment, true},
		{"I agree?", agreements.IntentComment, true},
		{"yes but…", agreements.IntentComment, true},
		{"yes, but can we change the time?", agreements.IntentComment, true},
		{"I'd agree if you change point 2", agreements.IntentComment, true},
		{"I would agree if Bob calls more", agreements.IntentComment, true},
		{"I agree\nbut not with point 2", agreements.IntentComment, false},
		{"I agree with most of it", agreements.IntentComment, true},
		{"I agree with point 1 only", agreements.IntentComment, true},
		{"I agree in principle", agreements.IntentComment, true},
		{"yes", agreements.IntentComment, true},
		{"ok", agreements.IntentComment, true},
		{"sure", agreements.IntentComment, true},
		{"Not yet, I need to think", agreements.IntentComment, false},
		{"no", agreements.IntentComment, false},
		{"👍 but let's talk", agreements.IntentComment, true},
		{"👎", agreements.IntentComment, false},
		{"Can we talk about it first?", agreements.IntentComment, false},
		{"I agree. Also, I think point 2 should say 17:30.", agreements.IntentComment, true},
		{"", agreements.IntentUnclear, false},
		// English: decline
		{"I decline", agreements.IntentDecline, false},
		{"Decline.", agreements.IntentDecline, false},
		{"I refuse", agreements.IntentDecline, false},
		// French
		{"Je suis d'accord", agreements.IntentAgree, false},
		{"Je suis d’accord.", agreements.IntentAgree, false},
		{"D'accord", agreements.IntentAgree, false},
		{"Oui, je suis d'accord", agreements.IntentAgree, false},
		{"J'accepte", agreements.IntentAgree, false},
		{"Je ne suis pas d'accord", agreements.IntentComment, false},
		{"Je suis d'accord sauf le point 2", agreements.IntentComment, true},
		{"D'accord ?", agreements.IntentComment, true},
		{"Je refuse", agreements.IntentDecline, false},
		// German
		{"Ich stimme zu", agreements.IntentAgree, false},
		{"Einverstanden!", agreements.IntentAgree, false},
		{"Ja, ich stimme zu.", agreements.IntentAgree, false},
		{"Ich bin einverstanden", agreements.IntentAgree, false},
		{"Ich stimme nicht zu", agreements.IntentComment, false},
		{"Ich stimme zu, außer Punkt 2", agreements.IntentComment, true},
		{"Nicht einverstanden", agreements.IntentComment, false},
		{"Ich lehne ab", agreements.IntentDecline, false},
		// Spanish
		{"Estoy de acuerdo", agreements.IntentAgree, false},
		{"De acuerdo.", agreements.IntentAgree, false},
		{"Sí, estoy de acuerdo", agreements.IntentAgree, false},
		{"Acepto", agreements.IntentAgree, false},
		{"No estoy de acuerdo", agreements.IntentComment, false},
		{"Estoy de acuerdo excepto el punto 2", agreements.IntentComment, true},
		{"Rechazo", agreements.IntentDecline, false},
		// Dutch
		{"Ik ga akkoord", agreements.IntentAgree, false},
		{"Akkoord", agreements.IntentAgree, false},
		{"Ja, ik ga akkoord", agreements.IntentAgree, false},
		{"Ik ben het ermee eens", agreements.IntentAgree, false},
		{"Ik ga niet akkoord", agreements.IntentComment, false},
		{"Akkoord, behalve punt 2", agreements.IntentComment, true},
		{"Ik weiger", agreements.IntentDecline, false},
		// Portuguese
		{"Eu concordo", agreements.IntentAgree, false},
		{"Concordo", agreements.IntentAgree, false},
		{"Sim, concordo", agreements.IntentAgree, false},
		{"De acordo", agreements.IntentAgree, false},
		{"Não concordo", agreements.IntentComment, false},
		{"Concordo, exceto o ponto 2", agreements.IntentComment, true},
		{"Recuso", agreements.IntentDecline, false},
	} {
		t.Run(tt.text, func(t *testing.T) {
			got := read(tt.text, agreements.ReplyContext{Purpose: agreements.PurposeConfirm, Pending: true}).Intent
			if got.Kind != tt.kind || got.Unsure != tt.unsure {
				t.Fatalf("ReadIntent(%q) = %s unsure=%v, want %s unsure=%v", tt.text, got.Kind, got.Unsure, tt.kind, tt.unsure)
			}
		})
	}
}

func TestReadIntent_Commands(t *testing.T) {
	for _, tt := range []struct {
		text, command string
		until         string
		fix           string
	}{
		{"pause", "pause", "", ""},
		{"Pause.", "pause", "", ""},
		{"pause until 2027-01-10", "pause", "2027-01-10", ""},
		{"Pause until 10 January 2027", "pause", "2027-01-10", ""},
		{"pause until January 10, 2027", "pause", "2027-01-10", ""},
		{"resume", "resume", "", ""},
		{"STOP", "stop", "", ""},
		{"stop\n\nAlice", "stop", "", ""},
		{"history", "history", "", ""},
		{"help", "help", "", ""},
		{"help?", "help", "", ""},
		{"unsubscribe", "unsubscribe", "", ""},
		{"fix: 2 was partly kept", "fix", "", "2 was partly kept"},
		{"Fix:\n1 kept, 2 missed", "fix", "", "1 kept, 2 missed"},
		{"please stop sending me these", "stop-mail", "", ""},
		{"Please stop sending these.", "stop-mail", "", ""},
		{"Stop emailing me please", "stop-mail", "", ""},
		{"unsubscribe me", "unsubscribe", "", ""},
		{"Please pause.", "pause", "", ""},
		{"pause until 10 January", "pause", "2027-01-10", ""},
		{"Pause until the 10th of January.", "pause", "2027-01-10", ""},
		{"pause for two weeks", "pause", "2026-12-16", ""},
		{"Pause for 3 days please", "pause", "2026-12-05", ""},
		{"pause until Monday", "pause", "2026-12-07", ""},
		{"pause jusqu'au 10 janvier", "pause", "2027-01-10", ""},
		{"Pause bis 10. Januar", "pause", "2027-01-10", ""},
		{"pausa hasta el 10 de enero", "pause", "2027-01-10", ""},
		{"pauze tot 10 januari", "pause", "2027-01-10", ""},
		{"pausa até 10 de janeiro", "pause", "2027-01-10", ""},
		{"reprendre", "resume", "", ""},
		{"Fortsetzen, bitte", "resume", "", ""},
		{"hervatten", "resume", "", ""},
		{"aide", "help", "", ""},
		{"Hilfe", "help", "", ""},
		{"ayuda", "help", "", ""},
		{"historial", "history", "", ""},
		{"se désabonner", "unsubscribe", "", ""},
		{"abmelden", "unsubscribe", "", ""},
		{"pause until 31 February", "", "", ""},
		{"Please pause the check-ins until January 10", "pause", "2027-01-10", ""},
		{"I'd like to pause until the 10th", "pause", "2026-12-10", ""},
		{"pause till 10/12", "", "", ""},
		{"please stop", "stop-mail", "", ""},
		{"I want to stop", "stop-mail", "", ""},
		{"take me off this list", "unsubscribe", "", ""},
		{"Can we start again?", "resume", "", ""},
		{"Show me the history", "history", "", ""},
		{"What can I reply?", "help", "", ""},
		{"Please don't stop, I like these", "", "", ""},
		{"pause until someday", "", "", ""},
		{"I will pause for a bit and resume later", "", "", ""},
	} {
		t.Run(tt.text, func(t *testing.T) {
			for _, purpose := range []agreements.Purpose{agreements.PurposeConfirm, agreements.PurposeCheckIn, agreements.PurposeCommands} {
				// Wednesday 2 December 2026, 20:00 in Chicago: already the 3rd in UTC.
				rc := agreements.ReplyContext{Purpose: purpose, Pending: true, Commitments: []string{"a", "b"}, Now: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC), Location: chicago}
				got := read(tt.text, rc).Intent
				if tt.command == "" {
					if got.Kind == agreements.IntentCommand {
						t.Fatalf("ReadIntent(%q) = command %s, want no command", tt.text, got.Command)
					}
					continue
				}
				if got.Kind != agreements.IntentCommand || got.Command != tt.command || got.Fix != tt.fix {
					t.Fatalf("ReadIntent(%q) = %+v, want command %s", tt.text, got, tt.command)
				}
				if tt.until != "" {
					if want, _ := time.ParseInLocation("2006-01-02", tt.until, chicago); !got.Until.Equal(want) {
						t.Fatalf("Until = %v, want %v", got.Until, want)
					}
				} else if !got.Until.IsZero() {
					t.Fatalf("Until = %v, want none", got.Until)
				}
			}
		})
	}
}

// TestReadIntent_Amend: "amend:" and what follows, without the closing
// and the quoted mail, in the six languages; a reply that only mentions
// amending is not one.
func TestReadIntent_Amend(t *testing.T) {
	for _, tt := range []struct{ text, amend string }{
		{"amend:\nI will:\n1. Call before 17:00.", "I will:\n1. Call before 17:00."},
		{"Amend: Check in: every Saturday at 10:00", "Check in: every Saturday at 10:00"},
		{"amend:\nBob will:\n- Listen first.\n\nThanks,\nAlice", "Bob will:\n- Listen first."},
		{"amend:\nBob will:\n- Listen first.\nThanks!", "Bob will:\n- Listen first."},
		{"amend:\nBob will:\n- Listen first.\n\nAlice Example", "Bob will:\n- Listen first."},
		{"amend:\nBob will:\n- Listen first.\n\nOn Fri, 27 Nov 2026 at 10:00, inwriting <service@example.test> wrote:\n> Please confirm", "Bob will:\n- Listen first."},
		{"modifier:\nJe vais:\n- appeler", "Je vais:\n- appeler"},
		{"Ändern: Check in: every Sunday at 18:00", "Check in: every Sunday at 18:00"},
		{"amend:", ""},
	} {
		t.Run(tt.text, func(t *testing.T) {
			rc := agreements.ReplyContext{Purpose: agreements.PurposeCommands, Commitments: []string{"a"}, Now: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC), Location: chicago}
			got := read(tt.text, rc).Intent
			if got.Kind != agreements.IntentCommand || got.Command != agreements.CommandAmend || got.Amend != tt.amend {
				t.Fatalf("ReadIntent(%q) = %+v, want amend %q", tt.text, got, tt.amend)
			}
		})
	}
	for _, text := range []string{"I would like to amend point 2", "Can we amend this?", "We should talk about amendments: soon"} {
		rc := agreements.ReplyContext{Purpose: agreements.PurposeConfirm, Pending: true, Commitments: []string{"a"}}
		if got := read(text, rc).Intent; got.Command == agreements.CommandAmend {
			t.Errorf("ReadIntent(%q) = amend, want a comment", text)
		}
	}
}

func TestReadIntent_OtherMail(t *testing.T) {
	other := agreements.ReplyContext{Purpose: agreements.PurposeCommands, Commitments: []string{"a"}}
	if got := read("I agree", other); got.Intent.Kind != agreements.IntentUnclear {
		t.Fatalf("I agree to a mail that asked nothing = %s, want unclear", got.Intent.Kind)
	}
	checkin := agreements.ReplyContext{Purpose: agreements.PurposeCheckIn, Commitments: []string{"a"}}
	if got := read("I agree", checkin); got.Intent.Kind != agreements.IntentCheckIn || got.CheckIn == nil || got.CheckIn.Text != "I agree" {
		t.Fatalf("a check-in reply = %+v", got)
	}
	// A comment needs a version waiting for confirmation.
	active := agreements.ReplyContext{Purpose: agreements.PurposeConfirm, Commitments: []string{"a"}}
	if got := read("I would like to talk about this", active); got.Intent.Kind != agreements.IntentUnclear {
		t.Fatalf("words on a confirmed agreement = %s, want unclear", got.Intent.Kind)
	}
	// While a round waits, a check-in answer to any mail is one.
	open := agreements.ReplyContext{Purpose: agreements.PurposeCommands, RoundOpen: true, Commitments: []string{"Call before six", "Cook on Fridays"}, Others: []string{"Bob"}}
	for _, text := range []string{"All kept this week.", "kept both", "1 yes 2 no", "Bob cooked dinner on Tuesday, that was lovely."} {
		if got := read(text, open); got.Intent.Kind != agreements.IntentCheckIn {
			t.Fatalf("%q to the help mail while a round is open = %s, want checkin", text, got.Intent.Kind)
		}
	}
	if got := read("What does this mean?", open); got.Intent.Kind != agreements.IntentUnclear {
		t.Fatalf("a question while a round is open = %s, want unclear", got.Intent.Kind)
	}
	// Thanks are kept, not answered, and are no check-in.
	for _, text := range []string{"Thanks!", "Thank you :)", "ok", "Merci beaucoup.", "Danke\n\nAlice", "👍"} {
		if got := read(text, open); got.Intent.Kind != agreements.IntentAck {
			t.Fatalf("%q to a notice = %s, want ack", text, got.Intent.Kind)
		}
	}
	if got := read("Thanks, but what does this mean for Sunday?", open); got.Intent.Kind != agreements.IntentUnclear {
		t.Fatalf("a question with thanks = %s, want unclear", got.Intent.Kind)
	}
}

var chicago = func() *time.Location {
	loc, err := time.LoadLocation("America/Chicago")
	if err != nil {
		panic(err)
	}
	return loc
}()

// read reads text as a reply in context rc, as the store does.
func read(text string, rc agreements.ReplyContext) agreements.Reading {
	return mailin.Reader{}.ReadReply(agreements.ReplyMessage{Body: text}, rc)
}
