package main

import (
	"io"
	"strings"
	"unicode/utf8"
)

// table renders rows the way glooctl does: bordered, headers centred,
// cells of several lines.
type table struct {
	headers []string
	rows    [][]string
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	widths := make([]int, len(t.headers))
	for i, h := range t.headers {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, r := range t.rows {
		for i, c := range r {
			for _, line := range strings.Split(c, "\n") {
				widths[i] = max(widths[i], utf8.RuneCountInString(line))
			}
		}
	}
	var b strings.Builder
	border := func() {
		for _, w := range widths {
			b.WriteString("+" + strings.Repeat("-", w+2))
		}
		b.WriteString("+\n")
	}
	border()
	for i, h := range t.headers {
		pad := widths[i] - utf8.RuneCountInString(h)
		b.WriteString("| " + strings.Repeat(" ", pad/2) + h + strings.Repeat(" ", pad-pad/2) + " ")
	}
	b.WriteString("|\n")
	border()
	for _, r := range t.rows {
		lines := 1
		for _, c := range r {
			lines = max(lines, strings.Count(c, "\n")+1)
		}
		for l := range lines {
			for i := range t.headers {
				var cell string
				if i < len(r) {
					if parts := strings.Split(r[i], "\n"); l < len(parts) {
						cell = parts[l]
					}
				}
				b.WriteString("| " + cell + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)) + " ")
			}
			b.WriteString("|\n")
		}
		border()
	}
	_, err := io.WriteString(w, b.String())
	return err
}
