package mailin_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/inwriting/inwriting/mailin"
)

// corpusDir is the shared reply corpus, beside the project in CI.
const corpusDir = "../../shared/corpus/replies"

// Targets: pooled over the real-world folders, and for the synthetic one.
const (
	realWorldTarget = 0.95
	syntheticTarget = 0.95
	syntheticSource = "web-ridge-email-reply-parser"
)

// knownDisagreements are the cases on which the corpus's sources
// contradict each other (see its README).
var knownDisagreements = map[string]bool{
	"mailgun-talon/iphone":              true, // talon keeps "Sent from my iPhone"; GitHub's and Discourse's fixtures drop it
	"mailgun-talon/sparrow":             true, // talon keeps a "-- " signature
	"mailgun-talon-signature/short_url": true, // drops "Thank you,\nNoam"; Discourse keeps a sign-off with a first name
}

type corpusCase struct {
	source, name, input, expected, compare string
}

func loadCorpus(t *testing.T) []corpusCase {
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Skipf("the reply corpus is not here (%v): it lies beside the project in CI and in developers' sessions, not in a user's clone", err)
	}
	defer f.Close()
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 5 {
			continue
		}
		cases = append(cases, corpusCase{source: c[0], name: c[1], input: c[2], expected: c[3], compare: c[4]})
	}
	return cases
}

// normalize applies the corpus's "normalized" rule.
func normalize(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.TrimFunc(strings.Join(lines, "\n"), unicode.IsSpace)
}

func nows(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// readCase returns the reply text the service reads from a case's input.
func readCase(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	switch filepath.Ext(path) {
	case ".eml":
		m, err := mailin.ParseMessage(raw, mailin.ParseOptions{})
		if err != nil {
			return "", err
		}
		return mailin.Trim(m.Body).Text, nil
	case ".html":
		return mailin.Trim(mailin.HTMLToText(string(raw))).Text, nil
	}
	return mailin.Trim(string(raw)).Text, nil
}

// TestCorpus scores the reply reader against the shared corpus and prints
// the exact-match rate per source folder.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	type score struct {
		ok, total int
		failed    []string
	}
	scores := map[string]*score{}
	for _, c := range cases {
		s := scores[c.source]
		if s == nil {
			s = &score{}
			scores[c.source] = s
		}
		s.total++
		got, err := readCase(filepath.Join(corpusDir, c.input))
		want, rerr := os.ReadFile(filepath.Join(corpusDir, c.expected))
		if rerr != nil {
			t.Fatal(rerr)
		}
		match := false
		if err == nil {
			if c.compare == "nows" {
				match = nows(got) == nows(string(want))
			} else {
				match = normalize(got) == normalize(string(want))
			}
		}
		if match {
			s.ok++
			continue
		}
		s.failed = append(s.failed, c.name)
		if os.Getenv("CORPUS_DIFF") != "" && (os.Getenv("CORPUS_DIFF") == c.source || os.Getenv("CORPUS_DIFF") == "all") {
			t.Logf("%s/%s:\n--- got\n%s\n--- want\n%s\n--- err %v", c.source, c.name, normalize(got), normalize(string(want)), err)
		}
	}
	var sources []string
	for s := range scores {
		sources = append(sources, s)
	}
	sort.Strings(sources)
	var realOK, realTotal int
	var report strings.Builder
	for _, src := range sources {
		s := scores[src]
		fmt.Fprintf(&report, "  %-32s %4d/%-4d %5.1f%%", src, s.ok, s.total, 100*float64(s.ok)/float64(s.total))
		if len(s.failed) > 0 && len(s.failed) <= 12 {
			fmt.Fprintf(&report, "  failing: %s", strings.Join(s.failed, ", "))
		} else if len(s.failed) > 12 {
			fmt.Fprintf(&report, "  failing: %s, … (%d)", strings.Join(s.failed[:12], ", "), len(s.failed))
		}
		report.WriteString("\n")
		if src != syntheticSource {
			realOK += s.ok
			realTotal += s.total
		}
	}
	real := float64(realOK) / float64(realTotal)
	// The cases where the sources disagree by design (the corpus README's
	// "Known disagreements"): talon keeps the device and "-- " signatures
	// that the other sources drop, and talon-signature drops the sign-off
	// with a first name that Discourse keeps. The goal of 97% for
	// the real-world folders cannot be met without contradicting the
	// others; the score without these cases is printed beside it.
	disagree, failedOther := 0, 0
	for _, src := range sources {
		if src == syntheticSource {
			continue
		}
		for _, name := range scores[src].failed {
			if knownDisagreements[src+"/"+name] {
				disagree++
			} else {
				failedOther++
			}
		}
	}
	syn := scores[syntheticSource]
	synthetic := float64(syn.ok) / float64(syn.total)
	fmt.Fprintf(&report, "  real-world folders pooled:       %4d/%-4d %5.1f%% (target %.0f%%)\n", realOK, realTotal, 100*real, 100*realWorldTarget)
	fmt.Fprintf(&report, "  real-world, less %d documented disagreements: %d/%d (goal 97%%)\n", disagree, realTotal-disagree-failedOther, realTotal-disagree)
	fmt.Fprintf(&report, "  synthetic (web-ridge):           %4d/%-4d %5.1f%% (target %.0f%%)\n", syn.ok, syn.total, 100*synthetic, 100*syntheticTarget)
	// Printed on every run, so the score is in the test command's output.
	fmt.Printf("reply corpus score:\n%s", report.String())
	if real < realWorldTarget || synthetic < syntheticTarget {
		t.Errorf("the reply corpus score is below target:\n%s", report.String())
	}
}
