package mailout_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/inwriting/inwriting/internal/mailstack"
)

// harmless are the SpamAssassin rules that say nothing about a message
// itself: it did not travel through any server yet (no Received, no
// relays), and it has an HTML part, as most mail does.
var harmless = []string{"NO_RECEIVED", "NO_RELAYS", "HTML_MESSAGE"}

// TestGolden_SpamAssassin runs every golden message through SpamAssassin's
// local tests (Debian's spamassassin; scripts/mailstack installs it) and
// fails on a score of 1.0 or more, or on any rule beyond the harmless
// ones: each names a defect of the message, which a template change has
// brought in.
func TestGolden_SpamAssassin(t *testing.T) {
	sa, err := exec.LookPath("spamassassin")
	if err != nil {
		if os.Getenv(mailstack.RequiredEnv) == "1" {
			t.Fatal("spamassassin is not installed; scripts/mailstack up installs it")
		}
		t.Skip("spamassassin is not installed; scripts/mailstack up installs it")
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) < 15 {
		t.Fatalf("%d golden messages: %v", len(files), err)
	}
	statusRE := regexp.MustCompile(`(?m)^X-Spam-Status: (?:Yes|No), score=(-?[0-9.]+) required=[0-9.]+ tests=(\S*)`)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".eml"), func(t *testing.T) {
			t.Parallel()
			in, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer in.Close()
			cmd := exec.Command(sa, "-t", "-L", "-p", os.DevNull, "--cf=use_bayes 0", "--cf=bayes_auto_learn 0")
			cmd.Stdin = in
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("spamassassin: %v", err)
			}
			unfolded := strings.ReplaceAll(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n\t", "")
			m := statusRE.FindStringSubmatch(unfolded)
			if m == nil {
				t.Fatalf("no X-Spam-Status in spamassassin's answer:\n%s", out)
			}
			score, _ := strconv.ParseFloat(m[1], 64)
			var defects []string
			for _, rule := range strings.Split(m[2], ",") {
				if rule != "" && rule != "none" && !slices.Contains(harmless, rule) {
					defects = append(defects, rule)
				}
			}
			if score >= 1.0 || len(defects) > 0 {
				t.Fatalf("score %.1f, rules beyond the harmless ones: %v\n%s", score, defects, out)
			}
		})
	}
}
