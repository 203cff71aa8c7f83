package agreements

import "strings"

// ChangedLines returns the lines of canonical text old that new removes
// ("- " and the line) and the lines it adds ("+ " and the line), in the
// order they come (what a change removes before what it adds), from a
// line-by-line longest common subsequence. Before the changes under a
// heading ("Bob Example <bob@example.test> will:") comes the heading, as
// context ("  " and the line), so that a numbered line says whose it is.
// The "Version:" line and blank lines are left out: they say nothing
// about what changed.
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
	heading := "" // the heading the lines now come under, until shown
	add := func(prefix, l string) {
		if strings.HasPrefix(l, "Version: ") || strings.TrimSpace(l) == "" {
			return
		}
		if heading != "" {
			out = append(out, "  "+heading)
			heading = ""
		}
		out = append(out, prefix+l)
	}
	isHeading := func(l string) bool { return strings.HasSuffix(l, ":") && !strings.HasPrefix(l, " ") }
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			switch {
			case isHeading(a[i]):
				heading = a[i]
			case a[i] == "": // the end of a section
				heading = ""
			}
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			add("- ", a[i])
			i++
		default:
			add("+ ", b[j])
			j++
		}
	}
	return out
}
