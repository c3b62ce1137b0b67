package main

import (
	"io"
	"unicode/utf8"
)

// terminalSafe writes to a terminal what discovered documents, upstream
// answers and resource files put in gluonctl's output with every control
// character but tab and newline shown as '?': an escape sequence from an
// OpenAPI document must not move the cursor, rewrite the screen or set the
// window title of whoever runs gluonctl.
type terminalSafe struct{ w io.Writer }

func (t terminalSafe) Write(p []byte) (int, error) {
	clean, copied := p, false
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		if isControl(r, size) {
			if !copied { // p is the caller's: never written to
				clean, copied = append([]byte(nil), p...), true
			}
			for j := i; j < i+size; j++ {
				clean[j] = '?'
			}
		}
		i += size
	}
	if _, err := t.w.Write(clean); err != nil {
		return 0, err
	}
	return len(p), nil
}

// isControl is a C0 control (but tab and newline), DEL, or a C1 control
// (U+0080 to U+009F, which terminals also obey).
func isControl(r rune, size int) bool {
	if r == utf8.RuneError && size == 1 {
		return false // a byte that is not UTF-8 is no control sequence
	}
	return r < 0x20 && r != '\t' && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f
}
