package mailin_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/inwriting/inwriting/mailin"
)

// mailKindsDir is the shared corpus of labelled whole messages.
const mailKindsDir = "../../shared/corpus/mailkinds"

// Targets for the mail-kinds corpus.
const (
	maxPeopleAsMachines = 0    // never ignore a person
	maxMachinesAsPeople = 0.01 // of the machine mail
	minBounces          = 0.97 // of the bounces, recognised as bounces
)

// TestMailKinds scores the machine-mail classifier against the shared
// corpus and prints the score (scripts/test shows it).
func TestMailKinds(t *testing.T) {
	f, err := os.Open(filepath.Join(mailKindsDir, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("the mail-kinds corpus is not here (%v): it lies beside the project in CI and in developers' sessions, not in a user's clone", err)
	}
	defer f.Close()
	var people, machines, bounces, peopleAsMachines, machinesAsPeople, bouncesFound int
	var wrong []string
	byKind := map[string]int{}
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		c := strings.Split(sc.Text(), "\t")
		if first || len(c) < 3 {
			continue
		}
		file, label := c[1], c[2]
		raw, err := os.ReadFile(filepath.Join(mailKindsDir, file))
		if err != nil {
			t.Fatal(err)
		}
		m, _ := mailin.ParseMessage(raw, mailin.ParseOptions{})
		kind := m.Auto.Kind
		byKind[string(kind)]++
		switch {
		case label == "human":
			people++
			if kind != mailin.Human {
				peopleAsMachines++
				wrong = append(wrong, fmt.Sprintf("person taken for %s (%s): %s", kind, m.Auto.Reason, file))
			}
		default:
			machines++
			if kind == mailin.Human {
				machinesAsPeople++
				wrong = append(wrong, fmt.Sprintf("%s taken for a person: %s", label, file))
			}
			if label == "bounce" {
				bounces++
				if kind == mailin.Bounce {
					bouncesFound++
				} else if kind != mailin.Human {
					wrong = append(wrong, fmt.Sprintf("bounce taken for %s (%s): %s", kind, m.Auto.Reason, file))
				}
			}
		}
	}
	sort.Strings(wrong)
	for _, w := range wrong {
		t.Log(w)
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	fmt.Printf("mail kinds score:\n")
	fmt.Printf("  people taken for machines   %3d/%d   (target %d)\n", peopleAsMachines, people, maxPeopleAsMachines)
	fmt.Printf("  machines taken for people   %3d/%d  %5.1f%% (target ≤ %.0f%%)\n", machinesAsPeople, machines, pct(machinesAsPeople, machines), 100*maxMachinesAsPeople)
	fmt.Printf("  bounces recognised          %3d/%d  %5.1f%% (target ≥ %.0f%%)\n", bouncesFound, bounces, pct(bouncesFound, bounces), 100*minBounces)
	if peopleAsMachines > maxPeopleAsMachines {
		t.Errorf("%d people taken for machines, want at most %d", peopleAsMachines, maxPeopleAsMachines)
	}
	if float64(machinesAsPeople) > maxMachinesAsPeople*float64(machines) {
		t.Errorf("%d of %d machine mails taken for people, want at most %.0f%%", machinesAsPeople, machines, 100*maxMachinesAsPeople)
	}
	if float64(bouncesFound) < minBounces*float64(bounces) {
		t.Errorf("%d of %d bounces recognised, want at least %.0f%%", bouncesFound, bounces, 100*minBounces)
	}
}
