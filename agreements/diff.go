package agreements

import "strings"

// ChangedLines returns the lines of canonical text old that new removes
// ("- " and the line) and the lines it adds ("+ " and the line), in the
// order they come, from a line-by-line longest common subsequence. The
// "Version:" line and blank lines are left out: they say nothing about
// what changed.
func ChangedLines(old, new string) []string {
	a, b := strings.Split(old, "\n"), strings.Split(new, "\n")
	// lcs[i][j] is the length of the longest common subsequence of a[i:]
	// and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	add := func(prefix, l string) {
		if !strings.HasPrefix(l, "Version: ") && strings.TrimSpace(l) != "" {
			out = append(out, prefix+l)
		}
	}
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			i, j = i+1, j+1
		case j < len(b) && (i == len(a) || lcs[i][j+1] >= lcs[i+1][j]):
			add("+ ", b[j])
			j++
		default:
			add("- ", a[i])
			i++
		}
	}
	return out
}
