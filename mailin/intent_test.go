package mailin_test

import (
	"testing"
	"time"

	"github.com/inwriting/inwriting/mailin"
)

func TestReadIntent_Confirmation(t *testing.T) {
	for _, tt := range []struct {
		text   string
		kind   mailin.IntentKind
		unsure bool
	}{
		// English: agree
		{"I agree", mailin.Agree, false},
		{"I agree.", mailin.Agree, false},
		{"i agree!", mailin.Agree, false},
		{"Agreed", mailin.Agree, false},
		{"Yes, I agree", mailin.Agree, false},
		{"Yes I agree.", mailin.Agree, false},
		{"I agree to this", mailin.Agree, false},
		{"I confirm", mailin.Agree, false},
		{"I accept.", mailin.Agree, false},
		{"👍", mailin.Agree, false},
		{"I agree\nAlice", mailin.Agree, false},
		{"I agree.\n\nThanks,\nAlice", mailin.Agree, false},
		{"  I   agree  ", mailin.Agree, false},
		// English: never agree
		{"I agree except point 2", mailin.Comment, true},
		{"I agree, except point 2", mailin.Comment, true},
		{"I don't agree", mailin.Comment, false},
		{"I do not agree", mailin.Comment, false},
		{"I disagree", mailin.Comment, false},
		{"agree?", mailin.Comment, true},
		{"I agree?", mailin.Comment, true},
		{"yes but…", mailin.Comment, true},
		{"yes, but can we change the time?", mailin.Comment, true},
		{"I'd agree if you change point 2", mailin.Comment, true},
		{"I would agree if Bob calls more", mailin.Comment, true},
		{"I agree\nbut not with point 2", mailin.Comment, false},
		{"I agree with most of it", mailin.Comment, true},
		{"I agree with point 1 only", mailin.Comment, true},
		{"I agree in principle", mailin.Comment, true},
		{"yes", mailin.Comment, true},
		{"ok", mailin.Comment, true},
		{"sure", mailin.Comment, true},
		{"Not yet, I need to think", mailin.Comment, false},
		{"no", mailin.Comment, false},
		{"👍 but let's talk", mailin.Comment, true},
		{"👎", mailin.Comment, false},
		{"Can we talk about it first?", mailin.Comment, false},
		{"I agree. Also, I think point 2 should say 17:30.", mailin.Comment, true},
		{"", mailin.Comment, false},
		// English: decline
		{"I decline", mailin.Decline, false},
		{"Decline.", mailin.Decline, false},
		{"I refuse", mailin.Decline, false},
		// French
		{"Je suis d'accord", mailin.Agree, false},
		{"Je suis d’accord.", mailin.Agree, false},
		{"D'accord", mailin.Agree, false},
		{"Oui, je suis d'accord", mailin.Agree, false},
		{"J'accepte", mailin.Agree, false},
		{"Je ne suis pas d'accord", mailin.Comment, false},
		{"Je suis d'accord sauf le point 2", mailin.Comment, true},
		{"D'accord ?", mailin.Comment, true},
		{"Je refuse", mailin.Decline, false},
		// German
		{"Ich stimme zu", mailin.Agree, false},
		{"Einverstanden!", mailin.Agree, false},
		{"Ja, ich stimme zu.", mailin.Agree, false},
		{"Ich bin einverstanden", mailin.Agree, false},
		{"Ich stimme nicht zu", mailin.Comment, false},
		{"Ich stimme zu, außer Punkt 2", mailin.Comment, true},
		{"Nicht einverstanden", mailin.Comment, false},
		{"Ich lehne ab", mailin.Decline, false},
		// Spanish
		{"Estoy de acuerdo", mailin.Agree, false},
		{"De acuerdo.", mailin.Agree, false},
		{"Sí, estoy de acuerdo", mailin.Agree, false},
		{"Acepto", mailin.Agree, false},
		{"No estoy de acuerdo", mailin.Comment, false},
		{"Estoy de acuerdo excepto el punto 2", mailin.Comment, true},
		{"Rechazo", mailin.Decline, false},
		// Dutch
		{"Ik ga akkoord", mailin.Agree, false},
		{"Akkoord", mailin.Agree, false},
		{"Ja, ik ga akkoord", mailin.Agree, false},
		{"Ik ben het ermee eens", mailin.Agree, false},
		{"Ik ga niet akkoord", mailin.Comment, false},
		{"Akkoord, behalve punt 2", mailin.Comment, true},
		{"Ik weiger", mailin.Decline, false},
		// Portuguese
		{"Eu concordo", mailin.Agree, false},
		{"Concordo", mailin.Agree, false},
		{"Sim, concordo", mailin.Agree, false},
		{"De acordo", mailin.Agree, false},
		{"Não concordo", mailin.Comment, false},
		{"Concordo, exceto o ponto 2", mailin.Comment, true},
		{"Recuso", mailin.Decline, false},
	} {
		t.Run(tt.text, func(t *testing.T) {
			got := mailin.ReadIntent(tt.text, mailin.ExpectConfirmation, nil)
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
		{"help?", "", "", ""},
		{"unsubscribe", "unsubscribe", "", ""},
		{"fix: 2 was partly kept", "fix", "", "2 was partly kept"},
		{"Fix:\n1 kept, 2 missed", "fix", "", "1 kept, 2 missed"},
		{"please stop sending me these", "", "", ""},
		{"pause until someday", "", "", ""},
		{"I will pause for a bit and resume later", "", "", ""},
	} {
		t.Run(tt.text, func(t *testing.T) {
			for _, expect := range []mailin.Expect{mailin.ExpectConfirmation, mailin.ExpectCheckIn, mailin.ExpectNothing} {
				got := mailin.ReadIntent(tt.text, expect, []string{"a", "b"})
				if tt.command == "" {
					if got.Kind == mailin.Command {
						t.Fatalf("ReadIntent(%q) = command %s, want no command", tt.text, got.Command)
					}
					continue
				}
				if got.Kind != mailin.Command || got.Command != tt.command || got.Fix != tt.fix {
					t.Fatalf("ReadIntent(%q) = %+v, want command %s", tt.text, got, tt.command)
				}
				if tt.until != "" {
					if want, _ := time.Parse("2006-01-02", tt.until); !got.Until.Equal(want) {
						t.Fatalf("Until = %v, want %v", got.Until, want)
					}
				} else if !got.Until.IsZero() {
					t.Fatalf("Until = %v, want none", got.Until)
				}
			}
		})
	}
}

func TestReadIntent_OtherMail(t *testing.T) {
	if got := mailin.ReadIntent("I agree", mailin.ExpectNothing, nil); got.Kind != mailin.Comment {
		t.Fatalf("I agree to a mail that asked nothing = %s, want comment", got.Kind)
	}
	if got := mailin.ReadIntent("I agree", mailin.ExpectCheckIn, []string{"a"}); got.Kind != mailin.CheckIn || got.CheckIn == nil {
		t.Fatalf("a check-in reply = %+v", got)
	}
}
