package agreements_test

import (
	"slices"
	"testing"

	"github.com/inwriting/inwriting/agreements"
)

func TestReplyAddress(t *testing.T) {
	db := MustOpenDB(t)
	a := mustCreate(t, db)
	tok, err := db.IssueToken(t.Context(), a.Terms.Parties[0].ID, agreements.PurposeCommands, 0)
	if err != nil {
		t.Fatal(err)
	}
	addr := agreements.ReplyAddress("service@example.test", tok.Value)
	if want := "service+" + tok.Value + "@example.test"; addr != want {
		t.Fatalf("ReplyAddress = %q, want %q", addr, want)
	}
	if got := agreements.ReplyAddress("service@example.test", ""); got != "service@example.test" {
		t.Fatalf("ReplyAddress without a token = %q", got)
	}
	subject := "Re: Check-in " + agreements.SubjectTag(tok.Value)
	for _, tt := range []struct {
		name  string
		addrs []string
		texts []string
		want  []string
	}{
		{"Address", []string{addr}, nil, []string{tok.Value}},
		{"AddressAnyCase", []string{"Service+" + tok.Value + "@Example.TEST"}, nil, []string{tok.Value}},
		{"Tag", nil, []string{subject}, []string{tok.Value}},
		{"BothOnce", []string{addr}, []string{subject}, []string{tok.Value}},
		{"OtherDomain", []string{"service+" + tok.Value + "@elsewhere.test"}, nil, nil},
		{"OtherMailbox", []string{"someone+" + tok.Value + "@example.test"}, nil, nil},
		{"TagTooShort", nil, []string{"[ref abc]"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := agreements.FindTokens("service@example.test", tt.addrs, tt.texts...); !slices.Equal(got, tt.want) {
				t.Fatalf("FindTokens = %q, want %q", got, tt.want)
			}
		})
	}
	for addr, want := range map[string]bool{"service@example.test": true, "SERVICE+x@example.test": true, "service@other.test": false, "alice@example.test": false, "": false} {
		if got := agreements.IsServiceAddress(addr, "service@example.test"); got != want {
			t.Errorf("IsServiceAddress(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestWithoutTags(t *testing.T) {
	tag := agreements.SubjectTag("abcdefghijklmnopqrstuvwx")
	for in, want := range map[string]string{
		"unsubscribe " + tag:        "unsubscribe",
		"Re: Check-in " + tag + " ": "Re: Check-in",
		"[ref abc] stays":           "[ref abc] stays",
		"":                          "",
	} {
		if got := agreements.WithoutTags(in); got != want {
			t.Errorf("WithoutTags(%q) = %q, want %q", in, got, want)
		}
	}
}
